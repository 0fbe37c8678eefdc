"""Idempotency-Key: a money move runs once per key; a retry with the same key gets the first answer.

The stored answer and the money move are written in the same transaction, so a crash cannot keep
one without the other. Only successful moves are stored: a refused one moved nothing, and a retry
may succeed once the customer has, say, topped up.
"""

import hashlib

from flask import jsonify, request

from sandbox import db
from sandbox.errors import TMFError

from .common import canonical_json, now
from .models import IdempotentResponse

HEADER = "Idempotency-Key"


def require_key() -> str:
    key = (request.headers.get(HEADER) or "").strip()
    if not key:
        raise TMFError(
            400,
            "ERR_IDEMPOTENCY_KEY_REQUIRED",
            "Idempotency-Key required",
            f"{request.method} {request.path} moves money: send an {HEADER} header",
        )
    if len(key) > 255:
        raise TMFError(400, "ERR_BAD_REQUEST", "Bad request", f"{HEADER} is longer than 255 characters")
    return key


def run_once(scope: str, key: str, body: dict, work):
    """Runs `work(session) -> (status, body)` once for (scope, key); replays the stored answer after."""
    fingerprint = hashlib.sha256(canonical_json(body).encode()).hexdigest()
    with db.transaction() as session:
        stored = session.get(IdempotentResponse, (scope, key))
        if stored is not None:
            if stored.fingerprint != fingerprint:
                raise TMFError(
                    409,
                    "ERR_IDEMPOTENCY_KEY_REUSED",
                    "Idempotency-Key reused",
                    f"{HEADER} {key!r} was already used with a different request body",
                )
            response = jsonify(stored.body)
            response.status_code = stored.status
            response.headers["Idempotent-Replayed"] = "true"
            return response
        status, answer = work(session)
        session.add(
            IdempotentResponse(scope=scope, key=key, fingerprint=fingerprint, status=status, body=answer, created=now())
        )
    response = jsonify(answer)
    response.status_code = status
    return response
