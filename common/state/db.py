"""Tables and queries for the assistant's own state.

A `subject` is whom a memory belongs to: a channel user ("sender:<id>") before identification,
a line or contract ("line:+22901...", "contract:HG-...") after it, so the memory follows the
customer across channels once they are identified. The voice channel remembers a language for a caller's
number ("caller:+22901..."): a caller id is a hint, enough for a language, never for an account.
"""

import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional

from sqlalchemy import JSON, Boolean, Column, DateTime, Integer, String, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import declarative_base, sessionmaker
from sqlalchemy.pool import QueuePool

from common import clock, config
from common.clock import aware

Base = declarative_base()


class LanguagePreference(Base):
    __tablename__ = "language_preference"
    subject = Column(String(128), primary_key=True)
    language = Column(String(8), nullable=False)
    updated_at = Column(DateTime(timezone=True), nullable=False)


class OtpChallenge(Base):
    """A one-time code sent by SMS. Only its keyed hash is kept."""

    __tablename__ = "otp_challenge"
    id = Column(Integer, primary_key=True, autoincrement=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    msisdn = Column(String(20), nullable=False, index=True)
    code_hash = Column(String(64), nullable=False)
    purpose = Column(String(16), nullable=False, default="login")  # login or change_number
    sent_at = Column(DateTime(timezone=True), nullable=False)
    expires_at = Column(DateTime(timezone=True), nullable=False)
    attempts = Column(Integer, nullable=False, default=0)
    closed = Column(Boolean, nullable=False, default=False)  # used, superseded or too many tries


class Lockout(Base):
    """Failures counted per key ("otp:+229...", "home:HG-100004", "home-conversation:<id>")."""

    __tablename__ = "lockout"
    key = Column(String(160), primary_key=True)
    failures = Column(Integer, nullable=False, default=0)
    locked_until = Column(DateTime(timezone=True), nullable=True)


class VerifiedIdentity(Base):
    """Which line or contract this conversation has proved it holds, and since when."""

    __tablename__ = "verified_identity"
    conversation_id = Column(String(128), primary_key=True)
    subject = Column(String(64), nullable=False)  # line:+229... or contract:HG-...
    method = Column(String(16), nullable=False)  # otp, home, channel
    verified_at = Column(DateTime(timezone=True), nullable=False)
    last_seen_at = Column(DateTime(timezone=True), nullable=False)


class ChannelLink(Base):
    """A channel user who proved they hold a line or contract: the same customer across channels.

    Kept after logout (it is history, not access): access always needs a fresh identification.
    """

    __tablename__ = "channel_link"
    conversation_id = Column(String(128), primary_key=True)  # the channel's user id as Rasa's sender id
    subject = Column(String(64), primary_key=True)
    channel = Column(String(32), nullable=False)  # whatsapp, messenger, zendesk, socketio, rest...
    first_linked_at = Column(DateTime(timezone=True), nullable=False)
    last_verified_at = Column(DateTime(timezone=True), nullable=False)


class PendingOperation(Base):
    """A money move the customer was shown and has not confirmed yet, then its outcome.

    Its id is the idempotency key sent to the operator, so however often "yes" arrives
    (the customer, or the channel redelivering), the money moves once.
    """

    __tablename__ = "pending_operation"
    id = Column(String(36), primary_key=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    subject = Column(String(64), nullable=False)  # the identity it was proposed to
    journey = Column(String(32), nullable=False)  # top_up, buy_pack...
    kind = Column(String(32), nullable=False)  # which executor runs it
    params = Column(JSON, nullable=False)
    status = Column(String(16), nullable=False)  # proposed, executing, done, failed, cancelled, superseded
    result = Column(JSON, nullable=True)
    created_at = Column(DateTime(timezone=True), nullable=False)
    updated_at = Column(DateTime(timezone=True), nullable=False)


_first_use = threading.Lock()  # two threads opening the database at once must not both create tables
_tables_created: Dict[Engine, int] = {}  # engine -> how many declared tables it is known to have


def engine(url: Optional[str] = None) -> Engine:
    """The assistant database, with every table declared so far: a store module imported after the first
    call (connectors, care) gets its tables on the next call."""
    with _first_use:
        eng = _engine(url or config.ASSISTANT_DB_URL)
        if _tables_created.get(eng) != len(Base.metadata.tables):
            create_tables(eng)
            _tables_created[eng] = len(Base.metadata.tables)
        return eng


TABLES_LOCK = 4_217_001  # a PostgreSQL advisory lock id: the assistant's table creation


def create_tables(eng: Engine) -> None:
    """Every declared table that is missing. Several action servers starting together on PostgreSQL would race
    (both see a table missing, the second CREATE fails): there one creates at a time, under an advisory lock."""
    if eng.dialect.name != "postgresql":
        Base.metadata.create_all(eng)
        return
    with eng.begin() as connection:
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({TABLES_LOCK})")
        Base.metadata.create_all(connection)


def _forget_engines() -> None:  # tests switch databases
    _engine.cache_clear()
    _session_factory.cache_clear()
    _tables_created.clear()


engine.cache_clear = _forget_engines


def _sqlite_write_ahead(connection, _record) -> None:
    # Without it every commit (a code, a verified session's last-seen time) waits for an fsync, and the action
    # server waits with it (bench/turns.py). With a write-ahead log a commit survives a crash of the process; only
    # a power cut can lose the last ones (production runs PostgreSQL).
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


CONNECT_RETRY_DELAYS = (0.25, 0.5, 1.0, 2.0, 4.0)  # about 8 s: a PostgreSQL restart or fail-over


def _connect_patiently(dialect, _record, cargs, cparams):
    """A refused connection is tried again for a few seconds before the action fails (the customer then reads
    "please send it again", connectors/try_again.py)."""
    for delay in CONNECT_RETRY_DELAYS:
        try:
            return dialect.connect(*cargs, **cparams)
        except dialect.dbapi.OperationalError:
            time.sleep(delay)
    return dialect.connect(*cargs, **cparams)


@lru_cache(maxsize=None)
def _engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    # pool_pre_ping: a connection dropped by a database restart is replaced before use, not failed on
    options = {"pool_size": 5, "max_overflow": 10, "pool_recycle": 1800} if url.startswith("postgresql") else {}
    if url.startswith("sqlite:///"):
        # SQLAlchemy 1.4 opens a new connection per session of a file database (NullPool), several per turn: pooled
        options = {"poolclass": QueuePool, "connect_args": {"check_same_thread": False}}
    created = create_engine(url, future=True, pool_pre_ping=True, **options)
    if url.startswith("sqlite:///"):
        event.listen(created, "connect", _sqlite_write_ahead)
    else:
        event.listen(created, "do_connect", _connect_patiently)
    return created


@lru_cache(maxsize=None)
def _session_factory(eng: Engine) -> sessionmaker:
    # made once per engine: a sessionmaker is a new Session class, ten times the cost of the session it opens
    return sessionmaker(eng, future=True, expire_on_commit=False)


def session():
    return _session_factory(engine())()


def remember_language(subject: str, language: str) -> None:
    with session() as s, s.begin():
        row = s.get(LanguagePreference, subject)
        now = clock.now()
        if row is None:
            s.add(LanguagePreference(subject=subject, language=language, updated_at=now))
        elif row.language != language:
            row.language, row.updated_at = language, now


def remembered_language(*subjects: str) -> Optional[str]:
    """The language of the first subject that has one (most specific first)."""
    with session() as s:
        for subject in subjects:
            if subject and (row := s.get(LanguagePreference, subject)):
                return row.language
    return None


def linked_conversations(subject: str) -> List[ChannelLink]:
    """Every channel user who proved they hold `subject`, most recently verified first."""
    with session() as s:
        rows = s.query(ChannelLink).filter(ChannelLink.subject == subject).all()
    return sorted(rows, key=lambda r: aware(r.last_verified_at), reverse=True)


def linked_conversations_of(conversation_id: str) -> List[ChannelLink]:
    """The lines and contracts this channel user has proved they hold."""
    with session() as s:
        return s.query(ChannelLink).filter(ChannelLink.conversation_id == conversation_id).all()


def lines_seen_since(moment) -> List[str]:
    """The numbers of the lines some channel user proved they hold since `moment` (the active customers)."""
    with session() as s:
        subjects = s.query(ChannelLink.subject).filter(ChannelLink.last_verified_at >= moment).distinct()
        return sorted({subject.split(":", 1)[1] for (subject,) in subjects if subject.startswith("line:")})


CHAT_CHANNELS = ("whatsapp", "messenger")  # where the assistant can speak first, into an existing conversation


def latest_chat(subject: str) -> Optional[ChannelLink]:
    """The most recently verified WhatsApp or Messenger conversation of `subject`, if any."""
    return next((link for link in linked_conversations(subject) if link.channel in CHAT_CHANNELS), None)
