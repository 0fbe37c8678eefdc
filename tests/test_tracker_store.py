"""privacy/tracker_store.py on SQLite: a write-ahead log, no fsync per turn, and what a turn wrote reads back."""

import sqlite3

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from privacy.tracker_store import RedactingSQLTrackerStore


async def test_the_sqlite_store_writes_ahead_and_reads_back(tmp_path):
    path = tmp_path / "tracker.db"
    store = RedactingSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path))
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    tracker = DialogueStateTracker.from_events("rest:a", [ActionExecuted("action_listen"), UserUttered("hola")])
    await store.save(tracker)
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone() == ("wal",)
    again = await RedactingSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path)).retrieve("rest:a")
    assert [e.as_dict()["event"] for e in again.events] == ["action", "user"]


async def test_a_database_away_for_a_moment_is_waited_for_then_the_turn_fails_rather_than_forgets(
    tmp_path, monkeypatch
):
    """Several Rasa replicas share PostgreSQL: a restart there is retried; a longer outage raises (the channel then
    asks the customer to send the message again), never "no conversation yet"."""
    import pytest
    from rasa.core.tracker_store import SQLTrackerStore
    from sqlalchemy.exc import OperationalError

    import privacy.tracker_store

    monkeypatch.setattr(privacy.tracker_store, "RETRY_DELAYS", (0, 0, 0))
    store = RedactingSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "t.db"))
    await store.save(DialogueStateTracker.from_events("awa", [UserUttered("bonjour")]))
    real, failures = SQLTrackerStore.retrieve, {"left": 2}

    async def refused_then_back(self, sender_id):
        if failures["left"]:
            failures["left"] -= 1
            raise OperationalError("SELECT", {}, Exception("connection refused"))
        return await real(self, sender_id)

    monkeypatch.setattr(SQLTrackerStore, "retrieve", refused_then_back)
    assert [e.text for e in (await store.retrieve("awa")).events if isinstance(e, UserUttered)] == ["bonjour"]
    failures["left"] = 10
    with pytest.raises(OperationalError):
        await store.retrieve("awa")


def counting_statements(store):
    """The SQL statements the store sends, as a list that grows."""
    import sqlalchemy

    sent = []
    sqlalchemy.event.listen(store.engine, "before_cursor_execute", lambda *args: sent.append(args[2]))
    return sent


def stored_events(path, sender):
    rows = sqlite3.connect(path).execute("SELECT type_name FROM events WHERE sender_id = ? ORDER BY id", (sender,))
    return [row[0] for row in rows]


async def test_turns_store_each_event_once_without_counting_what_a_tracker_read_or_written_here_holds(tmp_path):
    path = tmp_path / "t.db"
    store = RedactingSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path))
    tracker = DialogueStateTracker.from_events("rest:b", [ActionExecuted("action_listen"), UserUttered("hola")])
    await store.save(tracker)  # a new conversation: counted as Rasa counts
    sent = counting_statements(store)
    tracker.update(ActionExecuted("utter_greet"))
    await store.save(tracker)  # the same tracker again in the same turn
    tracker = await store.retrieve("rest:b")  # the next turn
    tracker.update(UserUttered("saldo"))
    tracker.update(ActionExecuted("action_listen"))
    await store.save(tracker)
    assert stored_events(path, "rest:b") == ["action", "user", "action", "user", "action"]
    assert not [statement for statement in sent if "count(" in statement.lower()]


async def test_a_tracker_the_store_has_not_seen_is_counted_as_rasa_counts(tmp_path):
    path = tmp_path / "t.db"
    store = RedactingSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path))
    await store.save(DialogueStateTracker.from_events("rest:c", [UserUttered("bonjour")]))
    # another replica's copy of the same conversation, one event longer (as the HTTP API's append would make)
    elsewhere = DialogueStateTracker.from_events("rest:c", [UserUttered("bonjour"), ActionExecuted("utter_greet")])
    sent = counting_statements(store)
    await store.save(elsewhere)
    assert stored_events(path, "rest:c") == ["user", "action"]
    assert [statement for statement in sent if "count(" in statement.lower()]


async def test_a_write_tried_again_after_a_failure_counts_what_the_database_has(tmp_path, monkeypatch):
    from sqlalchemy.exc import OperationalError

    import privacy.tracker_store

    monkeypatch.setattr(privacy.tracker_store, "RETRY_DELAYS", (0, 0))
    path = tmp_path / "t.db"
    store = RedactingSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path))
    await store.save(DialogueStateTracker.from_events("rest:d", [UserUttered("hola")]))
    tracker = await store.retrieve("rest:d")
    tracker.update(ActionExecuted("utter_greet"))
    real, failed = RedactingSQLTrackerStore.insert_new_events, []

    def stored_then_failed(self, tracker):  # the commit went through, the answer did not come back
        real(self, tracker)
        if not failed:
            failed.append(True)
            raise OperationalError("COMMIT", {}, Exception("connection reset"))

    monkeypatch.setattr(RedactingSQLTrackerStore, "insert_new_events", stored_then_failed)
    await store.save(tracker)
    assert stored_events(path, "rest:d") == ["user", "action"]


async def test_what_the_store_remembers_goes_with_the_tracker(tmp_path):
    import gc

    store = RedactingSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "t.db"))
    for n in range(50):
        await store.save(DialogueStateTracker.from_events(f"rest:{n}", [UserUttered("hola")]))
    gc.collect()
    assert store.stored_counts == {}


async def test_reading_only_the_events_json_reads_what_rasa_reads(tmp_path):
    """The current session only, or every session, with slots: the same tracker as Rasa's own read."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import SessionStarted, SlotSet

    domain = Domain.from_dict({"slots": {"language": {"type": "text", "mappings": [{"type": "custom"}]}}})
    store = RedactingSQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "t.db"))
    first = [ActionExecuted("action_session_start", timestamp=1), SessionStarted(timestamp=1)]
    first.append(ActionExecuted("action_listen", timestamp=1))
    events = first + [UserUttered("hola", timestamp=2), SlotSet("language", "es", timestamp=3)]
    events += [ActionExecuted("action_session_start", timestamp=10), SessionStarted(timestamp=10)]
    events += [SlotSet("language", "es", timestamp=11), UserUttered("saldo", timestamp=12)]
    await store.save(DialogueStateTracker.from_events("rest:two-sessions", events, domain.slots))
    for every_session in (False, True):
        ours = await store._retrieve("rest:two-sessions", every_session)
        rasas = await SQLTrackerStore._retrieve(store, "rest:two-sessions", every_session)
        assert ours.current_state() == rasas.current_state() and ours.events == rasas.events
        assert len(ours.events) == (len(events) if every_session else 4)
        assert ours.get_slot("language") == "es"
    assert await store._retrieve("rest:nobody", False) is None


def stored_rows(path, sender):
    query = "SELECT type_name, timestamp, intent_name, action_name, data FROM events WHERE sender_id = ? ORDER BY id"
    return sqlite3.connect(path).execute(query, (sender,)).fetchall()


async def test_each_turn_stores_its_new_events_redacted_as_rasa_would_store_them(tmp_path):
    """Turn by turn, only the new events are redacted and written; the rows are those Rasa's own store writes for the
    whole redacted conversation, and neither the code (asked in an earlier turn) nor a card number is in them."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import BotUttered, SlotSet

    from privacy.tracker_store import redacted

    ours = RedactingSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "ours.db"))
    intent = {"name": "inform", "confidence": 0.9}
    tracker = DialogueStateTracker.from_events("rest:e", [ActionExecuted("action_listen", timestamp=1)])
    tracker.update(UserUttered("mon numéro 0197000001", intent, timestamp=2))
    tracker.update(SlotSet("requested_slot", "otp_code", timestamp=3))
    tracker.update(BotUttered("Le code ?", timestamp=4))
    tracker.update(ActionExecuted("action_listen", timestamp=5))
    await ours.save(tracker)
    tracker = await ours.retrieve("rest:e")
    tracker.update(UserUttered("c'est 482913", intent, [{"entity": "otp_code", "value": "482913"}], timestamp=6))
    tracker.update(SlotSet("requested_slot", None, timestamp=7))
    tracker.update(UserUttered("ma carte 4111 1111 1111 1111", intent, timestamp=8))
    tracker.update(ActionExecuted("action_listen", timestamp=9))
    await ours.save(tracker)

    rasas = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "rasa.db"))
    await rasas.save(redacted(tracker))
    rows = stored_rows(tmp_path / "ours.db", "rest:e")
    assert rows == stored_rows(tmp_path / "rasa.db", "rest:e") and len(rows) == 9
    assert [row[2] for row in rows if row[0] == "user"] == ["inform"] * 3
    stored = " ".join(row[4] for row in rows)
    assert "0197000001" in stored and "482913" not in stored and "4111" not in stored
