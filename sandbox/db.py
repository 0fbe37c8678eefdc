"""The sandbox's state: SQLite through SQLAlchemy. Each system module declares its tables on Base."""

import os
import threading
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.orm import declarative_base, sessionmaker
from sqlalchemy.pool import QueuePool

Base = declarative_base()
_lock = threading.RLock()
_engine = None
_Session = None


def init(url: str = None):
    """Opens (and creates) the database; SANDBOX_DB_URL or var/sandbox.db by default."""
    global _engine, _Session
    url = (
        url
        or os.environ.get("SANDBOX_DB_URL")
        or f"sqlite:///{Path(__file__).resolve().parent.parent / 'var' / 'sandbox.db'}"
    )
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    options = {"connect_args": {"check_same_thread": False}} if url.startswith("sqlite") else {}
    if url.startswith("sqlite:///") and ":memory:" not in url:
        # SQLAlchemy 1.4 opens a new connection per session on an SQLite file (NullPool): a pool keeps them
        options["poolclass"] = QueuePool
    _engine = create_engine(url, future=True, **options)
    _Session = sessionmaker(_engine, future=True, expire_on_commit=False)
    Base.metadata.create_all(_engine)
    return _engine


@contextmanager
def transaction():
    """One unit of work. Writes are serialised: SQLite has one writer, and money moves must not interleave."""
    with _lock:
        session = _Session()
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise
        finally:
            session.close()


def reset_all():
    Base.metadata.drop_all(_engine)
    Base.metadata.create_all(_engine)
