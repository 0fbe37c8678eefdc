"""How Sunshine Conversations (Zendesk messaging) messages and metadata are read and written: Rasa sender ids
and SunCo conversation ids, who the switchboard says is answering, what a customer's message means to Rasa, and
the reply actions and flat passControl metadata we send. No I/O: the channel (connectors/zendesk_messaging.py)
and the API client (connectors/sunshine_conversations.py) use these."""

import json
import re
from datetime import datetime
from typing import Any, Dict, List, Optional, Tuple

from common import config
from common.state import channel_state
from privacy.redaction import redact_cards

SENDER_PREFIX = "zendesk:"
REPLY_TITLE_LIMIT = 40  # reply action text: longer is cut on the Web Widget, iOS and Android (same spec)
METADATA_LIMIT = 4096  # passControl metadata: flat, at most 4 KB
NUMBER_TYPED = re.compile(r"\s*(\d{1,2})\s*[.)]?\s*")


# --- who is who ---------------------------------------------------------------------------------------


def sender_id_for(conversation_id: str) -> str:
    return SENDER_PREFIX + conversation_id


def conversation_of(sender_id: str) -> Optional[str]:
    return sender_id[len(SENDER_PREFIX) :] if sender_id and sender_id.startswith(SENDER_PREFIX) else None


def controller(active: Optional[Dict[str, Any]]) -> Optional[str]:
    """Whether an `activeSwitchboardIntegration` is the bot or an agent (None: nobody, or not said)."""
    if not isinstance(active, dict) or not active:
        return None
    names = {str(active.get(k)) for k in ("id", "name", "integrationId", "integrationType") if active.get(k)}
    if config.SUNCO_BOT_INTEGRATION:
        return channel_state.BOT if config.SUNCO_BOT_INTEGRATION in names else channel_state.AGENT
    # Without a configured name: the bot is the switchboard's custom integration (the one owning this
    # webhook); the Agent Workspace is `zd:agentWorkspace`, Zendesk's own bots `zd:answerBot`...
    return channel_state.BOT if active.get("integrationType") == "custom" else channel_state.AGENT


def event_time(event: Dict[str, Any]) -> Optional[datetime]:
    try:
        return datetime.fromisoformat(str(event.get("createdAt")).replace("Z", "+00:00"))
    except ValueError:
        return None


def language_hint(locale: Any) -> Optional[str]:
    language = str(locale or "")[:2].lower()
    return language if language in config.SUPPORTED_LANGUAGES else None


# --- what the customer sent ---------------------------------------------------------------------------


def location_payload(coordinates: Dict[str, Any]) -> Optional[str]:
    try:
        lat, lon = float(coordinates["lat"]), float(coordinates["long"])
    except (KeyError, TypeError, ValueError):
        return None
    return "/find_store" + json.dumps({"location": f"{lat},{lon}"})


def message_text(content: Dict[str, Any]) -> Optional[str]:
    """What Rasa should read from a message's content; None when there is nothing to read."""
    kind = content.get("type")
    if kind == "location":
        return location_payload(content.get("coordinates") or {})
    payload = content.get("payload")
    if isinstance(payload, str) and payload.startswith("/"):  # a reply button we sent: its payload, not its title
        return payload
    text = content.get("text")
    return text if isinstance(text, str) and text.strip() else None


def picked_choice(text: str, choices: List[Tuple[str, str]]) -> Optional[str]:
    """The payload of the option a typed answer names: its number in the list, or its exact title."""
    number = NUMBER_TYPED.fullmatch(text)
    if number and 1 <= int(number.group(1)) <= len(choices):
        return choices[int(number.group(1)) - 1][1]
    typed = " ".join(text.split()).casefold()
    return next((payload for title, payload in choices if " ".join(title.split()).casefold() == typed), None)


def user_metadata(
    conversation: Dict[str, Any],
    user_id: Optional[str],
    user: Dict[str, Any],
    source: Dict[str, Any],
    message_id: Optional[str],
) -> Dict[str, Any]:
    profile = user.get("profile") or {}
    about = {
        "conversation_id": conversation.get("id"),
        "user_id": user_id or user.get("id"),
        "external_id": user.get("externalId"),
        "zendesk_id": user.get("zendeskId"),
        "authenticated": user.get("authenticated"),
        "source": source.get("type"),
        "message_id": message_id,
        "profile": {k: profile.get(k) for k in ("givenName", "surname", "email", "locale") if profile.get(k)},
    }
    metadata: Dict[str, Any] = {"zendesk": {k: v for k, v in about.items() if v not in (None, {}, "")}}
    if profile.get("locale"):
        metadata["locale"] = profile["locale"]  # what actions/language.py reads at session start
    return metadata


# --- what we send -------------------------------------------------------------------------------------


def short_title(title: Any) -> str:
    title = " ".join(str(title or "").split())
    return title if len(title) <= REPLY_TITLE_LIMIT else title[: REPLY_TITLE_LIMIT - 1].rstrip() + "…"


def button_action(button: Dict[str, Any]) -> Dict[str, Any]:
    if button.get("url"):
        return {"type": "link", "text": short_title(button.get("title")), "uri": button["url"]}
    return {"type": "reply", "text": short_title(button.get("title")), "payload": str(button.get("payload") or "")}


def flat_metadata(handoff: Dict[str, Any]) -> Dict[str, str]:
    """passControl metadata: flat, string values ("identity.line": "+229..."), card numbers masked, and
    within 4 KB (the summary is shortened first); plus the tags the Agent Workspace copies to the ticket."""
    flat: Dict[str, str] = {}

    def walk(key: str, value: Any) -> None:
        if isinstance(value, dict):
            for name, inner in value.items():
                walk(f"{key}.{name}" if key else str(name), inner)
        elif isinstance(value, (list, tuple)):
            flat[key] = ", ".join(str(v) for v in value)
        elif isinstance(value, bool):
            flat[key] = "true" if value else "false"
        elif value is not None:
            flat[key] = redact_cards(str(value))

    walk("", handoff)
    tags = ["chatbot"] + [
        re.sub(r"[^a-z0-9_]+", "_", f"{name}_{flat[name]}".lower()).strip("_")
        for name in ("topic", "segment", "language")
        if flat.get(name)
    ]
    flat.setdefault("dataCapture.systemField.tags", ",".join(tags))  # unless the action chose its own

    def size() -> int:
        return len(json.dumps(flat, ensure_ascii=False).encode("utf-8"))

    while size() > METADATA_LIMIT:
        longest = "summary" if len(flat.get("summary", "")) > 40 else max(flat, key=lambda k: len(flat[k]))
        value = flat[longest]
        if len(value) <= 40:  # only short values left (a great many keys): drop some
            del flat[longest]
            continue
        keep = max(0, len(value) - (size() - METADATA_LIMIT) - 2)
        flat[longest] = value[:keep].rstrip() + "…" if keep else ""
    return flat
