"""Which line or contract a conversation holds, as proved server-side (never from slots)."""

import logging
import re
from typing import Optional

from rasa_sdk import Tracker

from actions.backends import bss
from actions.identity import sessions
from clients import BackendError
from clients.bss import Line
from common import config

logger = logging.getLogger(__name__)


def channel_identity(tracker: Tracker) -> Optional[sessions.Identity]:
    """On a channel that proves the sender's number (WhatsApp), that number counts as verified.

    The channel name comes from Rasa (the webhook the message arrived on), not from the customer.
    It never opens another line: asking about another number still needs its SMS code.
    """
    if tracker.get_latest_input_channel() not in config.NUMBER_PROVING_CHANNELS:
        return None
    msisdn = "+" + tracker.sender_id.lstrip("+")
    if not re.fullmatch(r"\+\d{8,15}", msisdn) or bss().line(msisdn) is None:
        return None
    return sessions.verify(tracker.sender_id, f"line:{msisdn}", "channel", tracker.get_latest_input_channel())


def line_of(identity: sessions.Identity) -> Optional[Line]:
    """The operator's line or home contract a verified identity names."""
    if identity.kind == "line":
        return bss().line(identity.value)
    return bss().contract(identity.value)


def verified_line(tracker: Tracker) -> Optional[Line]:
    """The line this conversation has proved it holds, if any (None too when the operator cannot say)."""
    try:
        identity = sessions.authorise(tracker.sender_id) or channel_identity(tracker)
        return line_of(identity) if identity else None
    except BackendError as error:
        logger.info("no verified line: %s", error)
        return None
