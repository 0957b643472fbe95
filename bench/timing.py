"""The one way benchmarks here time a repeated action: a warm-up, then the median."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def p50_ms(action: Callable[[], Any], runs: int = 5) -> tuple[float, Any]:
    """(median milliseconds of ``runs`` calls, the warm-up call's result to check)."""
    result = action()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result
