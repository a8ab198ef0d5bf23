"""Wall time, CPU time and memory of the phases of one task run, logged as one line at the end.

``process_submission`` wraps each phase (validate, derive, load, artefacts, record) in ``phases(name)``;
``phases.log()`` then writes ``Submission <id> phases {json}`` at INFO on ``submissions.tasks``, e.g.::

    {"validate": {"s": 11.2, "cpu": 10.1, "rss_mb": 640, "peak_mb": 1890}, ..., "total": {...}}

``s`` is wall seconds, ``cpu`` the process's CPU seconds (every thread: polars runs in several),
``rss_mb`` the resident set at the end of the phase and ``peak_mb`` the process's high-water mark so far
(``VmHWM``; it only grows, so the phase where it jumps is the one that set the peak). The benchmark
(``tests/bench/run.py``, end-to-end step) reads this line from the worker's log.

With ``PHASES_RESET_PEAK=1`` in the environment (the benchmark sets it), the high-water mark is reset at the
start of each phase (``/proc/self/clear_refs``), so ``peak_mb`` is that phase's own peak, and ``total``
keeps the maximum over the run; the process's ``VmHWM`` then no longer shows the run's peak (read ``total``).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def _status_mb(key: str) -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


class Phases:
    def __init__(self) -> None:
        self.timings: dict[str, dict[str, Any]] = {}
        self._t0 = time.perf_counter()
        self._c0 = time.process_time()
        self._reset = os.environ.get("PHASES_RESET_PEAK") == "1"
        self._peak = _status_mb("VmHWM")

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        if self._reset:
            self._peak = max(self._peak, _status_mb("VmHWM"))
            _reset_peak()
        t, c = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            peak = _status_mb("VmHWM")
            self._peak = max(self._peak, peak)
            self.timings[name] = {
                "s": round(time.perf_counter() - t, 3),
                "cpu": round(time.process_time() - c, 3),
                "rss_mb": _status_mb("VmRSS"),
                "peak_mb": peak,
            }

    def in_thread(self, name: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` timed as phase ``name`` from another thread: ``cpu`` is that thread's
        own CPU time (work it hands to polars' thread pool is counted in the phases running meanwhile)."""
        t, c = time.perf_counter(), time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            self.timings[name] = {
                "s": round(time.perf_counter() - t, 3),
                "cpu": round(time.thread_time() - c, 3),
                "rss_mb": _status_mb("VmRSS"),
                "peak_mb": _status_mb("VmHWM"),
            }

    def iter(self, name: str, items: Iterable[T]) -> Iterator[T]:
        """``items`` timed as phase ``name`` by whichever thread consumes them (first item to exhaustion);
        ``cpu`` is that thread's own CPU time."""
        t, c = time.perf_counter(), time.thread_time()
        try:
            yield from items
        finally:
            self.timings[name] = {
                "s": round(time.perf_counter() - t, 3),
                "cpu": round(time.thread_time() - c, 3),
                "rss_mb": _status_mb("VmRSS"),
                "peak_mb": _status_mb("VmHWM"),
            }

    def summary(self) -> dict[str, dict[str, Any]]:
        total = {
            "s": round(time.perf_counter() - self._t0, 3),
            "cpu": round(time.process_time() - self._c0, 3),
            "rss_mb": _status_mb("VmRSS"),
            "peak_mb": max(self._peak, _status_mb("VmHWM")),
        }
        return {**self.timings, "total": total}

    def log(self, logger: logging.Logger, submission_id: int) -> None:
        logger.info("Submission %s phases %s", submission_id, json.dumps(self.summary()))
