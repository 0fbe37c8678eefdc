"""bench/report.py: the figures make bench prints, worked out by hand."""

import math
import os
import subprocess
import sys

import pytest

from bench import report


def test_percentiles_interpolate_between_ranks():
    values = [40, 10, 30, 20]  # sorted: 10 20 30 40
    assert report.percentile(values, 50) == 25
    assert report.percentile(values, 95) == pytest.approx(38.5)
    assert report.percentile(values, 0) == 10 and report.percentile(values, 100) == 40
    assert report.percentile([7], 99) == 7
    assert math.isnan(report.percentile([], 50))


def turn(kind, ms, at, ok=True):
    return {"kind": kind, "ms": ms, "ok": ok, "at": at}


def test_a_stage_counts_only_its_steady_part():
    samples = [
        turn("nlu", 999, 100.0),  # ramp-up: left out
        turn("nlu", 10, 105.0),
        turn("nlu", 30, 106.0),
        turn("operator", 100, 107.0),
        turn("operator", 5000, 108.0, ok=False),  # an error: counted, not timed
        turn("operator", 200, 114.9),
        turn("nlu", 999, 115.0),  # after the end
    ]
    stats = report.stage_stats(samples, 105.0, 115.0)
    assert stats["turns"] == 5 and stats["errors"] == 1
    assert stats["rate"] == pytest.approx(0.4)  # 4 answered turns in 10 s
    assert stats["nlu"] == {"n": 2, "p50": 20, "p95": 29, "p99": pytest.approx(29.8)}
    assert stats["operator"]["n"] == 2 and stats["operator"]["p50"] == 150


def stage(customers, operator_p95, nlu_p95=20.0, rate=60.0, errors=0):
    return {
        "customers": customers,
        "stats": {
            "rate": rate,
            "errors": errors,
            "turns": 100,
            "nlu": {"n": 50, "p50": 10.0, "p95": nlu_p95, "p99": 30.0},
            "operator": {"n": 50, "p50": 50.0, "p95": operator_p95, "p99": 300.0},
        },
        "rss_mb": {"rasa": 900.0, "actions": None},
    }


def test_targets_and_growth():
    stages = [stage(10, 100.0, rate=8), stage(20, 140.0, rate=15), stage(200, 400.0, rate=55, errors=2)]
    assert report.targets(stages) == {"operator_p95": True, "rate_without_error": False}
    assert report.growth(stages, "operator") == pytest.approx(4.0)
    stages[1] = stage(20, 151.0, rate=52)
    assert report.targets(stages) == {"operator_p95": False, "rate_without_error": True}
    assert report.targets([stage(10, 100.0)])["operator_p95"] is None  # 20 customers not measured


def test_the_markdown_table_has_a_row_per_stage_and_says_what_was_skipped():
    text = report.markdown(
        {
            "started": "2026-12-04 18:00 UTC",
            "machine": "x86_64, 2 cores",
            "duration": 60,
            "ramp": 5,
            "think": "1 to 2",
            "profiles": {
                "single": {"stages": [stage(10, 100.0), stage(20, 140.0)]},
                "cluster": {"skipped": "Cluster profile not available."},
            },
        }
    )
    assert "| 20 | 60.0 | 10 / 20 / 30 | 50 / 140 / 300 | 100 | 0 | – | 900 |" in text
    assert "operator x1.4" in text and "Cluster profile not available." in text
    assert "at 20 customers: met" in text
    assert "CPU ms per answered message" not in text  # no stage measured it


def test_cpu_per_message_divides_each_process_s_cpu_by_the_answered_messages():
    before = {"rasa": 1000.0, "actions": 500.0, "gone": 10.0}
    after = {"rasa": 3000.0, "actions": 900.0, "gone": None}  # a process that died is left out
    assert report.cpu_per_message(before, after, 100) == {"rasa": 20.0, "actions": 4.0}
    assert report.cpu_per_message(before, after, 0) == {}


def test_cpu_of_a_process_includes_its_children():
    # the child spins until it has used 200 ms of CPU: the parent's figure then counts at least that
    spin = "import time\nstart = time.process_time()\nwhile time.process_time() - start < 0.2: pass\ninput()"
    child = subprocess.Popen([sys.executable, "-c", spin], stdin=subprocess.PIPE)
    try:
        own = report.cpu_ms(child.pid)
        while own is None or own < 200:  # the child's own CPU, read until it has spun (no sleep: it is busy)
            assert child.poll() is None, "the child died"
            own = report.cpu_ms(child.pid)
        assert report.cpu_ms(os.getpid()) >= own  # this process's tree includes the child
    finally:
        child.communicate(b"\n")
    assert report.cpu_ms(child.pid) is None  # gone
