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
