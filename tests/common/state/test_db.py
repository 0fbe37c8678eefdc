"""common/state/db.py on SQLite: commits go to a write-ahead log (no fsync each), and what is written reads back."""

import sqlite3

from common import config
from common.state import db


def test_the_assistant_database_writes_ahead():
    db.remember_language("sender:a", "fr")
    with db.engine().connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    path = config.ASSISTANT_DB_URL[len("sqlite:///") :]
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone() == ("wal",)
    db.engine.cache_clear()  # another process opening the same file
    assert db.remembered_language("sender:a") == "fr"
