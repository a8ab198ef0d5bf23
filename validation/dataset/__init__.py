"""Data-set definitions. ``DATASET`` is the IAPT v1.5 definition used by readers, engine and reports."""

from validation.dataset.iapt_v1_5 import DATASET

__all__ = ["DATASET"]
