"""Webhooks signed `t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` (the card payment gateway's scheme,
which the contact centre's dialer uses too): one signer, one checker."""

import hashlib
import hmac
import json
from typing import Any, Dict, Optional

from common import clock


class InvalidSignature(Exception):
    """A webhook whose signature, timestamp or body cannot be trusted."""


def sign(payload: bytes, timestamp: int, secret: str) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(raw_body: bytes, header: str, secret: str, tolerance: int, now: Optional[float] = None) -> Dict[str, Any]:
    """The JSON body, once every check passed: a v1 signature that matches (constant time), a timestamp within
    `tolerance` seconds (no replays)."""
    parts = [p.split("=", 1) for p in (header or "").split(",") if "=" in p]
    timestamps = [v for k, v in parts if k.strip() == "t"]
    signatures = [v.strip() for k, v in parts if k.strip() == "v1"]
    if not timestamps or not signatures or not timestamps[0].strip().isdigit():
        raise InvalidSignature("missing timestamp or signature")
    timestamp = int(timestamps[0])
    if abs((now if now is not None else clock.timestamp()) - timestamp) > tolerance:
        raise InvalidSignature("timestamp outside the tolerance")
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw_body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, s) for s in signatures):
        raise InvalidSignature("signature mismatch")
    return json.loads(raw_body)
