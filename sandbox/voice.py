"""Twilio Programmable Voice, as the IVR sees it: calls that reach the number's webhook, signed as Twilio signs
(`X-Twilio-Signature`: base64 HMAC-SHA1 of the URL and the sorted form parameters, with the account's auth token),
and the TwiML they answer, played back as text.

POST /_sandbox/voice/calls {"from": "+229...", "to": "+229...", "url": optional webhook}   a call comes in
POST /_sandbox/voice/calls/<sid>/keys {"digits": "1"}        the caller presses keys in the current <Gather>
POST /_sandbox/voice/calls/<sid>/speech {"text": "...", "confidence": 0.9}   the caller says something
POST /_sandbox/voice/calls/<sid>/silence                      the <Gather> times out
POST /_sandbox/voice/calls/<sid>/hangup                       the caller hangs up (CallStatus=completed)
GET  /_sandbox/voice/calls/<sid>                              the whole call
Each answer is the turn: what was heard ([{"say", "language"} | {"play", "status"}]), the pending gather (its
attributes), the transfer ({"workflow_sid", "task": {...}}) and whether the call ended. <Play> URLs are fetched,
as Twilio does, and their HTTP status kept. SANDBOX_TWILIO_AUTH_TOKEN must be the assistant's TWILIO_AUTH_TOKEN.
"""

import json
import os
import secrets
import threading
import xml.etree.ElementTree as ElementTree
from typing import Any, Dict, List, Optional

import requests
from flask import Blueprint, jsonify, request
from twilio.request_validator import RequestValidator

blueprint = Blueprint("voice", __name__)
WEBHOOK_URL = os.environ.get("SANDBOX_VOICE_WEBHOOK_URL", "http://localhost:5005/webhooks/voice/webhook")
AUTH_TOKEN = os.environ.get("SANDBOX_TWILIO_AUTH_TOKEN", "sandbox-twilio-auth-token")
ACCOUNT_SID = "AC" + "0" * 32
_calls: Dict[str, Dict[str, Any]] = {}  # kept in the process, cleared by reset
_lock = threading.Lock()


def clear() -> None:
    with _lock:
        _calls.clear()


def signature(url: str, params: Dict[str, str], token: str = None) -> str:
    return RequestValidator(token or AUTH_TOKEN).compute_signature(url, params)


def heard(verbs: List[ElementTree.Element]) -> List[Dict[str, Any]]:
    said = []
    for verb in verbs:
        if verb.tag == "Say":
            said.append({"say": (verb.text or "").strip(), "language": verb.get("language")})
        elif verb.tag == "Play":
            url = (verb.text or "").strip()
            try:
                fetched = requests.get(url, timeout=10)
                said.append({"play": url, "status": fetched.status_code, "bytes": len(fetched.content)})
            except requests.RequestException as error:
                said.append({"play": url, "status": None, "error": type(error).__name__})
    return said


def play(call: Dict[str, Any], twiml: bytes) -> Dict[str, Any]:
    """Runs one TwiML document: what is heard, then a gather to wait in, a transfer, or the end."""
    root = ElementTree.fromstring(twiml)
    turn: Dict[str, Any] = {"heard": [], "gather": None, "enqueued": None, "ended": False}
    for verb in root:
        if verb.tag == "Gather":
            turn["heard"] += heard(list(verb))
            turn["gather"] = dict(verb.attrib)
            break  # Twilio waits here; the next request goes to the gather's action
        if verb.tag in ("Say", "Play"):
            turn["heard"] += heard([verb])
        elif verb.tag == "Enqueue":
            task = verb.find("Task")
            turn["enqueued"] = {
                "workflow_sid": verb.get("workflowSid"),
                "queue": (verb.text or "").strip() or None,
                "task": json.loads(task.text) if task is not None and task.text else None,
            }
            turn["ended"] = True
            break
        elif verb.tag == "Dial":
            turn["dialled"] = "".join(verb.itertext()).strip()
            turn["ended"] = True
            break
        elif verb.tag == "Hangup":
            turn["ended"] = True
            break
    else:
        turn["ended"] = turn["gather"] is None  # the document ran out: Twilio hangs up
    return turn


def post(call: Dict[str, Any], url: str, extra: Dict[str, str]) -> Dict[str, Any]:
    params = {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "CallSid": call["sid"],
        "From": call["from"],
        "To": call["to"],
        "Direction": "inbound",
        "CallStatus": "in-progress",
        **extra,
    }
    headers = {"X-Twilio-Signature": signature(url, params)}
    try:
        reply = requests.post(url, data=params, headers=headers, timeout=120)
    except requests.RequestException as error:
        turn = {"heard": [], "gather": None, "enqueued": None, "ended": True, "error": type(error).__name__}
    else:
        if reply.status_code != 200:
            turn = {"heard": [], "gather": None, "enqueued": None, "ended": True, "error": reply.status_code}
        else:
            turn = play(call, reply.content)
    turn["sent"] = extra
    call["turns"].append(turn)
    call["gather"], call["ended"] = turn["gather"], turn["ended"]
    call["action"] = (turn["gather"] or {}).get("action") or url
    return turn


def found(sid: str) -> Optional[Dict[str, Any]]:
    with _lock:
        return _calls.get(sid)


@blueprint.post("/_sandbox/voice/calls")
def place_call():
    body = request.get_json(force=True, silent=True) or {}
    call = {
        "sid": "CA" + secrets.token_hex(16),
        "from": str(body.get("from") or ""),
        "to": str(body.get("to") or "+22921000000"),
        "url": str(body.get("url") or WEBHOOK_URL),
        "turns": [],
        "gather": None,
        "ended": False,
    }
    with _lock:
        _calls[call["sid"]] = call
    turn = post(call, call["url"], {"CallStatus": "ringing"})
    return jsonify(sid=call["sid"], **turn)


def in_gather(sid: str, extra: Dict[str, str], needs: str = "dtmf"):
    call = found(sid)
    if call is None:
        return jsonify(error="no such call"), 404
    if call["ended"] or call["gather"] is None:
        return jsonify(error="the call is not waiting for the caller"), 409
    if needs not in (call["gather"].get("input") or "dtmf"):
        return jsonify(error=f"the gather does not take {needs}"), 409
    return jsonify(sid=sid, **post(call, call["action"], extra))


@blueprint.post("/_sandbox/voice/calls/<sid>/keys")
def press_keys(sid: str):
    digits = str((request.get_json(force=True, silent=True) or {}).get("digits") or "")
    return in_gather(sid, {"Digits": digits.rstrip("#")})


@blueprint.post("/_sandbox/voice/calls/<sid>/speech")
def speak(sid: str):
    body = request.get_json(force=True, silent=True) or {}
    extra = {"SpeechResult": str(body.get("text") or ""), "Confidence": str(body.get("confidence", 0.9))}
    return in_gather(sid, extra, needs="speech")


@blueprint.post("/_sandbox/voice/calls/<sid>/silence")
def stay_silent(sid: str):
    call = found(sid)
    if call is None or call["gather"] is None or call["ended"]:
        return jsonify(error="the call is not waiting for the caller"), 409
    if str(call["gather"].get("actionOnEmptyResult")).lower() != "true":
        call["ended"] = True  # nothing after the gather: Twilio hangs up
        return jsonify(sid=sid, heard=[], gather=None, enqueued=None, ended=True)
    return in_gather(sid, {})


@blueprint.post("/_sandbox/voice/calls/<sid>/hangup")
def hang_up(sid: str):
    call = found(sid)
    if call is None:
        return jsonify(error="no such call"), 404
    post(call, call["url"], {"CallStatus": "completed"})
    call["ended"] = True
    return jsonify(sid=sid, ended=True)


@blueprint.get("/_sandbox/voice/calls/<sid>")
def show_call(sid: str):
    call = found(sid)
    return (jsonify(call), 200) if call else (jsonify(error="no such call"), 404)
