"""A SQL tracker store that never writes one-time codes or card numbers in clear.

endpoints.yml:  tracker_store: {type: privacy.tracker_store.RedactingSQLTrackerStore, dialect: ..., db: ...}
The conversation in memory is untouched (the form needs the code once); what reaches the database
is redacted: card-like numbers in every user message, and every code-like number in a message
sent while the assistant was asking for the SMS code.

On PostgreSQL (several Rasa replicas share it) a connection dropped by a database restart is noticed before use
(pool_pre_ping), and a read or write that fails because the database is away is tried again for a few seconds,
then fails the turn: never a conversation quietly started afresh or kept in one replica's memory
(connectors/rasa_runtime.py removes Rasa's in-memory fallback; the channel tells the customer to try again).
"""

import asyncio
import copy
import json
import logging
import weakref
from collections import deque

import sqlalchemy
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from privacy.redaction import redact_parse_data, redact_text

logger = logging.getLogger(__name__)
CODE_SLOT = "otp_code"
# A database restart or fail-over: each try waits twice as long as the one before (0.25 s, 0.5 s... in all about 8 s)
RETRY_DELAYS = (0.25, 0.5, 1.0, 2.0, 4.0)


def redacted_events(events, start: int = 0):
    """The events from `start` on, as they may be stored; the ones before only say whether the code was asked."""
    requested = None
    for index, event in enumerate(events):
        if isinstance(event, SlotSet) and event.key == "requested_slot":
            requested = event.value
        if index < start:
            continue
        if isinstance(event, UserUttered):
            answering_code = requested == CODE_SLOT
            clean = copy.copy(event)
            clean.text = redact_text(event.text or "", answering_code) if event.text else event.text
            clean.parse_data = redact_parse_data(event.parse_data or {}, answering_code)
            yield clean
        else:
            yield event


def redacted(tracker: DialogueStateTracker) -> DialogueStateTracker:
    clean = copy.copy(tracker)
    clean.events = deque(redacted_events(tracker.events))
    return clean


def event_row(sender_id: str, event) -> dict:
    """An event as Rasa's SQL store writes it (SQLTrackerStore.save)."""
    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


def sqlite_write_ahead(connection, _record) -> None:
    # One fsync per turn was the SQLite store's largest cost (bench/turns.py): with a write-ahead log and
    # synchronous=NORMAL a commit is durable against a crash of Rasa, and only a power cut can lose the last turns.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class RedactingSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            # SQLAlchemy 1.4 opens a new SQLite connection for every session of a file database (NullPool): on
            # each turn's read and write. A pool keeps them open, as SQLAlchemy 2 does by default.
            url = self.engine.url
            self.engine.dispose()
            self.engine = sqlalchemy.create_engine(
                url, poolclass=sqlalchemy.pool.QueuePool, connect_args={"check_same_thread": False}
            )
            sqlalchemy.event.listen(self.engine, "connect", sqlite_write_ahead)
            self.sessionmaker = sqlalchemy.orm.session.sessionmaker(bind=self.engine)
        else:
            url = self.engine.url
            self.engine.dispose()
            self.engine = sqlalchemy.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
            self.sessionmaker = sqlalchemy.orm.session.sessionmaker(bind=self.engine)
        table = self.SQLEvent.__tablename__
        self.every_session_events = sqlalchemy.text(f"SELECT data FROM {table} WHERE sender_id = :sender ORDER BY id")
        # as Rasa's query: from the latest session start (compared by timestamp), or everything when none
        self.current_session_events = sqlalchemy.text(
            f"SELECT e.data FROM {table} e, (SELECT max(timestamp) AS session_start FROM {table} "
            f"WHERE sender_id = :sender AND type_name = '{SessionStarted.type_name}') latest "
            "WHERE e.sender_id = :sender AND (e.timestamp >= latest.session_start OR latest.session_start IS NULL) "
            "ORDER BY e.id"
        )
        # sender id -> (the tracker this process read or wrote last, how many of its events are stored); an entry
        # goes when its tracker does
        self.stored_counts: dict = {}

    def _remember_stored(self, tracker, count: int) -> None:
        sender, stored = tracker.sender_id, self.stored_counts

        def forget(reference) -> None:  # the tracker is gone: so is its entry (unless a newer one replaced it)
            if stored.get(sender, (None,))[0] is reference:
                stored.pop(sender, None)

        stored[sender] = (weakref.ref(tracker, forget), count)

    def _stored_count(self, session, tracker) -> int:
        """How many of the tracker's events are stored. Rasa counts the stored ones of the current session with a
        query on every save (a tenth of the store's work per turn); for a tracker this store has just read or
        written, the count is known. Any other tracker (a new conversation, a full history read for the HTTP API) is
        counted as Rasa counts. Safe with several replicas: a conversation's turn runs under the lock store's lock,
        so nothing else writes its events between this replica's read and its write."""
        known, count = self.stored_counts.get(tracker.sender_id, (None, None))
        if known is None or known() is not tracker:
            return self._event_query(session, tracker.sender_id, fetch_events_from_all_sessions=False).count()
        return count

    def insert_new_events(self, tracker) -> None:
        """Rasa's write, redacting only the events not stored yet (not the whole conversation on every turn) and
        inserting them in one statement, without the ORM's unit of work."""
        with self.session_scope() as session:
            start = self._stored_count(session, tracker)
            rows = [event_row(tracker.sender_id, event) for event in redacted_events(tracker.events, start)]
            if rows:
                session.execute(self.SQLEvent.__table__.insert(), rows)
                session.commit()

    async def _retrieve(self, sender_id, fetch_events_from_all_sessions: bool):
        """Rasa's read (`_event_query`: the current session's events, or all of them, in order), selecting only the
        events' JSON with a statement written once: Rasa builds an ORM query and loads every row as an ORM object
        first, which was a tenth of Rasa's CPU per turn under load (py-spy, make bench)."""
        statement = self.every_session_events if fetch_events_from_all_sessions else self.current_session_events
        with self.engine.connect() as connection:
            events = [json.loads(data) for data in connection.execute(statement, {"sender": sender_id}).scalars()]
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

    async def retrying(self, work, what: str):
        for delay in (*RETRY_DELAYS, None):
            try:
                return await work()
            except sqlalchemy.exc.OperationalError as error:  # refused, dropped, shutting down
                if delay is None:
                    raise
                logger.warning("tracker store %s failed, retrying in %s s: %s", what, delay, error.orig)
                await asyncio.sleep(delay)

    async def retrieve(self, sender_id):
        tracker = await self.retrying(lambda: super(RedactingSQLTrackerStore, self).retrieve(sender_id), "read")
        if tracker is not None:
            self._remember_stored(tracker, len(tracker.events))  # the current session's events, all stored
        else:
            self.stored_counts.pop(sender_id, None)
        return tracker

    async def retrieve_full_tracker(self, conversation_id):
        parent = super(RedactingSQLTrackerStore, self)
        return await self.retrying(lambda: parent.retrieve_full_tracker(conversation_id), "read")

    async def save(self, tracker: DialogueStateTracker) -> None:
        if self.event_broker is not None:
            await self.stream_events(redacted(tracker))

        async def write() -> None:
            try:
                self.insert_new_events(tracker)
            except Exception:
                self.stored_counts.pop(tracker.sender_id, None)  # a try after a failure counts what the database has
                raise

        await self.retrying(write, "write")
        self._remember_stored(tracker, len(tracker.events))
