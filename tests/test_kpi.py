"""`make kpi` on a set of recorded conversations whose figures were worked out by hand.

The conversations are written by Rasa's own tracker store (privacy.tracker_store.RedactingSQLTrackerStore,
the one endpoints.yml uses) into a temporary SQLite file; their outcomes go through actions.outcomes.record
with the tracker the action server would see; NPS answers are rows of nps_survey.

Period: 2025-03-01 to 2025-03-03 (UTC days). "Now" is 2025-03-03 23:30 UTC.

  sender               session start (UTC)   customer messages          channel   lang  outcome(s) recorded
  alice                03-01 09:00 (A1)      09:00:05, 09:01            rest      fr    self_served
  alice (line, BJ)     03-02 10:00 (A2)      10:00:05                   rest      fr    self_served, ticket
  +50255500002 (bob)   03-01 20:00 (B1)      20:00:05                   whatsapp  es    help_centre
  +50255500002 (bob)   03-03 08:00 (B2)      08:00:05, 08:00:30         whatsapp  es    none
  carol                03-02 12:00 (C1)      12:00:05                   socketio  en    handoff
  carol                03-03 15:00 (C2)      only EXTERNAL_payment_received (injected by the payment webhook)
  dave                 02-28 23:50 (D1)      02-28 23:55, 03-01 00:10   socketio  fr    self_served
  erin                 03-03 23:00 (E1)      23:00:10                   rest      en    none
  gina                 03-02 09:00 (G1)      none (a session opened, nothing typed)
  hank                 02-10 14:00           02-10 14:00:05             rest      en
  ivan                 01-20 14:00           01-20 14:00:05             rest      en

By hand:
  Daily active users (a sender with a customer message that day):
    03-01: alice, bob, dave (00:10)          = 3
    03-02: alice, carol (gina typed nothing) = 2
    03-03: bob, erin (carol's C2 is injected) = 2
    average (3 + 2 + 2) / 3 = 2.33
  Monthly active users, the 30 days 02-02..03-03: alice, bob, carol, dave, erin, hank = 6 (ivan is older);
    calendar month 2025-03, days in the period: alice, bob, carol, dave, erin = 5.
  Conversations started in the period (first customer message in it): A1, A2, B1, B2, C1, E1 = 6
    (D1 started 02-28, C2 and G1 have no customer message).
    A1 self_served; A2 ticket (stronger than self_served); B1 help_centre; C1 handoff;
    B2 abandoned (idle since 08:00:30, over 60 min); E1 in progress (last message 20 min before now).
  Deflection = (self_served + help_centre) / (self_served + help_centre + ticket + handoff) = 2 / 4 = 50 %.
  Containment = 1 - (ticket + handoff) / (those 4 + abandoned 1) = 1 - 2/5 = 60 %.
  NPS answers dated in the period: 10, 9, 9, 6, 7 (one older 10 and one unanswered question do not count):
    promoters (9-10) 3, passives (7-8) 1, detractors (0-6) 1 -> NPS = (3 - 1) / 5 = +40.
  By market (the line's for A2; else the language's: fr -> BJ, es -> GT, en -> unknown):
    BJ: A1 self_served, A2 ticket -> 2 conversations, deflection 1/2 = 50 %; NPS answers 10, 6 -> 0
    GT: B1 help_centre, B2 abandoned -> 2, deflection 1/1 = 100 %; NPS 9 -> +100
    unknown: C1 handoff, E1 in progress -> 2, deflection 0/1 = 0 %; NPS 9, 7 -> +50
"""

import asyncio
import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk import Tracker

from actions import outcomes
from actions.identity import sessions
from common import config
from common.state.care_kpi import NpsSurvey, session
from privacy.tracker_store import RedactingSQLTrackerStore
from scripts import kpi
from tests.clock import at_each_instant

pytestmark = at_each_instant()  # date-sensitive: each day of a week, a month end, around midnight

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOW = datetime(2025, 3, 3, 23, 30, tzinfo=timezone.utc)


def at(month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> float:
    return datetime(2025, month, day, hour, minute, second, tzinfo=timezone.utc).timestamp()


def conversation(start: float, language: str, channel: str, messages, external: bool = False):
    """The events Rasa logs for one session: its start, the language slot, then each message and a reply."""
    events = [
        ActionExecuted("action_session_start", timestamp=start),
        SessionStarted(timestamp=start),
        SlotSet("language", language, timestamp=start),
        ActionExecuted("action_listen", timestamp=start),
    ]
    for moment in messages:
        if external:
            user = UserUttered.create_external("EXTERNAL_payment_received", input_channel=channel)
            user.timestamp = moment
        else:
            user = UserUttered(
                "a message",
                intent={"name": "check_balance", "confidence": 0.9},
                input_channel=channel,
                timestamp=moment,
            )
        events += [
            user,
            BotUttered("a reply", timestamp=moment + 1),
            ActionExecuted("action_listen", timestamp=moment + 1),
        ]
    return events


def record(sender: str, events, *recorded: str) -> None:
    """What the action server does: record() with the tracker of that session."""
    dicts = [e.as_dict() for e in events]
    language = next(e.value for e in events if isinstance(e, SlotSet) and e.key == "language")
    tracker = Tracker(
        sender_id=sender,
        slots={"language": language},
        latest_message={},
        events=dicts,
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name=None,
    )
    for outcome in recorded:
        outcomes.record(tracker, outcome, topic="test")


def answer(subject: str, score, answered: datetime, channel: str, language: str, market: str) -> NpsSurvey:
    return NpsSurvey(
        subject=subject,
        conversation_id=subject,
        source="asked",
        stage="done",
        asked_at=answered,
        score=score,
        answered_at=answered if score is not None else None,
        channel=channel,
        language=language,
        market=market,
    )


@pytest.fixture
def recorded(tmp_path, monkeypatch):
    """The conversations of the table above, in a tracker store file; outcomes and NPS in the assistant DB."""
    path = tmp_path / "rasa_tracker.db"
    monkeypatch.setattr(config, "TRACKER_DB_URL", f"sqlite:///{path}")
    a1 = conversation(at(3, 1, 9), "fr", "rest", [at(3, 1, 9, 0, 5), at(3, 1, 9, 1)])
    a2 = conversation(at(3, 2, 10), "fr", "rest", [at(3, 2, 10, 0, 5)])
    b1 = conversation(at(3, 1, 20), "es", "whatsapp", [at(3, 1, 20, 0, 5)])
    b2 = conversation(at(3, 3, 8), "es", "whatsapp", [at(3, 3, 8, 0, 5), at(3, 3, 8, 0, 30)])
    c1 = conversation(at(3, 2, 12), "en", "socketio", [at(3, 2, 12, 0, 5)])
    c2 = conversation(at(3, 3, 15), "en", "socketio", [at(3, 3, 15, 0, 5)], external=True)
    d1 = conversation(at(2, 28, 23, 50), "fr", "socketio", [at(2, 28, 23, 55), at(3, 1, 0, 10)])
    e1 = conversation(at(3, 3, 23), "en", "rest", [at(3, 3, 23, 0, 10)])
    g1 = conversation(at(3, 2, 9), "en", "rest", [])
    h1 = conversation(at(2, 10, 14), "en", "rest", [at(2, 10, 14, 0, 5)])
    i1 = conversation(at(1, 20, 14), "en", "rest", [at(1, 20, 14, 0, 5)])
    store = RedactingSQLTrackerStore(dialect="sqlite", db=str(path))
    for sender, events in {
        "alice": a1 + a2,
        "+50255500002": b1 + b2,
        "carol": c1 + c2,
        "dave": d1,
        "erin": e1,
        "gina": g1,
        "hank": h1,
        "ivan": i1,
    }.items():
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))
    record("alice", a1, "self_served")
    sessions.verify("alice", "line:+2290197000001", "otp")  # identified in A2: its line's market
    record("alice", a2, "self_served", "ticket")
    record("+50255500002", b1, "help_centre")
    record("carol", c1, "handoff")
    record("dave", d1, "self_served")
    with session() as s, s.begin():
        s.add_all(
            [
                answer("sender:alice", 10, datetime(2025, 3, 1, 9, 5), "rest", "fr", "BJ"),
                answer("sender:+50255500002", 9, datetime(2025, 3, 1, 20, 10), "whatsapp", "es", "GT"),
                answer("sender:carol", 9, datetime(2025, 3, 2, 12, 30), "socketio", "en", "unknown"),
                answer("sender:dave", 6, datetime(2025, 3, 2, 8, 0), "socketio", "fr", "BJ"),
                answer("sender:erin", 7, datetime(2025, 3, 3, 23, 5), "rest", "en", "unknown"),
                answer("sender:hank", 10, datetime(2025, 2, 27, 10, 0), "rest", "en", "unknown"),
                answer("sender:ivan", None, datetime(2025, 3, 2, 10, 0), "rest", "en", "unknown"),
            ]
        )
    return path


def test_figures_match_the_hand_count(recorded):
    report = kpi.compute(date(2025, 3, 1), date(2025, 3, 3), now=NOW)
    users = report["active_users"]
    assert users["daily"] == {"2025-03-01": 3, "2025-03-02": 2, "2025-03-03": 2}
    assert users["daily_average"] == pytest.approx(7 / 3)
    assert users["monthly"] == 6 and users["monthly_window"] == {"from": "2025-02-02", "to": "2025-03-03"}
    assert users["by_calendar_month"] == {"2025-03": 5}
    assert report["conversations"] == 6
    assert report["outcomes"] == {
        "self_served": 1,
        "help_centre": 1,
        "ticket": 1,
        "handoff": 1,
        "abandoned": 1,
        "in_progress": 1,
    }
    assert report["deflection_rate"] == pytest.approx(0.5)
    assert report["containment_rate"] == pytest.approx(0.6)
    assert report["nps"] == {"responses": 5, "promoters": 3, "passives": 1, "detractors": 1, "nps": 40.0}


def test_split_by_market(recorded):
    groups = kpi.compute(date(2025, 3, 1), date(2025, 3, 3), by="market", now=NOW)["by"]["groups"]
    assert {k: (g["conversations"], g["deflection_rate"], g["nps"]["nps"]) for k, g in groups.items()} == {
        "BJ": (2, 0.5, 0.0),
        "GT": (2, 1.0, 100.0),
        "unknown": (2, 0.0, 50.0),
    }
    assert groups["GT"]["outcomes"]["abandoned"] == 1 and groups["unknown"]["outcomes"]["in_progress"] == 1


def test_split_by_channel(recorded):
    groups = kpi.compute(date(2025, 3, 1), date(2025, 3, 3), by="channel", now=NOW)["by"]["groups"]
    assert {k: (g["conversations"], g["deflection_rate"]) for k, g in groups.items()} == {
        "rest": (3, 0.5),
        "whatsapp": (2, 1.0),
        "socketio": (1, 0.0),
    }


def test_days_follow_the_chosen_time_zone(recorded):
    # In Guatemala (UTC-6) dave's 00:10 UTC message is still 02-28: 03-01 has alice and bob only.
    report = kpi.compute(date(2025, 3, 1), date(2025, 3, 3), time_zone="America/Guatemala", now=NOW)
    assert report["active_users"]["daily"]["2025-03-01"] == 2


def test_make_kpi_prints_the_figures(recorded, tmp_path):
    """The script as `make kpi FROM=2025-03-01 TO=2025-03-03` runs it (now is long after: E1 is abandoned)."""
    env = {**os.environ, "TRACKER_DB_URL": f"sqlite:///{recorded}", "ASSISTANT_DB_URL": config.ASSISTANT_DB_URL}
    done = subprocess.run(
        [sys.executable, "scripts/kpi.py", "--from", "2025-03-01", "--to", "2025-03-03"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "2025-03-01  3" in out and "average 2.33" in out
    assert "Monthly active users (2025-02-02 to 2025-03-03): 6" in out
    assert "Conversations started: 6" in out and "abandoned    2" in out
    assert "Deflection rate (self-served + help centre, over conversations with a known outcome): 50.0 %" in out
    assert "abandoned included): 66.7 %" in out  # 1 - 2/6
    assert "NPS: +40.0 over 5 responses (3 promoters, 1 passives, 1 detractors)" in out
    done = subprocess.run(
        [sys.executable, "scripts/kpi.py", "--from", "2025-03-01", "--to", "2025-03-03", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert json.loads(done.stdout)["nps"]["nps"] == 40.0


def test_no_tracker_store_says_so(tmp_path):
    with pytest.raises(SystemExit, match="no tracker store"):
        kpi.compute(date(2025, 3, 1), date(2025, 3, 3), tracker_url=f"sqlite:///{tmp_path / 'none.db'}")


def test_campaign_figures_count_what_was_sent_in_the_period(recorded, clock):
    from common.state import campaigns, consent

    clock.move_to(datetime(2025, 3, 2, 10, 0, tzinfo=timezone.utc))
    started = clock_now() - timedelta(minutes=1)  # every message already due
    made = campaigns.create("March offer", "offer", {"fr": "a", "es": "b", "en": "c"}, started, 600)
    campaigns.add_recipients(made.id, [{"msisdn": f"+22901970000{n:02d}"} for n in range(4)])
    campaigns.set_status(made.id, campaigns.RUNNING)
    first, second, third, _ = campaigns.due(10)
    for row_id, status in ((first, campaigns.SENT), (second, campaigns.SENT), (third, campaigns.SKIPPED)):
        campaigns.claim(row_id, 60)
        campaigns.finish(row_id, status, channel="sms")
    consent.opt_out("+2290197000002", consent.ALL_MARKETING, "whatsapp")

    figures = kpi.compute(date(2025, 3, 1), date(2025, 3, 3), now=NOW)["campaigns"]
    [sent] = figures["sent"]
    assert (sent["targeted"], sent["sent"], sent["skipped"], sent["queued"]) == (4, 2, 1, 1)
    assert figures["opt_outs"] == 1
    assert kpi.compute(date(2025, 3, 4), date(2025, 3, 5), now=NOW)["campaigns"] == {"sent": [], "opt_outs": 0}
    assert (sent["delivered"], sent["read"], sent["replied"], sent["undelivered"], sent["opted_out"]) == (0, 0, 0, 0, 0)
    printed = kpi.printable(kpi.compute(date(2025, 3, 1), date(2025, 3, 3), now=NOW))
    assert made.id in printed and "delivered     0" in printed and "1 × (no reason)" in printed


def test_campaign_figures_say_what_became_of_the_messages(recorded, clock):
    from common.state import campaign_deliveries, campaigns, consent

    clock.move_to(datetime(2025, 3, 2, 10, 0, tzinfo=timezone.utc))
    made = campaigns.create("March offer", "offer", {"fr": "a", "es": "b", "en": "c"}, clock_now(), 600)
    numbers = [f"+22901970000{n:02d}" for n in range(3)]
    campaigns.add_recipients(made.id, [{"msisdn": n} for n in numbers])
    campaigns.set_status(made.id, campaigns.RUNNING)
    clock.shift(timedelta(minutes=1))
    reports = ((1, "stat:DELIVRD"), (2, "id:9 stat:UNDELIV err:001"), (16, "NACK/0x0000000b/Invalid Destination"))
    for row_id, (value, words) in zip(campaigns.due(10), reports):
        campaigns.claim(row_id, 60)
        delivery_id, token = campaign_deliveries.begin_sms(row_id, made.id, campaigns.recipient(str(row_id)).msisdn)
        campaign_deliveries.sms_accepted(delivery_id)
        campaigns.finish(row_id, campaigns.SENT, channel="sms")
        assert campaign_deliveries.sms_report(str(delivery_id), token, value, words)
    clock.shift(timedelta(minutes=1))
    consent.opt_out(numbers[0], "offer", "whatsapp")  # after the message: this campaign's opt-out

    [sent] = kpi.compute(date(2025, 3, 1), date(2025, 3, 3), now=NOW)["campaigns"]["sent"]
    assert (sent["sent"], sent["delivered"], sent["undelivered"], sent["opted_out"]) == (3, 1, 2, 1)
    printed = kpi.printable(kpi.compute(date(2025, 3, 1), date(2025, 3, 3), now=NOW))
    assert "1 × not delivered to the phone: UNDELIV err 001" in printed
    assert "1 × not delivered to the SMS centre: NACK/0x0000000b/Invalid Destination" in printed


def clock_now():
    from common import clock as project_clock

    return project_clock.now()
