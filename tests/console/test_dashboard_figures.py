"""The dashboard's figures (metrics/dashboard.py over the daily aggregate) on the conversations of
tests/console/seed.py, against the values worked out by hand there, and against `make kpi` on the same data."""

from datetime import date, timedelta

import pytest

from common import config
from common.state import kpi_daily
from metrics import daily, dashboard, period
from tests.console.seed import seed

FIRST, LAST = date(2026, 11, 30), date(2026, 12, 2)
ALL = {"channel": None, "language": None, "market": None}


@pytest.fixture
def recorded(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "TRACKER_DB_URL", f"sqlite:///{tmp_path / 'rasa_tracker.db'}")
    seed(tmp_path / "rasa_tracker.db")


def chart(report, chart_id):
    return next(c for c in report["charts"] if c.id == chart_id)


def test_headline_figures_match_the_hand_count(recorded):
    report = dashboard.build(FIRST, LAST, ALL)
    assert report["headline"] == {
        "daily_active_users_average": 2.33,
        "monthly_active_users": 6,
        "conversations": 7,
        "outcomes": {
            "self_served": 2,
            "help_centre": 1,
            "ticket": 1,
            "handoff": 1,
            "abandoned": 1,
            "in_progress": 1,
        },
        "deflection_rate": 60.0,
        "containment_rate": 66.7,
        "nps": 25.0,
        "nps_responses": 4,
        "fallback_rate": 22.2,
    }


def test_charts_and_their_tables_match_the_hand_count(recorded):
    report = dashboard.build(FIRST, LAST, ALL)
    users = chart(report, "active_users")
    assert users.labels == ["2026-11-30", "2026-12-01", "2026-12-02"]
    assert users.series["daily active users"] == [2, 2, 3]
    assert users.rows[2] == ["2026-12-02", 3, 6]
    outcomes = chart(report, "outcomes")
    assert outcomes.series["self served"] == [1, 0, 1] and outcomes.series["abandoned"] == [0, 0, 1]
    assert chart(report, "nps").series == {"NPS": [100.0, 100.0, -50.0], "answers": [1, 1, 2]}
    journeys = dict(zip(chart(report, "journeys").labels, chart(report, "journeys").rows))
    assert journeys["top_up"] == ["top_up", 2, 2]
    assert journeys["check_balance"] == ["check_balance", 2, 0]
    assert journeys["create_ticket"][1:] == [1, 1] and journeys["human_handoff"][1:] == [1, 1]
    assert chart(report, "ticket_reasons").rows == [["billing", 1]]
    assert chart(report, "handoff_reasons").rows == [["network", 1]]
    assert dict(chart(report, "intents").rows)["nlu_fallback"] == 2


def test_filters_keep_only_their_group(recorded):
    report = dashboard.build(FIRST, LAST, {**ALL, "channel": "whatsapp"})
    assert report["headline"]["conversations"] == 2
    assert report["headline"]["deflection_rate"] == 100.0
    assert chart(report, "active_users").series["daily active users"] == [1, 0, 1]
    spanish = dashboard.build(FIRST, LAST, {**ALL, "language": "es", "market": "GT"})
    assert spanish["headline"]["conversations"] == 3  # B1, B2, F1
    assert spanish["headline"]["nps_responses"] == 2


def test_the_dashboard_agrees_with_make_kpi(recorded):
    report, kpi = dashboard.build(FIRST, LAST, ALL), period.compute(FIRST, LAST)
    assert report["headline"]["conversations"] == kpi["conversations"]
    assert report["headline"]["outcomes"] == kpi["outcomes"]
    assert report["headline"]["monthly_active_users"] == kpi["active_users"]["monthly"]
    assert chart(report, "active_users").series["daily active users"] == list(kpi["active_users"]["daily"].values())
    assert report["headline"]["nps"] == kpi["nps"]["nps"]


def test_finished_days_are_kept_and_unfinished_ones_refreshed(recorded, clock):
    dashboard.build(FIRST, LAST, ALL)
    rolled = kpi_daily.rolled_days(FIRST, LAST)
    assert [rolled[d].final for d in (FIRST, FIRST + timedelta(days=1), LAST)] == [True, False, False]
    assert daily.refresh(FIRST, LAST) == 0  # nothing new, nothing stale yet
    clock.shift(timedelta(minutes=config.KPI_REFRESH_MINUTES))
    assert daily.refresh(FIRST, LAST) == 2  # yesterday and today again
    # an hour later dan's conversation is over: abandoned, no longer in progress
    clock.shift(timedelta(hours=1))
    assert dashboard.build(FIRST, LAST, ALL)["headline"]["outcomes"]["abandoned"] == 2
