"""A SQL tracker store that never writes one-time codes or card numbers in clear.

endpoints.yml:  tracker_store: {type: privacy.tracker_store.RedactingSQLTrackerStore, dialect: ..., db: ...}
The conversation in memory is untouched (the form needs the code once); what reaches the database
is redacted: card-like numbers in every user message, and every code-like number in a message
sent while the assistant was asking for the SMS code.
"""

import copy
from collections import deque

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


class RedactingSQLTrackerStore(SQLTrackerStore):
    async def save(self, tracker: DialogueStateTracker) -> None:
        await super().save(redacted(tracker))
