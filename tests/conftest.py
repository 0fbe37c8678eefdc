"""Shared fixtures: the real domain, trackers built from events, a temporary assistant database."""

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import requests
import time_machine
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def pytest_addoption(parser):
    parser.addoption(
        "--cluster",
        action="store_true",
        help="run tests/cluster against the production profile (scripts/cluster.py; `make test-cluster`)",
    )


def pytest_collection_modifyitems(config, items):
    """tests/cluster start PostgreSQL, Redis, nginx and 2 Rasa replicas: only with --cluster."""
    if config.getoption("--cluster"):
        return
    skip = pytest.mark.skip(reason="the production profile's tests run with --cluster (make test-cluster)")
    for item in items:
        if "tests/cluster/" in item.nodeid.replace("\\", "/"):
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def action_server_modules():
    """Every module of the action server imported, as `rasa run actions` does (rasa_sdk walks the package):
    journeys register themselves when their module is imported."""
    from rasa_sdk.executor import ActionExecutor

    ActionExecutor().register_package("actions")


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    return yaml.safe_load((ROOT / "domain.yml").read_text())


@pytest.fixture
def instant():
    """The instant a test runs at; `tests.clock.at_each_instant` parametrizes it."""
    from tests.clock import DEFAULT_INSTANT

    return DEFAULT_INSTANT


@pytest.fixture(autouse=True)
def clock(instant, request):
    """The project's clock (common/clock.py) frozen at `instant` for the test; `clock.shift(timedelta)` and
    `clock.move_to(datetime)` move it. The sandbox follows through the `sandbox` fixture."""
    from tests.clock import label

    request.node.user_properties.append(("clock", label(instant)))
    with time_machine.travel(instant, tick=False) as traveller:
        yield traveller


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing test says at which instant it ran."""
    outcome = yield
    report = outcome.get_result()
    frozen = dict(item.user_properties).get("clock")
    if report.failed and frozen:
        report.sections.append(("clock", f"the project's clock was frozen at {frozen}"))


@pytest.fixture(autouse=True)
def assistant_db(tmp_path, monkeypatch):
    """Each test gets its own SQLite database for the assistant's state."""
    from common import config
    from common.state import db

    monkeypatch.setattr(config, "ASSISTANT_DB_URL", f"sqlite:///{tmp_path / 'assistant.db'}")
    db.engine.cache_clear()
    yield
    db.engine.cache_clear()


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def user_event(text: str, intent: str, entities: Optional[List[dict]] = None, confidence: float = 0.95) -> dict:
    return {
        "event": "user",
        "text": text,
        "parse_data": {
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "entities": entities or [],
        },
    }


def slot_event(name: str, value: Any) -> dict:
    return {"event": "slot", "name": name, "value": value}


def make_tracker(events: List[dict], slots: Optional[Dict[str, Any]] = None, sender_id: str = "test-user") -> Tracker:
    """A tracker as the action server receives it, built from a list of events."""
    slots = {"language": "en", **(slots or {})}
    for event in events:
        if event["event"] == "slot":
            slots[event["name"]] = event["value"]
    latest = next((e for e in reversed(events) if e["event"] == "user"), None)
    return Tracker(
        sender_id=sender_id,
        slots=slots,
        latest_message=(latest or {}).get("parse_data", {}),
        events=events,
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name=None,
    )


# --- the operator sandbox, as a real HTTP server ------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_sandbox(folder: Path, **extra_env: str):
    """`python -m sandbox` on a free port, with its own database and log in `folder`; yields its URL."""
    port = free_port()
    env = {**os.environ, "SANDBOX_DB_URL": f"sqlite:///{folder / 'sandbox.db'}", "PYTHONPATH": str(ROOT), **extra_env}
    with (folder / "sandbox.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "sandbox", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if requests.get(f"{url}/health", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            raise RuntimeError((folder / "sandbox.log").read_text())
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def sandbox_url(tmp_path_factory):
    with running_sandbox(tmp_path_factory.mktemp("sandbox")) as url:
        yield url


@pytest.fixture
def sandbox(sandbox_url, instant):
    """The sandbox's base URL, its clock frozen at the test's instant, every fixture seeded around it."""
    requests.post(
        f"{sandbox_url}/_sandbox/clock", json={"at": instant.isoformat(), "frozen": True}, timeout=10
    ).raise_for_status()
    requests.post(f"{sandbox_url}/_sandbox/reset", timeout=10).raise_for_status()
    return sandbox_url


@pytest.fixture
def operator(sandbox, monkeypatch):
    """The action server's clients pointed at a freshly reset sandbox."""
    from actions import backends
    from common import config

    monkeypatch.setattr(config, "BSS_BASE_URL", f"{sandbox}/tmf-api")
    monkeypatch.setattr(config, "BSS_TOKEN_URL", f"{sandbox}/oauth/token")
    monkeypatch.setattr(config, "SMS_SENDSMS_URL", f"{sandbox}/cgi-bin/sendsms")
    monkeypatch.setattr(config, "PAYMENTS_BASE_URL", sandbox)
    backends.reset()
    yield sandbox
    backends.reset()  # the next test's clients are built from its own settings


def sms_to(sandbox: str, msisdn: str) -> List[dict]:
    return requests.get(f"{sandbox}/_sandbox/sms", params={"to": msisdn}, timeout=5).json()


def last_code(sandbox: str, msisdn: str) -> str:
    import re

    return re.search(r"\d{6}", sms_to(sandbox, msisdn)[-1]["text"]).group(0)
