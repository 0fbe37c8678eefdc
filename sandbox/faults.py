"""Failures on demand, so tests can show that nothing is lost when a system is down.

POST /_sandbox/faults {"service": "zendesk", "status": 429, "count": 2, "retry_after": 1}
makes the next `count` requests to that service fail;
POST /_sandbox/faults {"service": "bss", "delay": 2, "count": 20}
makes the next `count` requests to that service answer `delay` seconds late (a slow system, not a failing one);
DELETE /_sandbox/faults clears them all.
Each system's blueprint calls `raise_if_faulty(service)` first thing in every request.
"""

import threading
import time

from flask import Blueprint, jsonify, request

blueprint = Blueprint("faults", __name__)
SERVICES = {"bss", "sms", "zendesk", "payments", "meta"}
_lock = threading.Lock()
_pending = {}  # service -> {"status", "count", "retry_after"}
_slow = {}  # service -> {"delay", "count"}


class InjectedFault(Exception):
    def __init__(self, service, status, retry_after):
        super().__init__(f"injected {status} on {service}")
        self.service, self.status, self.retry_after = service, status, retry_after


def clear():
    with _lock:
        _pending.clear()
        _slow.clear()


def slow_down(service: str) -> None:
    with _lock:
        slow = _slow.get(service)
        if slow:
            slow["count"] -= 1
            if slow["count"] <= 0:
                del _slow[service]
    if slow:
        time.sleep(slow["delay"])  # the sandbox's threaded server keeps answering other requests meanwhile


def raise_if_faulty(service: str) -> None:
    slow_down(service)
    with _lock:
        fault = _pending.get(service)
        if not fault:
            return
        fault["count"] -= 1
        if fault["count"] <= 0:
            del _pending[service]
    raise InjectedFault(service, fault["status"], fault.get("retry_after"))


@blueprint.post("/_sandbox/faults")
def add_fault():
    body = request.get_json(force=True)
    if body.get("service") not in SERVICES:
        return jsonify(error=f"service must be one of {sorted(SERVICES)}"), 400
    if "delay" in body:
        with _lock:
            _slow[body["service"]] = {"delay": float(body["delay"]), "count": int(body.get("count", 1))}
        return jsonify(status="ok"), 201
    with _lock:
        _pending[body["service"]] = {
            "status": int(body.get("status", 503)),
            "count": int(body.get("count", 1)),
            "retry_after": body.get("retry_after"),
        }
    return jsonify(status="ok"), 201


@blueprint.delete("/_sandbox/faults")
def delete_faults():
    clear()
    return "", 204


@blueprint.get("/_sandbox/faults")
def list_faults():
    with _lock:
        return jsonify({**{f"{name} (slow)": fault for name, fault in _slow.items()}, **_pending})
