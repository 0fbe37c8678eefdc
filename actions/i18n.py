"""A conversation's language, and saying a message of common/i18n.py in it."""

from typing import Any, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from common import config
from common.i18n import render


def language_of(tracker: Tracker) -> str:
    language = tracker.get_slot("language")
    return language if language in config.SUPPORTED_LANGUAGES else config.DEFAULT_LANGUAGE


def say(
    dispatcher: CollectingDispatcher, tracker: Tracker, key: str, language: Optional[str] = None, **values: Any
) -> None:
    """Sends the message `key` in the conversation's language (or the one given)."""
    dispatcher.utter_message(**render(key, language or language_of(tracker), **values))
