"""The project's one clock: every "now" of the action server, the connectors, the sandbox and the
scripts comes from here, so a test sets the time of all of them instead of waiting for it.

- In one process, tests freeze or move it with time-machine (`tests/clock.py`); `now()` and
  `timestamp()` read the system clock through the calls time-machine patches.
- Across processes (the sandbox, the end-to-end stacks), `CLOCK_OFFSET_SECONDS` shifts every process's
  clock by the same amount, so they agree with each other; the sandbox's `POST /_sandbox/clock` moves
  its own clock while it runs (`travel`).

Production sets nothing and reads the system clock.
"""

import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional


@dataclass
class _Setting:
    offset: float = 0.0  # seconds added to the system clock
    frozen_at: Optional[float] = None  # a timestamp the clock stays at, when set


_setting: Optional[_Setting] = None


def _current() -> _Setting:
    global _setting
    if _setting is None:  # read on first use, not at import
        _setting = _Setting(offset=float(os.environ.get("CLOCK_OFFSET_SECONDS") or 0))
    return _setting


def timestamp() -> float:
    """Seconds since the epoch, as `time.time()`."""
    setting = _current()
    return setting.frozen_at if setting.frozen_at is not None else time.time() + setting.offset


def now() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return datetime.fromtimestamp(timestamp(), timezone.utc)


def utc_naive(moment: Optional[datetime] = None) -> datetime:
    """`moment` (default: now) as naive UTC to the second: what SQL columns without a zone store."""
    moment = moment or now()
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.replace(microsecond=0)


def aware(moment: Optional[datetime]) -> Optional[datetime]:
    """A datetime read back from SQL as UTC and timezone-aware (SQLite gives naive datetimes back)."""
    return moment.replace(tzinfo=timezone.utc) if moment is not None and moment.tzinfo is None else moment


def travel(at: Optional[datetime], frozen: bool = False) -> None:
    """Moves this process's clock to `at` (then ticking, or `frozen` there); `None` goes back to the
    system clock. For the sandbox and tests only."""
    global _setting
    if at is None:
        _setting = _Setting()
        return
    target = aware(at).timestamp()
    _setting = _Setting(offset=target - time.time(), frozen_at=target if frozen else None)
