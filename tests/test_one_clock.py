"""The project reads the time in one place, common/clock.py, so tests can set it (issue: tests pass on any day).
A direct call to the system clock anywhere else is a test that depends on today's date waiting to happen."""

import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from common import clock
from tests.clock import DEFAULT_INSTANT, offset_for

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["actions", "common", "components", "connectors", "privacy", "sandbox", "scripts", "webchat"]
SYSTEM_CLOCK = re.compile(r"\b(datetime\.(now|utcnow|today)|date\.today|time\.time(_ns)?)\(")


def test_no_module_reads_the_system_clock_but_the_clock():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "node_modules" not in path.parts and path != ROOT / "common" / "clock.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if SYSTEM_CLOCK.search(line)
    ]
    assert offenders == [], "ask common.clock for the time:\n" + "\n".join(offenders)


def test_the_fixture_freezes_the_clock_at_the_stated_instant():
    assert datetime.now(timezone.utc) == DEFAULT_INSTANT  # time-machine, read by the project's clock too
    assert clock.now() == DEFAULT_INSTANT


def test_travel_moves_and_freezes_this_process_clock():
    try:
        clock.travel(datetime(2027, 2, 28, 23, 59, tzinfo=timezone.utc), frozen=True)
        assert clock.now() == datetime(2027, 2, 28, 23, 59, tzinfo=timezone.utc)
        assert clock.utc_naive() == datetime(2027, 2, 28, 23, 59)
    finally:
        clock.travel(None)
    assert clock.now() == DEFAULT_INSTANT  # back to the system clock, which the fixture froze


def test_an_offset_starts_another_process_at_the_same_instant():
    # what the end-to-end stacks do: every process started with the same CLOCK_OFFSET_SECONDS agrees
    offset = offset_for(datetime(2027, 2, 28, 23, 59, tzinfo=timezone.utc))
    shown = subprocess.run(
        [sys.executable, "-c", "from common import clock; print(clock.now().isoformat())"],
        cwd=ROOT,
        env={**os.environ, "CLOCK_OFFSET_SECONDS": repr(offset)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # the other process is not frozen: it starts there and ticks on
    assert (
        timedelta(0)
        <= datetime.fromisoformat(shown.strip()) - datetime(2027, 2, 28, 23, 59, tzinfo=timezone.utc)
        < timedelta(minutes=1)
    )
