"""Shared fixtures: the real domain, trackers built from events, a temporary assistant database."""
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    return yaml.safe_load((ROOT / "domain.yml").read_text())


@pytest.fixture(autouse=True)
def assistant_db(tmp_path, monkeypatch):
    """Each test gets its own SQLite database for the assistant's state."""
    from actions import config
    from actions.store import db

    monkeypatch.setattr(config, "ASSISTANT_DB_URL", f"sqlite:///{tmp_path / 'assistant.db'}")
    db.engine.cache_clear()
    yield
    db.engine.cache_clear()


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def user_event(text: str, intent: str, entities: Optional[List[dict]] = None, confidence: float = 0.95) -> dict:
    return {
        "event": "user",
        "text": text,
        "parse_data": {
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "entities": entities or [],
        },
    }


def slot_event(name: str, value: Any) -> dict:
    return {"event": "slot", "name": name, "value": value}


def make_tracker(events: List[dict], slots: Optional[Dict[str, Any]] = None, sender_id: str = "test-user") -> Tracker:
    """A tracker as the action server receives it, built from a list of events."""
    slots = {"language": "en", **(slots or {})}
    for event in events:
        if event["event"] == "slot":
            slots[event["name"]] = event["value"]
    latest = next((e for e in reversed(events) if e["event"] == "user"), None)
    return Tracker(
        sender_id=sender_id,
        slots=slots,
        latest_message=(latest or {}).get("parse_data", {}),
        events=events,
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name=None,
    )
