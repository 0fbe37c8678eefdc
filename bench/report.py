"""The load test's arithmetic and its report: percentiles, rates, memory growth, the markdown table.
Standard library only (bench/run.py runs it from the load tester's venv, the unit tests from the project's)."""

import math
from typing import Sequence


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile, linearly interpolated between the closest ranks (numpy's default); nan when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
