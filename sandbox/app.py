"""The sandbox application: one Flask app, one blueprint per operator system."""

from datetime import datetime

from flask import Flask, jsonify, request

from common import clock
from sandbox import db
from sandbox.errors import TMFError


def create_app(db_url: str = None) -> Flask:
    from sandbox import (  # noqa: F401  (declare tables)
        bss,
        dialer,
        faults,
        fixtures,
        meta,
        payments,
        sms,
        sunco,  # noqa: F401  (Sunshine Conversations; declares its tables)
        voice,
        zendesk,
    )

    app = Flask(__name__)
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    db.init(db_url)
    fixtures.seed_if_empty()

    for module in (bss, sms, zendesk, payments, faults, sunco, meta, dialer, voice):
        app.register_blueprint(module.blueprint)

    @app.get("/health")
    def health():
        return jsonify(status="ok")

    @app.post("/_sandbox/reset")
    def reset():
        db.reset_all()
        faults.clear()
        dialer.clear()
        voice.clear()
        fixtures.seed()
        return jsonify(status="reset")

    # The sandbox's clock, for tests that run at a stated instant: {"at": "2026-12-05T23:59:00Z", "frozen": true};
    # {"at": null} goes back to the system clock. Reset the sandbox afterwards to seed fixtures around it.
    @app.post("/_sandbox/clock")
    def set_clock():
        body = request.get_json(force=True, silent=True) or {}
        at = body.get("at")
        try:
            clock.travel(datetime.fromisoformat(at.replace("Z", "+00:00")) if at else None, bool(body.get("frozen")))
        except (AttributeError, ValueError):
            return jsonify(error="at must be an ISO-8601 date-time with a zone, or null"), 400
        return jsonify(now=clock.now().isoformat())

    @app.get("/_sandbox/clock")
    def read_clock():
        return jsonify(now=clock.now().isoformat())

    @app.errorhandler(TMFError)
    def tmf_error(error: TMFError):
        return error.response()

    @app.errorhandler(faults.InjectedFault)
    def injected_fault(fault: faults.InjectedFault):
        # Each system answers a failure in its own way (TMF Error, Kannel text, Zendesk JSON).
        module = {"bss": bss, "sms": sms, "zendesk": zendesk, "payments": payments, "meta": meta}[fault.service]
        return module.fault_response(fault)

    return app
