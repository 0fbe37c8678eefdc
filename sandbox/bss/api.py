"""The BSS blueprint and what runs around every request: injected faults, the Bearer check,
the TMF content type, and TMF Errors for unknown paths."""

from http import HTTPStatus

from flask import Blueprint, current_app, jsonify, request

from sandbox import faults

from . import auth
from .common import JSON_TYPE, error_response

blueprint = Blueprint("bss", __name__)

# TMF630 codes for the statuses a gateway or BSS answers when it is in trouble.
FAULT_CODES = {
    400: "ERR_BAD_REQUEST",
    401: "ERR_UNAUTHORIZED",
    403: "ERR_FORBIDDEN",
    404: "ERR_NOT_FOUND",
    409: "ERR_CONFLICT",
    429: "ERR_TOO_MANY_REQUESTS",
    500: "ERR_INTERNAL",
    502: "ERR_BAD_GATEWAY",
    503: "ERR_UNAVAILABLE",
    504: "ERR_GATEWAY_TIMEOUT",
}


@blueprint.before_request
def gateway():
    faults.raise_if_faulty("bss")
    if request.path.startswith("/tmf-api/"):
        return auth.check_bearer()
    return None


@blueprint.after_request
def tmf_content_type(response):
    if response.mimetype == "application/json":
        response.headers["Content-Type"] = JSON_TYPE
    return response


blueprint.add_url_rule("/oauth/token", "oauth_token", auth.token_endpoint, methods=["POST"])


@blueprint.route("/tmf-api/<path:rest>", methods=["GET", "POST", "PATCH", "PUT", "DELETE"])
def unknown_resource(rest):
    """No route took the request: a method the resource does not have (405) or no such resource (404)."""
    adapter = current_app.url_map.bind("sandbox")
    allowed = []
    for method in ("GET", "POST", "PATCH", "PUT", "DELETE"):
        try:
            endpoint, _ = adapter.match(request.path, method=method)
        except Exception:  # werkzeug's NotFound, MethodNotAllowed, RequestRedirect
            continue
        if endpoint != "bss.unknown_resource":
            allowed.append(method)
    if allowed:
        return error_response(
            405,
            "ERR_METHOD_NOT_ALLOWED",
            "Method not allowed",
            f"{request.method} is not allowed on {request.path}",
            {"Allow": ", ".join(allowed)},
        )
    return error_response(404, "ERR_NOT_FOUND", "Resource not found", f"No TMF resource at /tmf-api/{rest}")


def fault_response(fault):
    """An injected failure, answered as the gateway would: a TMF Error, Retry-After when given."""
    try:
        reason = HTTPStatus(fault.status).phrase
    except ValueError:
        reason = "Error"
    code = FAULT_CODES.get(fault.status, "ERR_" + reason.upper().replace(" ", "_"))
    response = jsonify(
        {
            "code": code,
            "reason": reason,
            "message": f"{reason} (injected by the sandbox)",
            "status": str(fault.status),
            "@type": "Error",
        }
    )
    response.status_code = fault.status
    response.headers["Content-Type"] = JSON_TYPE
    if fault.retry_after is not None:
        response.headers["Retry-After"] = str(fault.retry_after)
    return response
