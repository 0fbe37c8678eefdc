"""Sunshine Conversations v2 (Zendesk messaging), the two calls a bot makes, answering like the real API
(zendesk/sunshine-conversations-api-spec, openapi.yaml 17.12.1), plus what tests read back.

- `POST /sunco/v2/apps/<app>/conversations/<conversation>/messages` → 201 `{"messages": [message]}`
- `POST /sunco/v2/apps/<app>/conversations/<conversation>/passControl` → 200 `{}`
- `GET /_sandbox/sunco/messages?conversation=`, `GET /_sandbox/sunco/switchboard?conversation=`
- `POST /_sandbox/sunco/faults {"operation": "messages"|"passControl", "status": 503, "count": 1}`

HTTP Basic with the app's API key (key id / secret); errors are SunCo's `{"errors": [{"code", "title"}]}`.
Conversations are not created beforehand: any conversation id exists. Limits are checked as SunCo does
(text ≤ 4096 characters, flat metadata ≤ 4 KB) and, stricter than SunCo, what it would cut on the Web
Widget rather than refuse: a reply title over 40 characters, more than 10 reply actions (400 here, so a
test notices).
"""

import json
import os
import secrets
from datetime import datetime

from flask import Blueprint, jsonify, request
from sqlalchemy import Column, DateTime, Integer, String, Text, select

from common import clock
from sandbox import db

APP_ID = os.environ.get("SANDBOX_SUNCO_APP_ID", "sandbox-app")
KEY_ID = os.environ.get("SANDBOX_SUNCO_KEY_ID", "app_sandbox")
KEY_SECRET = os.environ.get("SANDBOX_SUNCO_KEY_SECRET", "sandbox-sunco-secret")

TEXT_LIMIT = 4096
METADATA_LIMIT = 4096
REPLY_TITLE_LIMIT = 40
MAX_REPLIES = 10
CONTENT_TYPES = ("text", "image", "file")
ACTION_TYPES = {
    "buy": ("text", "uri"),
    "link": ("text", "uri"),
    "locationRequest": ("text",),
    "postback": ("text", "payload"),
    "reply": ("text", "payload"),
    "webview": ("text", "uri", "fallback"),
}
OPERATIONS = ("messages", "passControl")

blueprint = Blueprint("sunco", __name__)


class SuncoMessage(db.Base):
    __tablename__ = "sunco_messages"
    seq = Column(Integer, primary_key=True)  # order of arrival
    id = Column(String(24), nullable=False, unique=True)
    app_id = Column(String(64), nullable=False)
    conversation_id = Column(String(128), nullable=False, index=True)
    author = Column(Text, nullable=False)  # JSON
    content = Column(Text, nullable=False)  # JSON
    received = Column(DateTime, nullable=False)

    def as_json(self):
        return {
            "id": self.id,
            "conversation": self.conversation_id,
            "received": iso(self.received),
            "author": json.loads(self.author),
            "content": json.loads(self.content),
        }


class SuncoSwitchboardAction(db.Base):
    __tablename__ = "sunco_switchboard_actions"
    id = Column(Integer, primary_key=True)
    app_id = Column(String(64), nullable=False)
    conversation_id = Column(String(128), nullable=False, index=True)
    action = Column(String(24), nullable=False)  # passControl
    switchboard_integration = Column(String(128), nullable=False)
    metadata_json = Column(Text, nullable=False, default="{}")
    at = Column(DateTime, nullable=False)

    def as_json(self):
        return {
            "conversation": self.conversation_id,
            "action": self.action,
            "switchboardIntegration": self.switchboard_integration,
            "metadata": json.loads(self.metadata_json),
            "at": iso(self.at),
        }


class SuncoFault(db.Base):
    """Failures on demand for one operation (in the database, so /_sandbox/reset clears them)."""

    __tablename__ = "sunco_faults"
    operation = Column(String(16), primary_key=True)
    status = Column(Integer, nullable=False)
    count = Column(Integer, nullable=False)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds") + "Z"


def error(status: int, code: str, title: str):
    return jsonify(errors=[{"code": code, "title": title}]), status


class Invalid(Exception):
    pass


def refusal(app_id: str, operation: str):
    """The error answer for this call, if any: authentication, the app, an injected fault."""
    auth = request.authorization
    if not auth or auth.type != "basic" or auth.username != KEY_ID or auth.password != KEY_SECRET:
        return error(401, "unauthorized", "Authorization is required")
    if app_id != APP_ID:
        return error(403, "forbidden", "Cannot access this app")
    with db.transaction() as session:
        fault = session.get(SuncoFault, operation)
        if fault is not None:
            status = fault.status
            fault.count -= 1
            if fault.count <= 0:
                session.delete(fault)
            return error(status, "service_unavailable" if status >= 500 else "bad_request", "Injected fault")
    return None


def check_flat_metadata(metadata) -> None:
    if metadata is None:
        return
    if not isinstance(metadata, dict):
        raise Invalid("metadata must be an object")
    for key, value in metadata.items():
        if not isinstance(value, (str, int, float, bool)) or value is None:
            raise Invalid(f"metadata.{key} must be a string, number or boolean")
    if len(json.dumps(metadata, ensure_ascii=False).encode("utf-8")) > METADATA_LIMIT:
        raise Invalid("metadata exceeds 4KB")


def check_actions(actions) -> None:
    if not isinstance(actions, list):
        raise Invalid("content.actions must be an array")
    replies = 0
    for n, action in enumerate(actions):
        kind = action.get("type") if isinstance(action, dict) else None
        if kind not in ACTION_TYPES:
            raise Invalid(f"content.actions[{n}].type must be one of {sorted(ACTION_TYPES)}")
        for field in ACTION_TYPES[kind]:
            if not isinstance(action.get(field), str):
                raise Invalid(f"content.actions[{n}] should have required property '{field}'")
        if kind == "reply":
            replies += 1
            if not action["text"].strip() or len(action["text"]) > REPLY_TITLE_LIMIT:
                raise Invalid(f"content.actions[{n}].text must be 1 to {REPLY_TITLE_LIMIT} characters (sandbox)")
    if replies > MAX_REPLIES:
        raise Invalid(f"content.actions: at most {MAX_REPLIES} reply actions (sandbox)")


def check_message(body) -> None:
    if not isinstance(body, dict):
        raise Invalid("body must be an object")
    author = body.get("author")
    if not isinstance(author, dict) or author.get("type") not in ("business", "user"):
        raise Invalid("author.type must be business or user")
    if author["type"] == "user" and not (author.get("userId") or author.get("userExternalId")):
        raise Invalid("author should have required property 'userId'")
    content = body.get("content")
    if not isinstance(content, dict) or content.get("type") not in CONTENT_TYPES:
        raise Invalid(f"content.type must be one of {list(CONTENT_TYPES)} (sandbox)")
    text = content.get("text")
    if text is not None and (not isinstance(text, str) or len(text) > TEXT_LIMIT):
        raise Invalid(f"content.text must be a string of at most {TEXT_LIMIT} characters")
    if content["type"] == "text":
        if not (text or content.get("actions") or content.get("markdownText") or content.get("htmlText")):
            raise Invalid("content should have required property 'text'")
    elif not isinstance(content.get("mediaUrl"), str) or not content["mediaUrl"].startswith(("http://", "https://")):
        raise Invalid("content.mediaUrl must be a URL")
    if "actions" in content:
        check_actions(content["actions"])
    check_flat_metadata(body.get("metadata"))


@blueprint.post("/sunco/v2/apps/<app_id>/conversations/<conversation_id>/messages")
def post_message(app_id, conversation_id):
    refused = refusal(app_id, "messages")
    if refused:
        return refused
    body = request.get_json(silent=True)
    try:
        check_message(body)
    except Invalid as problem:
        return error(400, "bad_request", str(problem))
    with db.transaction() as session:
        message = SuncoMessage(
            id=secrets.token_hex(12),
            app_id=app_id,
            conversation_id=conversation_id,
            author=json.dumps(body["author"], ensure_ascii=False),
            content=json.dumps(body["content"], ensure_ascii=False),
            received=clock.utc_naive(),
        )
        session.add(message)
    reply = {
        "id": message.id,
        "received": iso(message.received),
        "author": body["author"],
        "content": body["content"],
        "source": {"type": "api:conversations"},
    }
    if body.get("metadata"):
        reply["metadata"] = body["metadata"]
    return jsonify(messages=[reply]), 201


@blueprint.post("/sunco/v2/apps/<app_id>/conversations/<conversation_id>/passControl")
def pass_control(app_id, conversation_id):
    refused = refusal(app_id, "passControl")
    if refused:
        return refused
    body = request.get_json(silent=True)
    try:
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("switchboardIntegration"), str)
            or not body["switchboardIntegration"]
        ):
            raise Invalid("should have required property 'switchboardIntegration'")
        check_flat_metadata(body.get("metadata"))
    except Invalid as problem:
        return error(400, "bad_request", str(problem))
    with db.transaction() as session:
        session.add(
            SuncoSwitchboardAction(
                app_id=app_id,
                conversation_id=conversation_id,
                action="passControl",
                switchboard_integration=body["switchboardIntegration"],
                metadata_json=json.dumps(body.get("metadata") or {}, ensure_ascii=False),
                at=clock.utc_naive(),
            )
        )
    return jsonify({}), 200


@blueprint.get("/_sandbox/sunco/messages")
def recorded_messages():
    """Messages posted, oldest first (one conversation's with `conversation=`)."""
    query = select(SuncoMessage).order_by(SuncoMessage.seq)
    if request.args.get("conversation"):
        query = query.where(SuncoMessage.conversation_id == request.args["conversation"])
    with db.transaction() as session:
        return jsonify([message.as_json() for message in session.scalars(query)])


@blueprint.get("/_sandbox/sunco/switchboard")
def recorded_switchboard_actions():
    """passControl calls, oldest first (one conversation's with `conversation=`)."""
    query = select(SuncoSwitchboardAction).order_by(SuncoSwitchboardAction.id)
    if request.args.get("conversation"):
        query = query.where(SuncoSwitchboardAction.conversation_id == request.args["conversation"])
    with db.transaction() as session:
        return jsonify([action.as_json() for action in session.scalars(query)])


@blueprint.post("/_sandbox/sunco/faults")
def add_fault():
    body = request.get_json(silent=True) or {}
    if body.get("operation") not in OPERATIONS:
        return jsonify(error=f"operation must be one of {list(OPERATIONS)}"), 400
    with db.transaction() as session:
        session.merge(
            SuncoFault(
                operation=body["operation"], status=int(body.get("status", 503)), count=int(body.get("count", 1))
            )
        )
    return jsonify(status="ok"), 201
