"""The instants tests run at. Every test runs with the project's clock frozen (tests/conftest.py `clock`):
at DEFAULT_INSTANT unless it says otherwise, and the date-sensitive suites at each instant of SPREAD too.
A failing test names its instant: in its id (`[Sat 2026-12-05 15:00Z]`) or in the report's "clock" section."""

import time
from datetime import datetime, timedelta, timezone
from typing import List

import pytest
import time_machine

UTC = timezone.utc

# A Wednesday: 16:00 in Cotonou (UTC+1), 09:00 in Guatemala City (UTC-6): both markets' shops and agents open.
DEFAULT_INSTANT = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)

WEEK = [datetime(2026, 11, 30, 15, 0, tzinfo=UTC) + timedelta(days=d) for d in range(7)]  # Monday to Sunday
MONTH_END = [datetime(2027, 2, 28, 15, 0, tzinfo=UTC)]  # a Sunday; the next day is March
# Two minutes either side of midnight in each market's zone (neither observes daylight saving time).
MIDNIGHTS = [
    datetime(2026, 12, 5, 22, 58, tzinfo=UTC),  # Saturday 23:58 in Cotonou
    datetime(2026, 12, 5, 23, 2, tzinfo=UTC),  # Sunday 00:02 in Cotonou
    datetime(2026, 12, 5, 5, 58, tzinfo=UTC),  # Friday 23:58 in Guatemala City
    datetime(2026, 12, 5, 6, 2, tzinfo=UTC),  # Saturday 00:02 in Guatemala City
]
SPREAD: List[datetime] = WEEK + MONTH_END + MIDNIGHTS


def label(instant: datetime) -> str:
    return instant.strftime("%a %Y-%m-%d %H:%MZ")


def at_each_instant(instants: List[datetime] = SPREAD):
    """Runs the decorated tests (or a module's, as `pytestmark`) once at each instant."""
    return pytest.mark.parametrize("instant", instants, ids=[label(i) for i in instants])


def real_time() -> float:
    """The machine's real clock, whether or not this test process is time-travelling: what another process
    (the sandbox, an end-to-end stack) reads. time-machine's escape hatch raises when nothing travels."""
    return time_machine.escape_hatch.time.time() if time_machine.escape_hatch.is_travelling() else time.time()


def offset_for(at: datetime) -> float:
    """The `CLOCK_OFFSET_SECONDS` that starts other processes' clocks (common/clock.py) at `at` now."""
    return at.timestamp() - real_time()
