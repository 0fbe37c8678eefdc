"""The API gateway's OAuth2 client-credentials grant (RFC 6749 §4.4) and the Bearer check.

Tokens are signed JWTs (HS256), so they stay valid across a sandbox reset or restart until they expire.
"""

import base64
import hashlib
import hmac
import json

from flask import jsonify, request

from common import clock

from . import settings
from .common import error_response


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(message: str) -> str:
    return _b64(hmac.new(settings.SIGNING_KEY.encode(), message.encode(), hashlib.sha256).digest())


def issue_token(client_id: str) -> str:
    issued = int(clock.timestamp())
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = _b64(
        json.dumps(
            {"sub": client_id, "iat": issued, "exp": issued + settings.TOKEN_TTL_SECONDS, "scope": "tmf-api"}
        ).encode()
    )
    return f"{header}.{claims}.{_sign(header + '.' + claims)}"


def token_problem(token: str):
    """None if the token is good, else why not."""
    try:
        header, claims, signature = token.split(".")
        if not hmac.compare_digest(signature, _sign(header + "." + claims)):
            return "the token signature is invalid"
        if json.loads(_unb64(claims)).get("exp", 0) < clock.timestamp():
            return "the token has expired"
    except (ValueError, json.JSONDecodeError):
        return "the token is malformed"
    return None


def token_endpoint():
    """POST /oauth/token: grant_type=client_credentials, client id and secret by HTTP Basic
    (or client_id / client_secret form fields, which RFC 6749 also allows)."""
    auth = request.authorization
    client_id = auth.username if auth and auth.type == "basic" else request.form.get("client_id")
    secret = auth.password if auth and auth.type == "basic" else request.form.get("client_secret")
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if request.form.get("grant_type") != "client_credentials":
        return (
            jsonify(
                error="unsupported_grant_type", error_description="only grant_type=client_credentials is supported"
            ),
            400,
            headers,
        )
    if not (
        client_id
        and secret
        and hmac.compare_digest(client_id, settings.CLIENT_ID)
        and hmac.compare_digest(secret, settings.CLIENT_SECRET)
    ):
        headers["WWW-Authenticate"] = 'Basic realm="sandbox-bss"'
        return jsonify(error="invalid_client", error_description="unknown client or wrong secret"), 401, headers
    return (
        jsonify(
            access_token=issue_token(client_id),
            token_type="Bearer",
            expires_in=settings.TOKEN_TTL_SECONDS,
            scope="tmf-api",
        ),
        200,
        headers,
    )


def check_bearer():
    """None when the request carries a valid Bearer token, else the 401 TMF Error to answer."""
    scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
    problem = "no Bearer token: get one from POST /oauth/token"
    if scheme.lower() == "bearer" and token.strip():
        problem = token_problem(token.strip())
    if problem is None:
        return None
    return error_response(
        401,
        "ERR_UNAUTHORIZED",
        "Unauthorized",
        problem,
        {"WWW-Authenticate": 'Bearer realm="sandbox-bss", error="invalid_token"'},
    )
