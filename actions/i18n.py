"""Messages that actions compose at run time, in the conversation's language.

Static replies that rules and stories use live in domain.yml. Messages an action chooses or fills
with values (a balance, a ticket number) live in actions/messages/<topic>.yml, one entry per
message with its fr, es and en texts, so `rasa data validate` sees no response that no story uses.
tests/test_messages.py fails if a language or a placeholder is missing.
"""
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import config

MESSAGES_DIR = Path(__file__).resolve().parent / "messages"


@lru_cache(maxsize=None)
def catalogue() -> Dict[str, Dict[str, Any]]:
    entries: Dict[str, Dict[str, Any]] = {}
    for path in sorted(MESSAGES_DIR.glob("*.yml")):
        for key, entry in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items():
            if key in entries:
                raise ValueError(f"message {key} defined twice ({path.name})")
            entries[key] = entry if "text" in entry else {"text": entry}
    return entries


def language_of(tracker: Tracker) -> str:
    language = tracker.get_slot("language")
    return language if language in config.SUPPORTED_LANGUAGES else config.DEFAULT_LANGUAGE


def render(key: str, language: str, **values: Any) -> Dict[str, Any]:
    """{"text": ..., "buttons": [...]} for one message in one language."""
    entry = catalogue()[key]
    message: Dict[str, Any] = {"text": entry["text"][language].format(**values).strip()}
    buttons: List[Dict[str, str]] = [
        {"title": b["title"][language].format(**values), "payload": b["payload"].format(**values)}
        for b in entry.get("buttons", [])
    ]
    if buttons:
        message["buttons"] = buttons
    return message


def say(dispatcher: CollectingDispatcher, tracker: Tracker, key: str, language: Optional[str] = None, **values: Any) -> None:
    """Sends the message `key` in the conversation's language (or the one given)."""
    dispatcher.utter_message(**render(key, language or language_of(tracker), **values))
