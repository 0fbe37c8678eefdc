"""The SMS gateway: Kannel's smsbox `GET /cgi-bin/sendsms`, replying with Kannel's own codes and texts
(gw/smsbox.c), plus the outbox tests read at `GET /_sandbox/sms?to=`.

Every accepted SMS lands in the outbox table. When `dlr-url` and `dlr-mask` are given, the gateway
calls the URL back from a background thread like a real SMSC would: 8 (delivered to SMSC) then
1 (delivered to phone), each only if its bit is in the mask, with Kannel's escapes (%d, %A, %p...)
substituted. A number marked unreachable (`POST /_sandbox/sms/unreachable {"to": "+229..."}`, until the
next reset) gets 8 then 2 (not delivered to phone, `stat:UNDELIV err:001`) instead, as from a phone that is off
for longer than the SMS centre keeps trying.
"""

import logging
import os
import secrets
import threading
import time
from datetime import datetime
from urllib.parse import parse_qsl, quote

import requests
from flask import Blueprint, Response, jsonify, request
from sqlalchemy import Column, DateTime, Integer, String, Text, select

from common import clock
from sandbox import db, faults

SMS_USERNAME = os.environ.get("SANDBOX_SMS_USERNAME", "assistant")
SMS_PASSWORD = os.environ.get("SANDBOX_SMS_PASSWORD", "sandbox-sms")
# Kannel's `global-sender`: used when a request has no `from`; empty means `from` is required.
SMS_DEFAULT_SENDER = os.environ.get("SANDBOX_SMS_DEFAULT_SENDER", "")
SMSC_ID = "sandbox-smsc"
NUMBER_CHARS = set("0123456789 +-")  # Kannel's SENDSMS_DEFAULT_CHARS
DLR_DELIVERED_TO_PHONE, DLR_NOT_DELIVERED_TO_PHONE, DLR_DELIVERED_TO_SMSC = 1, 2, 8

blueprint = Blueprint("sms", __name__)
log = logging.getLogger(__name__)


class OutboxSms(db.Base):
    __tablename__ = "sms_outbox"
    id = Column(Integer, primary_key=True)
    message_id = Column(String(40), nullable=False)  # the SMSC's id, %F in delivery reports
    to = Column(String(32), nullable=False, index=True)  # E.164 with "+"
    sender = Column(String(32), nullable=False)
    text = Column(Text, nullable=False)
    coding = Column(Integer, nullable=False, default=0)
    dlr_mask = Column(Integer)
    dlr_url = Column(Text)
    sent_at = Column(DateTime, nullable=False)

    def as_json(self):
        return {"to": self.to, "text": self.text, "sent_at": iso(self.sent_at)}


class UnreachableNumber(db.Base):
    __tablename__ = "sms_unreachable"
    to = Column(String(32), primary_key=True)  # E.164 with "+"


def iso(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def e164(number: str) -> str:
    """`+2290197000001`, `002290197000001`, `2290197000001` and `229-01-97...` all give `+2290197000001`."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if number.strip().startswith("00"):
        digits = digits[2:]
    return "+" + digits


def kannel_reply(status: int, body: str) -> Response:
    """smsbox answers text/html with no-cache headers (sendsms_reply_hdrs)."""
    return Response(
        body, status=status, headers={"Content-Type": "text/html", "Pragma": "no-cache", "Cache-Control": "no-cache"}
    )


def fault_response(fault):
    bodies = {403: "Not routable. Do not try again.", 500: "Sending failed."}
    reply = kannel_reply(fault.status, bodies.get(fault.status, "Temporal failure, try again later."))
    if fault.retry_after:
        reply.headers["Retry-After"] = str(fault.retry_after)
    return reply


def _int_arg(value, default=-1):
    """Kannel reads numbers with sscanf("%d"): junk leaves the field undefined (-1)."""
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def _text_in_charset(charset: str):
    """The raw `text` bytes decoded with the request's charset (UTF-8 by default, UTF-16BE for UCS-2)."""
    raw = dict(parse_qsl(request.query_string.decode("latin-1"), keep_blank_values=True, encoding="latin-1"))
    if "text" not in raw:
        return ""
    return raw["text"].encode("latin-1").decode(charset or "UTF-8")


@blueprint.get("/cgi-bin/sendsms")
def sendsms():
    faults.raise_if_faulty("sms")
    args = request.args
    username = args.get("username", args.get("user"))
    password = args.get("password", args.get("pass"))
    if username != SMS_USERNAME or password != SMS_PASSWORD:
        return kannel_reply(403, "Authorization failed for sendsms")

    to = args.get("to")
    if to is None:
        return kannel_reply(400, "Missing receiver number, rejected")
    if to == "":
        return kannel_reply(400, "Empty receiver number not allowed, rejected")
    # `to` is a space separated list; an unencoded "+" arrives as a space, hence e164() below.
    receivers = [number for number in to.split() if set(number) <= NUMBER_CHARS and any(c.isdigit() for c in number)]
    if not receivers:
        return kannel_reply(400, "Number(s) has/have been denied by white- and/or black-lists.")

    sender = args.get("from") or SMS_DEFAULT_SENDER
    if not sender:
        return kannel_reply(400, "Sender missing and no global set, rejected")

    dlr_url = args.get("dlr-url", args.get("dlrurl")) or ""
    if dlr_url and not dlr_url.lower().startswith(("http://", "https://")):
        return kannel_reply(400, "DLR-URL field misformed, rejected")
    dlr_mask = _int_arg(args.get("dlr-mask", args.get("dlrmask")))
    if not -1 <= dlr_mask <= 63:
        return kannel_reply(400, "DLR-Mask field misformed, rejected")
    coding = _int_arg(args.get("coding"))
    if not -1 <= coding <= 2:
        return kannel_reply(400, "Coding field misformed, rejected")
    try:
        text = _text_in_charset(args.get("charset"))
    except (LookupError, UnicodeDecodeError):
        return kannel_reply(400, "Charset or body misformed, rejected")

    now = clock.utc_naive()
    with db.transaction() as session:
        messages = [
            OutboxSms(
                message_id=secrets.token_hex(8),
                to=e164(number),
                sender=sender,
                text=text,
                coding=max(coding, 0),
                dlr_mask=dlr_mask if dlr_mask > 0 else None,
                dlr_url=dlr_url or None,
                sent_at=now,
            )
            for number in dict.fromkeys(receivers)
        ]
        session.add_all(messages)

    with db.transaction() as session:
        unreachable = set(session.scalars(select(UnreachableNumber.to)))
    for message in messages:
        if message.dlr_url and message.dlr_mask:
            threading.Thread(
                target=_send_delivery_reports, args=(message, message.to not in unreachable), daemon=True
            ).start()
    return kannel_reply(202, "0: Accepted for delivery")


def _dlr_url(message: OutboxSms, status: int, smsc_reply: str, moment: float) -> str:
    """Kannel's escape codes, URL-encoded as smsbox does."""
    values = {
        "d": str(status),
        "A": smsc_reply,
        "p": message.sender,
        "P": message.to,
        "q": message.sender,
        "Q": message.to,
        "F": message.message_id,
        "I": message.message_id,
        "i": SMSC_ID,
        "n": SMS_USERNAME,
        "c": str(message.coding),
        "T": str(int(moment)),
        "t": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(moment)),
        "a": " ".join(message.text.split()),
        "b": message.text,
        "k": (message.text.split() or [""])[0],
        "%": "%",
    }
    out, template, i = [], message.dlr_url, 0
    while i < len(template):
        code = template[i + 1] if template[i] == "%" and i + 1 < len(template) else None
        if code in values:
            out.append(values[code] if code == "%" else quote(values[code], safe=""))
            i += 2
        else:
            out.append(template[i])
            i += 1
    return "".join(out)


def _send_delivery_reports(message: OutboxSms, reachable: bool):
    """Best effort, like an SMSC: a report that cannot be delivered is logged and dropped."""
    events = [
        (DLR_DELIVERED_TO_SMSC, "ACK/"),
        (DLR_DELIVERED_TO_PHONE, f"id:{message.message_id} sub:001 dlvrd:001 stat:DELIVRD err:000")
        if reachable
        else (DLR_NOT_DELIVERED_TO_PHONE, f"id:{message.message_id} sub:001 dlvrd:000 stat:UNDELIV err:001"),
    ]
    for status, smsc_reply in events:
        if not message.dlr_mask & status:
            continue
        time.sleep(0.05)
        url = _dlr_url(message, status, smsc_reply, clock.timestamp())
        try:
            requests.get(url, timeout=5)
        except requests.RequestException as error:
            log.warning("delivery report to %s failed: %s", message.dlr_url, error)


@blueprint.get("/_sandbox/sms")
def outbox():
    """The SMS sent to one number (or to everyone without `to`), oldest first."""
    query = select(OutboxSms).order_by(OutboxSms.sent_at, OutboxSms.id)
    if request.args.get("to"):
        query = query.where(OutboxSms.to == e164(request.args["to"]))
    with db.transaction() as session:
        return jsonify([message.as_json() for message in session.scalars(query)])


@blueprint.post("/_sandbox/sms/unreachable")
def mark_unreachable():
    """This number's phone is off: its SMS are accepted, then reported not delivered."""
    to = e164(str((request.get_json(force=True, silent=True) or {}).get("to") or ""))
    if len(to) < 8:
        return jsonify(error="to must be a phone number"), 400
    with db.transaction() as session:
        session.merge(UnreachableNumber(to=to))
    return jsonify(to=to), 201
