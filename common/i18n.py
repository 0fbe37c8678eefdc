"""The messages the assistant composes at run time, in fr, es and en: the action server and the connectors
render them from here.

Static replies that rules and stories use live in domain.yml. Messages filled with values (a balance, a
ticket number) live in common/messages/<journey or topic>.yml, one entry per message with its fr, es and en
texts, so `rasa data validate` sees no response that no story uses. tests/test_messages.py fails if a
language or a placeholder is missing.
"""

from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List

import yaml

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
