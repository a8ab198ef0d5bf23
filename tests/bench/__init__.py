"""Performance benchmark of issue #4 (not collected by pytest): ``python -m tests.bench.run --help``."""
