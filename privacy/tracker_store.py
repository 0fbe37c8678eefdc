"""A SQL tracker store that never writes one-time codes or card numbers in clear.

endpoints.yml:  tracker_store: {type: privacy.tracker_store.RedactingSQLTrackerStore, dialect: ..., db: ...}
The conversation in memory is untouched (the form needs the code once); what reaches the database
is redacted: card-like numbers in every user message, and every code-like number in a message
sent while the assistant was asking for the SMS code.
"""

import copy
from collections import deque

import sqlalchemy
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from privacy.redaction import redact_parse_data, redact_text

CODE_SLOT = "otp_code"


def redacted_events(events):
    requested = None
    for event in events:
        if isinstance(event, SlotSet) and event.key == "requested_slot":
            requested = event.value
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
            sqlalchemy.event.listen(self.engine, "connect", sqlite_write_ahead)
            self.engine.dispose()  # connections opened to create the tables get the settings too

    async def save(self, tracker: DialogueStateTracker) -> None:
        await super().save(redacted(tracker))
