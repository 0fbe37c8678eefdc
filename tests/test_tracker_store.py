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
