"""Reliability: hostile and broken uploads (issue #8)."""
