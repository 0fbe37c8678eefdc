"""Meta's Graph API as the assistant's WhatsApp and Messenger connectors call it, checked against each
platform's limits, with every accepted message recorded for tests (`GET /_sandbox/meta/messages`).

- WhatsApp Cloud API: `POST /graph[/<version>]/<phone_number_id>/messages`, `Authorization: Bearer <token>`.
- Messenger Send API: `POST /graph[/<version>]/me/messages?access_token=<page token>`.
Errors are Graph errors `{"error": {"message", "type", "code", "error_data"?, "fbtrace_id"}}`.

What Meta then reports, on demand: `POST /_sandbox/meta/statuses {"id": "<a recorded message id>", "status":
"delivered" | "read" | "failed"}` sends the platform's own webhook for it, signed with the app secret
(X-Hub-Signature-256), to SANDBOX_WHATSAPP_WEBHOOK_URL (a `statuses` entry; failed with error 131026) or
SANDBOX_MESSENGER_WEBHOOK_URL (`delivery` with the message's mid; `read` with a watermark, as Messenger does), and
answers what the webhook replied.
"""

import hashlib
import hmac
import json
import os
import re
import secrets
from typing import Any, Dict, List, Optional

import requests
from flask import Blueprint, jsonify, request
from sqlalchemy import JSON, Column, DateTime, Integer, String, select

from common import clock
from sandbox import db, faults

WHATSAPP_ACCESS_TOKEN = os.environ.get("SANDBOX_WHATSAPP_ACCESS_TOKEN", "sandbox-whatsapp-token")
WHATSAPP_PHONE_NUMBER_ID = os.environ.get("SANDBOX_WHATSAPP_PHONE_NUMBER_ID", "100000000000001")
MESSENGER_PAGE_TOKEN = os.environ.get("SANDBOX_MESSENGER_PAGE_TOKEN", "sandbox-page-token")
WEBHOOKS = {
    "whatsapp": (
        os.environ.get("SANDBOX_WHATSAPP_WEBHOOK_URL", "http://localhost:5005/webhooks/whatsapp/webhook"),
        os.environ.get("SANDBOX_WHATSAPP_APP_SECRET", "sandbox-whatsapp-app-secret"),
    ),
    "messenger": (
        os.environ.get("SANDBOX_MESSENGER_WEBHOOK_URL", "http://localhost:5005/webhooks/messenger/webhook"),
        os.environ.get("SANDBOX_MESSENGER_APP_SECRET", "sandbox-messenger-app-secret"),
    ),
}
PAGE_ID = "104512345678901"
WABA_ID = "102290129340398"
VERSION = re.compile(r"v\d+\.\d+")
MESSAGE_TAGS = {"ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "HUMAN_AGENT"}
MEDIA_TYPES = {"image", "audio", "video", "document", "sticker", "location", "contacts", "reaction"}

blueprint = Blueprint("meta", __name__)


class MetaOutbox(db.Base):
    __tablename__ = "meta_outbox"
    id = Column(Integer, primary_key=True)
    message_id = Column(String(80), nullable=False)  # wamid.… or m_…
    channel = Column(String(16), nullable=False)  # whatsapp, messenger
    sender = Column(String(40), nullable=False)  # the phone number id, or "page"
    to = Column(String(64), nullable=False, index=True)  # wa_id digits, or the PSID
    type = Column(String(24), nullable=False)  # text, interactive/button, interactive/list, template, quick_replies…
    message = Column(JSON, nullable=False)  # the request body as sent
    sent_at = Column(DateTime, nullable=False)

    def as_json(self) -> Dict[str, Any]:
        return {
            "id": self.message_id,
            "channel": self.channel,
            "from": self.sender,
            "to": self.to,
            "type": self.type,
            "message": self.message,
            "sent_at": self.sent_at.isoformat(timespec="seconds") + "Z",
        }


class GraphError(Exception):
    def __init__(self, status: int, code: int, message: str, details: Optional[str] = None, whatsapp: bool = False):
        super().__init__(message)
        self.status, self.code, self.message, self.details, self.whatsapp = status, code, message, details, whatsapp

    def response(self):
        error: Dict[str, Any] = {"message": self.message, "type": "OAuthException", "code": self.code}
        if self.details:
            error["error_data"] = (
                {"messaging_product": "whatsapp", "details": self.details}
                if self.whatsapp
                else {"details": self.details}
            )
        error["fbtrace_id"] = secrets.token_urlsafe(12)
        return jsonify(error=error), self.status


def fault_response(fault):
    """Graph's answers when throttling (code 4, or 130429 on WhatsApp) or down (code 2, transient)."""
    whatsapp = not request.path.rstrip("/").endswith("/me/messages")
    if fault.status == 429:
        code, message = (
            (130429, "(#130429) Rate limit hit") if whatsapp else (4, "(#4) Application request limit reached")
        )
    else:
        code, message = 2, "An unexpected error has occurred. Please retry your request later."
    reply, status = GraphError(fault.status, code, message, whatsapp=whatsapp).response()
    if fault.retry_after:
        reply.headers["Retry-After"] = str(fault.retry_after)
    return reply, status


def _bad(details: str, whatsapp: bool) -> GraphError:
    if whatsapp:
        return GraphError(400, 131009, "(#131009) Parameter value is not valid", details, whatsapp=True)
    return GraphError(400, 100, f"(#100) {details}")


def _length(value: Any, low: int, high: int, what: str, whatsapp: bool = True) -> None:
    if not isinstance(value, str) or not low <= len(value) <= high:
        size = len(value) if isinstance(value, str) else "missing"
        raise _bad(f"{what} length invalid ({size}). Min length: {low}, Max length: {high}", whatsapp)


def _unique(values: List[str], what: str, whatsapp: bool = True) -> None:
    if len(set(values)) != len(values):
        raise _bad(f"{what} must be unique", whatsapp)


def _bearer() -> str:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else ""


def _check_version(version: Optional[str]) -> None:
    if version is not None and not VERSION.fullmatch(version):
        raise GraphError(400, 2500, f"Unknown path components: /{version}")


def _body() -> Dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise GraphError(400, 100, "(#100) The request body must be a JSON object")
    return body


# --- WhatsApp Cloud API ---------------------------------------------------------------------------------


def check_interactive(interactive: Dict[str, Any]) -> str:
    kind, action = interactive.get("type"), interactive.get("action") or {}
    if (interactive.get("footer") or {}).get("text") is not None:
        _length(interactive["footer"]["text"], 1, 60, "Footer text")
    if (interactive.get("header") or {}).get("type") == "text":
        _length(interactive["header"].get("text"), 1, 60, "Header text")
    if kind == "button":
        _length((interactive.get("body") or {}).get("text"), 1, 1024, "Body text")
        buttons = action.get("buttons")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            raise _bad(f"Buttons count invalid ({len(buttons or [])}). Min: 1, Max: 3", True)
        for button in buttons:
            if button.get("type") != "reply":
                raise _bad("Button type must be reply", True)
            _length((button.get("reply") or {}).get("id"), 1, 256, "Button id")
            _length((button.get("reply") or {}).get("title"), 1, 20, "Button title")
        _unique([b["reply"]["id"] for b in buttons], "Button ids")
        _unique([b["reply"]["title"] for b in buttons], "Button titles")
    elif kind == "list":
        _length((interactive.get("body") or {}).get("text"), 1, 4096, "Body text")
        _length(action.get("button"), 1, 20, "List button text")
        sections = action.get("sections")
        if not isinstance(sections, list) or not 1 <= len(sections) <= 10:
            raise _bad("Sections count invalid. Min: 1, Max: 10", True)
        rows = [row for section in sections for row in section.get("rows") or []]
        if not 1 <= len(rows) <= 10:
            raise _bad(f"Total row count invalid ({len(rows)}). Min: 1, Max: 10", True)
        for section in sections:
            if len(sections) > 1 or section.get("title") is not None:
                _length(section.get("title"), 1, 24, "Section title")
        for row in rows:
            _length(row.get("id"), 1, 200, "Row id")
            _length(row.get("title"), 1, 24, "Row title")
            if row.get("description") is not None:
                _length(row["description"], 0, 72, "Row description")
        _unique([row["id"] for row in rows], "Row ids")
    else:
        raise _bad(f"Interactive type {kind!r} is not supported here", True)
    return f"interactive/{kind}"


def check_template(template: Dict[str, Any]) -> str:
    _length(template.get("name"), 1, 512, "Template name")
    _length((template.get("language") or {}).get("code"), 2, 15, "Template language code")
    for component in template.get("components") or []:
        for parameter in component.get("parameters") or []:
            if parameter.get("type") == "text":
                text = parameter.get("text")
                _length(text, 1, 1024, "Template parameter text")
                if re.search(r"[\n\t]| {5,}", text):
                    raise GraphError(
                        400,
                        132018,
                        "(#132018) There was an issue with the parameters in your template.",
                        "Param text cannot have new-line/tab characters or more than 4 consecutive spaces",
                        whatsapp=True,
                    )
    return "template"


def check_whatsapp(body: Dict[str, Any]) -> str:
    if body.get("messaging_product") != "whatsapp":
        raise GraphError(400, 100, "(#100) The parameter messaging_product is required.")
    if not re.fullmatch(r"\+?\d{6,15}", str(body.get("to") or "")):
        raise GraphError(400, 100, "(#100) Invalid parameter", "Parameter 'to' must be a phone number", whatsapp=True)
    kind = body.get("type", "text")
    if kind == "text":
        _length((body.get("text") or {}).get("body"), 1, 4096, "Text body")
        return "text"
    if kind == "interactive":
        return check_interactive(body.get("interactive") or {})
    if kind == "template":
        return check_template(body.get("template") or {})
    if kind in MEDIA_TYPES and isinstance(body.get(kind), dict):
        return kind
    raise GraphError(400, 100, "(#100) Invalid parameter", f"Unsupported message type {kind!r}", whatsapp=True)


def _record(channel: str, sender: str, to: str, kind: str, message: Dict[str, Any], message_id: str) -> None:
    with db.transaction() as session:
        session.add(
            MetaOutbox(
                message_id=message_id,
                channel=channel,
                sender=sender,
                to=to,
                type=kind,
                message=message,
                sent_at=clock.utc_naive(),
            )
        )


@blueprint.post("/graph/<phone_number_id>/messages")
@blueprint.post("/graph/<version>/<phone_number_id>/messages")
def whatsapp_messages(phone_number_id: str, version: Optional[str] = None):
    faults.raise_if_faulty("meta")
    _check_version(version)
    if not secrets.compare_digest(_bearer().encode(), WHATSAPP_ACCESS_TOKEN.encode()):
        raise GraphError(401, 190, "Invalid OAuth access token - Cannot parse access token")
    if phone_number_id != WHATSAPP_PHONE_NUMBER_ID:
        raise GraphError(
            400,
            100,
            f"Unsupported post request. Object with ID '{phone_number_id}' does not exist, "
            "cannot be loaded due to missing permissions, or does not support this operation",
        )
    body = _body()
    kind = check_whatsapp(body)
    wa_id = str(body["to"]).lstrip("+")
    message_id = "wamid." + secrets.token_urlsafe(30)
    _record("whatsapp", phone_number_id, wa_id, kind, body, message_id)
    return jsonify(
        messaging_product="whatsapp",
        contacts=[{"input": str(body["to"]), "wa_id": wa_id}],
        messages=[{"id": message_id}],
    )


# --- Messenger Send API ---------------------------------------------------------------------------------


def check_messenger(body: Dict[str, Any]) -> str:
    if not str((body.get("recipient") or {}).get("id") or ""):
        raise GraphError(400, 100, "(#100) The parameter recipient is required")
    messaging_type = body.get("messaging_type")
    if messaging_type not in ("RESPONSE", "UPDATE", "MESSAGE_TAG"):
        raise GraphError(400, 100, "(#100) Param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}")
    if messaging_type == "MESSAGE_TAG" and body.get("tag") not in MESSAGE_TAGS:
        raise GraphError(400, 100, f"(#100) Param tag must be one of {sorted(MESSAGE_TAGS)}")
    message = body.get("message") or {}
    if not message.get("text") and not message.get("attachment"):
        raise GraphError(400, 100, "(#100) Must send either message or state")
    if message.get("text") is not None:
        _length(message["text"], 1, 2000, "param message[text]", whatsapp=False)
    quick_replies = message.get("quick_replies")
    if quick_replies is None:
        return "text" if message.get("text") else "attachment"
    if not isinstance(quick_replies, list) or not 1 <= len(quick_replies) <= 13:
        raise _bad("param message[quick_replies] must have between 1 and 13 elements", False)
    for reply in quick_replies:
        if reply.get("content_type", "text") == "text":
            _length(reply.get("title"), 1, 20, "param message[quick_replies][title]", whatsapp=False)
            _length(reply.get("payload"), 1, 1000, "param message[quick_replies][payload]", whatsapp=False)
        elif reply.get("content_type") not in ("user_phone_number", "user_email"):
            raise _bad("param message[quick_replies][content_type] is invalid", False)
    return "quick_replies"


@blueprint.post("/graph/me/messages")
@blueprint.post("/graph/<version>/me/messages")
def messenger_messages(version: Optional[str] = None):
    faults.raise_if_faulty("meta")
    _check_version(version)
    token = request.args.get("access_token") or _bearer()
    if not secrets.compare_digest(token.encode(), MESSENGER_PAGE_TOKEN.encode()):
        raise GraphError(401, 190, "Invalid OAuth access token - Cannot parse access token")
    body = _body()
    kind = check_messenger(body)
    psid = str(body["recipient"]["id"])
    message_id = "m_" + secrets.token_urlsafe(30)
    _record("messenger", "page", psid, kind, body, message_id)
    return jsonify(recipient_id=psid, message_id=message_id)


# --- for tests ----------------------------------------------------------------------------------------


@blueprint.get("/_sandbox/meta/messages")
def recorded_messages():
    """Every accepted message, oldest first; `to` (a wa_id, +E.164 or a PSID) and `channel` filter."""
    query = select(MetaOutbox).order_by(MetaOutbox.id)
    if request.args.get("to"):
        query = query.where(MetaOutbox.to == request.args["to"].strip().lstrip("+"))
    if request.args.get("channel"):
        query = query.where(MetaOutbox.channel == request.args["channel"])
    with db.transaction() as session:
        return jsonify([row.as_json() for row in session.scalars(query)])


def status_webhook(row: MetaOutbox, status: str) -> Dict[str, Any]:
    """The webhook body Meta sends about a message it accepted."""
    moment = clock.timestamp()
    if row.channel == "whatsapp":
        entry = {"id": row.message_id, "status": status, "timestamp": str(int(moment)), "recipient_id": row.to}
        if status == "failed":
            entry["errors"] = [
                {
                    "code": 131026,
                    "title": "Message undeliverable",
                    "message": "Message undeliverable",
                    "error_data": {"details": "The recipient's phone number is not a WhatsApp phone number."},
                }
            ]
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "22990000000", "phone_number_id": row.sender},
            "statuses": [entry],
        }
        return {
            "object": "whatsapp_business_account",
            "entry": [{"id": WABA_ID, "changes": [{"value": value, "field": "messages"}]}],
        }
    milliseconds = int(moment * 1000)
    report = (
        {"read": {"watermark": milliseconds}}
        if status == "read"
        else {"delivery": {"mids": [row.message_id], "watermark": milliseconds}}
    )
    event = {"sender": {"id": row.to}, "recipient": {"id": PAGE_ID}, "timestamp": milliseconds, **report}
    return {"object": "page", "entry": [{"id": PAGE_ID, "time": milliseconds, "messaging": [event]}]}


@blueprint.post("/_sandbox/meta/statuses")
def send_status():
    given = request.get_json(force=True, silent=True) or {}
    with db.transaction() as session:
        row = session.scalars(select(MetaOutbox).where(MetaOutbox.message_id == str(given.get("id") or ""))).first()
    allowed = (
        ("delivered", "read", "failed") if row is not None and row.channel == "whatsapp" else ("delivered", "read")
    )
    if row is None or given.get("status") not in allowed:
        return jsonify(error=f"id must be a recorded message and status one of {allowed}"), 400
    url, secret = WEBHOOKS[row.channel]
    body = json.dumps(status_webhook(row, given["status"])).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    try:
        reply = requests.post(
            url,
            data=body,
            headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
            timeout=10,
        )
        delivery = {"status": reply.status_code, "body": reply.text[:300]}
    except requests.RequestException as error:
        delivery = {"status": 0, "body": type(error).__name__}
    return jsonify(delivery=delivery)


@blueprint.errorhandler(GraphError)
def graph_error(error: GraphError):
    return error.response()
