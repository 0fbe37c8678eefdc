"""The contact centre's outbound dialer, as far as the assistant sees it: when a call ends, a signed webhook
with its outcome (`Dialer-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`).

POST /_sandbox/dialer/calls {"number": "+229...", "status": "no_answer", "disposition": "", "language": "fr"}
ends a call with that outcome and delivers its event to SANDBOX_DIALER_WEBHOOK_URL at once (the answer says
what the webhook replied); POST /_sandbox/dialer/calls/<id>/redeliver sends the same event again;
GET /_sandbox/dialer/calls lists the calls and their deliveries.
"""

import json
import os
import secrets
import threading
from typing import Any, Dict, List

import requests
from flask import Blueprint, jsonify, request

from common import clock, signed_webhooks

blueprint = Blueprint("dialer", __name__)
WEBHOOK_URL = os.environ.get("SANDBOX_DIALER_WEBHOOK_URL", "http://localhost:5005/webhooks/dialer/webhook")
WEBHOOK_SECRET = os.environ.get("SANDBOX_DIALER_WEBHOOK_SECRET", "dialer-sandbox-secret")
STATUSES = ("answered", "no_answer", "busy", "voicemail", "failed")
_calls: Dict[str, Dict[str, Any]] = {}  # a dialer's memory of the day: kept in the process, cleared by reset
_lock = threading.Lock()


def clear() -> None:
    with _lock:
        _calls.clear()


def _deliver(call: Dict[str, Any]) -> Dict[str, Any]:
    body = json.dumps(call["event"]).encode()
    headers = {
        "Content-Type": "application/json",
        "Dialer-Signature": signed_webhooks.sign(body, int(clock.timestamp()), WEBHOOK_SECRET),
    }
    try:
        reply = requests.post(WEBHOOK_URL, data=body, headers=headers, timeout=10)
        delivery = {"status": reply.status_code, "body": reply.text[:300]}
    except requests.RequestException as error:
        delivery = {"status": 0, "body": type(error).__name__}
    call["deliveries"].append(delivery)
    return delivery


@blueprint.post("/_sandbox/dialer/calls")
def end_call():
    given = request.get_json(silent=True) or {}
    if given.get("status") not in STATUSES or not given.get("number"):
        return jsonify(error=f"number and status ({', '.join(STATUSES)}) are required"), 400
    call_id = "call_" + secrets.token_hex(6)
    event = {
        "id": call_id,
        "number": str(given["number"]),
        "status": given["status"],
        "disposition": str(given.get("disposition") or ""),
        "language": str(given.get("language") or ""),
        "ended_at": clock.now().isoformat(),
    }
    call = {"event": event, "deliveries": []}
    with _lock:
        _calls[call_id] = call
    delivery = _deliver(call)
    return jsonify(id=call_id, delivery=delivery), 201


@blueprint.post("/_sandbox/dialer/calls/<call_id>/redeliver")
def redeliver(call_id: str):
    call = _calls.get(call_id)
    if call is None:
        return jsonify(error="no such call"), 404
    return jsonify(id=call_id, delivery=_deliver(call))


@blueprint.get("/_sandbox/dialer/calls")
def calls() -> Any:
    with _lock:
        listed: List[Dict[str, Any]] = list(_calls.values())
    return jsonify(listed)
