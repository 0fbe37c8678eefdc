"""Starts the real assistant for end-to-end tests: action server, Rasa (rest + socketio), web chat page.

Uses its own ports so a `make run` on the same machine does not get in the way. Needs the model
trained by `make train` (make test trains before running pytest).
"""

import os
import secrets
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
import time_machine
import yaml

from tests.clock import DEFAULT_INSTANT, offset_for, real_time
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MODEL = ROOT / "models" / "assistant.tar.gz"


def stack_offset() -> float:
    """CLOCK_OFFSET_SECONDS for the stack's processes: their clocks start at DEFAULT_INSTANT, whatever today is.
    Read once, from the real clock (the tests' own is frozen)."""
    global _STACK_OFFSET
    if _STACK_OFFSET is None:
        _STACK_OFFSET = offset_for(DEFAULT_INSTANT)
    return _STACK_OFFSET


_STACK_OFFSET = None


@pytest.fixture(autouse=True)
def clock():
    """Replaces the frozen clock of tests/conftest.py: the stack's processes tick, so the tests tick with them,
    at the same offset (a webhook the test signs is as fresh to Rasa as it is to the test)."""
    with time_machine.travel(real_time() + stack_offset(), tick=True) as traveller:
        yield traveller


def wait_until_up(url: str, process: subprocess.Popen, log: Path, seconds: int = 240) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited early:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    raise RuntimeError(f"{url} not up after {seconds} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def assistant(tmp_path_factory):
    if not MODEL.exists():
        pytest.fail("no trained model: run `make train` first")
    work = tmp_path_factory.mktemp("assistant")
    ports = {name: free_port() for name in ("sandbox", "actions", "rasa", "webchat")}
    token = secrets.token_urlsafe(32)  # Rasa's HTTP API is token-protected, as scripts/run.sh starts it
    endpoints = work / "endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{ports["actions"]}/webhook"\n'
        f"tracker_store:\n  type: privacy.tracker_store.RedactingSQLTrackerStore\n  dialect: sqlite\n"
        f"  db: {work / 'tracker.db'}\n"
    )
    env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "ASSISTANT_DB_URL": f"sqlite:///{work / 'assistant.db'}",
        "SANDBOX_DB_URL": f"sqlite:///{work / 'sandbox.db'}",
        "SANDBOX_URL": f"http://127.0.0.1:{ports['sandbox']}",
        "PYTHONPATH": str(ROOT),
        "CLOCK_OFFSET_SECONDS": repr(stack_offset()),
        # many conversations identify the same fixture customers within minutes
        "OTP_RESEND_SECONDS": "0",
        "OTP_MAX_SENDS_PER_HOUR": "1000",
        # the card payment gateway tells Rasa when a checkout is paid (connectors/payment_webhook.py)
        "SANDBOX_PAYMENT_WEBHOOK_URL": f"http://127.0.0.1:{ports['rasa']}/webhooks/payment_webhook/webhook",
        # the IVR's Fon and Bariba recordings: tests write them (connectors/voice_prompts.py)
        "VOICE_RECORDINGS_DIR": str(work / "voice"),
        # Meta's status webhooks, when a test asks the sandbox for them (campaign delivery reports)
        "SANDBOX_WHATSAPP_WEBHOOK_URL": f"http://127.0.0.1:{ports['rasa']}/webhooks/whatsapp/webhook",
    }
    commands = {
        "sandbox": [str(BIN / "python"), "-m", "sandbox", "--port", str(ports["sandbox"])],
        "actions": [str(BIN / "rasa"), "run", "actions", "--port", str(ports["actions"])],
        "rasa": [
            str(BIN / "rasa"),
            "run",
            "--model",
            str(MODEL),
            "--port",
            str(ports["rasa"]),
            "--cors",
            "*",
            "--enable-api",
            f"--auth-token={token}",  # one argument: a token may start with "-"
            "--credentials",
            str(ROOT / "credentials.yml"),
            "--endpoints",
            str(endpoints),
        ],
        "webchat": [
            str(BIN / "python"),
            str(ROOT / "webchat" / "server.py"),
            "--port",
            str(ports["webchat"]),
            "--host",
            "127.0.0.1",
            "--socket-url",
            f"http://127.0.0.1:{ports['rasa']}",
        ],
    }
    health = {"sandbox": "/health", "actions": "/health", "rasa": "/", "webchat": "/health"}
    processes = {}
    try:
        for name, command in commands.items():
            log = work / f"{name}.log"
            processes[name] = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
            )
        for name, process in processes.items():
            wait_until_up(f"http://127.0.0.1:{ports[name]}{health[name]}", process, work / f"{name}.log")
        yield {
            **{name: f"http://127.0.0.1:{port}" for name, port in ports.items()},
            "tracker_db": work / "tracker.db",
            "voice_recordings": work / "voice",
            "assistant_db": work / "assistant.db",
            "token": token,
        }
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def stored_bytes(database: Path) -> bytes:
    """Everything an SQLite database holds on disk: the file and its write-ahead log (recent commits are there)."""
    return b"".join(path.read_bytes() for path in sorted(database.parent.glob(database.name + "*")))


@pytest.fixture
def chat(assistant):
    """Sends messages over the REST channel, as one customer; returns the bot's texts."""
    counter = iter(range(10**6))

    def make(sender=None):
        sender = sender or f"e2e-{uuid.uuid4().hex[:12]}-{next(counter)}"

        def send(message: str):
            reply = requests.post(
                f"{assistant['rasa']}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=60
            )
            reply.raise_for_status()
            return reply.json()

        return send

    return make


def _known_texts():
    """Every text the bot can send, per language, as patterns (placeholders match anything)."""
    import re

    from common.i18n import catalogue

    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    known = {"fr": [], "es": [], "en": []}
    for variations in domain["responses"].values():
        for v in variations:
            known[v["condition"][0]["value"]].append(v["text"])
    for entry in catalogue().values():
        for language, text in entry["text"].items():
            known[language].append(text)

    def pattern(text):
        parts = re.split(r"{\w+}", text.strip())
        literal = sum(len(p) for p in parts)  # how much of the text is fixed wording, not values
        return re.compile("^" + ".+".join(re.escape(p) for p in parts) + "$", re.S), literal

    return {language: [pattern(t) for t in texts] for language, texts in known.items()}


KNOWN = _known_texts()


def _language_of_text(text):
    """The language of the template that explains most of this text ("{a} de {b}" loses to a full sentence)."""
    best = {
        lang: max((literal for p, literal in patterns if p.match(text)), default=-1) for lang, patterns in KNOWN.items()
    }
    ranked = sorted(best.items(), key=lambda kv: -kv[1])
    return ranked[0][0] if ranked[0][1] >= 0 and ranked[0][1] > ranked[1][1] else None


def language_of(messages):
    """The one language every text the bot sent is written in, else None."""
    languages = {_language_of_text(m["text"]) for m in messages if "text" in m}
    return languages.pop() if len(languages) == 1 else None
