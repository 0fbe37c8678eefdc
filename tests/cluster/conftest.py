"""The production profile (scripts/cluster.py) started once for tests/cluster, on loopback: nginx, 2 Rasa replicas,
2 action servers, PostgreSQL, Redis, the sandbox. Only with `pytest --cluster` (`make test-cluster`).

CLUSTER_BASE_PORT chooses its ports (default 7300: ten ports from there); its files go to a folder under var/ (the
PostgreSQL user must reach it, which /tmp/pytest-of-root does not allow) removed afterwards.
"""

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Dict, List, Optional

import pytest
import requests
from sqlalchemy import create_engine, text

from common.language import detect_language
from tests.e2e.conftest import clock, stack_offset  # noqa: F401 (the ticking clock fixture)

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = ROOT / "scripts" / "cluster.py"
TRY_AGAIN = {
    "fr": "votre message n'a pas pu être traité",
    "es": "no pudimos procesar su mensaje",
    "en": "couldn't process your message",
}
# A money move whose action server died mid-call is taken over after this long (actions/dialogue/operations.py).
STALE_SECONDS = 8


@pytest.fixture(scope="session")
def cluster():
    (ROOT / "var").mkdir(exist_ok=True)  # a fresh clone has none yet
    directory = Path(tempfile.mkdtemp(prefix="cluster-test-", dir=ROOT / "var"))
    directory.chmod(0o755)
    env = {
        **os.environ,
        "CLUSTER_BASE_PORT": os.environ.get("CLUSTER_BASE_PORT", "7300"),
        "CLUSTER_DIR": str(directory),
        "CLOCK_OFFSET_SECONDS": repr(stack_offset()),
        # many conversations identify the same fixture customers within minutes
        "OTP_RESEND_SECONDS": "0",
        "OTP_MAX_SENDS_PER_HOUR": "100000",
        "OPERATION_STALE_SECONDS": str(STALE_SECONDS),
    }
    started = subprocess.run([sys.executable, str(CLUSTER), "up"], env=env, cwd=ROOT, capture_output=True, text=True)
    try:
        if started.returncode != 0:
            pytest.fail(f"the cluster did not start:\n{started.stdout[-3000:]}\n{started.stderr[-5000:]}")
        yield Cluster(directory)
    finally:
        subprocess.run([sys.executable, str(CLUSTER), "down"], env=env, cwd=ROOT, capture_output=True)
        shutil.rmtree(directory / "postgres", ignore_errors=True)  # the logs stay, for a failure's story


class Cluster:
    """What state.json says, read afresh each time (the supervisor restarts what dies: new pids)."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        first = self.state()
        self.balancer, self.sandbox, self.rasa, self.token = (
            first["balancer"],
            first["sandbox"],
            first["rasa"],
            first["token"],
        )
        self.assistant_db = create_engine(first["postgres"]["assistant_db"], pool_pre_ping=True)

    def state(self) -> Dict:
        return json.loads((self.dir / "state.json").read_text())

    def pid(self, name: str) -> int:
        return self.state()["pids"][name]

    def kill(self, name: str, signum: int = signal.SIGKILL) -> int:
        pid = self.pid(name)
        os.kill(pid, signum)
        return pid

    def wait_restarted(self, name: str, old_pid: int, url: Optional[str] = None, seconds: int = 480) -> None:
        """The supervisor started `name` again and (if `url`) it answers: the service resumed by itself."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            pid = self.state()["pids"].get(name)
            if pid and pid != old_pid and (url is None or answers(url)):
                return
            time.sleep(1)
        raise AssertionError(f"{name} was not restarted within {seconds} s: see {self.dir / 'logs'}")

    def tracker(self, rasa: str, conversation_id: str) -> Dict:
        reply = requests.get(
            f"{rasa}/conversations/{conversation_id}/tracker", params={"token": self.token}, timeout=60
        )
        reply.raise_for_status()
        return reply.json()

    def operations(self, conversation_ids: List[str]) -> List[Dict]:
        with self.assistant_db.connect() as connection:
            rows = connection.execute(
                text("SELECT id, conversation_id, status FROM pending_operation WHERE conversation_id = ANY(:ids)"),
                {"ids": list(conversation_ids)},
            )
            return [dict(row._mapping) for row in rows]

    def ledger(self) -> Dict[str, int]:
        """The sandbox's money moves: top-ups recorded, and the Idempotency-Keys that ran one."""
        with sqlite3.connect(self.state()["sandbox_db"]) as db:
            keys = [k for (k,) in db.execute("SELECT key FROM bss_idempotency WHERE scope = 'topupBalance'")]
            (topups,) = db.execute("SELECT count(*) FROM bss_topup").fetchone()
        return {"keys": keys, "topups": topups}


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=3).status_code == 200
    except requests.RequestException:
        return False


def plain(replies) -> str:
    return "\n".join(r.get("text", "") for r in replies).replace("\u202f", " ").replace("\xa0", " ")


def is_try_again(replies, language: str) -> bool:
    return TRY_AGAIN[language] in plain(replies)


# Customers of the sandbox's fixtures who can top up from their wallet, and what they type, per language.
CUSTOMERS = {
    "fr": {
        "msisdn": "+2290197000001",
        "steps": ["je veux recharger mon crédit", "97 00 00 01", "<code>", "500"],
        "wallet": '/top_up{"payment_method": "wallet"}',
        "yes": "oui",
        "after": "quel est mon solde",
    },
    "es": {
        "msisdn": "+50255500002",
        "steps": ["quiero recargar saldo", "5550 0002", "<code>", "10"],
        "wallet": '/top_up{"payment_method": "wallet"}',
        "yes": "sí, confirmo",
        "after": "cuál es mi saldo",
    },
}
_identifying = {msisdn: threading.Lock() for msisdn in (c["msisdn"] for c in CUSTOMERS.values())}


class Customer:
    """One customer topping up over the REST channel through the balancer, as a person would: a "try again" or a
    lost answer is sent again; every answer is recorded."""

    def __init__(self, cluster: Cluster, language: str, url: Optional[str] = None) -> None:
        self.cluster, self.language, self.url = cluster, language, url or cluster.balancer
        self.sender = f"load-{language}-{uuid.uuid4().hex[:10]}"
        self.conversation_id = "rest:" + self.sender
        self.script = CUSTOMERS[language]
        self.answered: List[str] = []  # the messages answered normally, in order
        self.problems: List[str] = []  # answers no customer should get (silence, an HTTP error, another language)
        self.try_agains = 0
        self.progress = 0
        self.transcript: List[str] = []
        self.next: Optional["Customer"] = None  # the new chat this customer opened when this one went nowhere

    def conversations(self) -> List["Customer"]:
        return [self] + (self.next.conversations() if self.next else [])

    def post(self, message: str):
        reply = requests.post(
            f"{self.url}/webhooks/rest/webhook", json={"sender": self.sender, "message": message}, timeout=180
        )
        self.transcript.append(f"> {message}")
        if reply.status_code != 200:
            self.problems.append(f"{message!r}: HTTP {reply.status_code}")
            return None
        self.transcript.append(plain(reply.json())[:300])
        return reply.json()

    def say(self, message: str, attempts: int = 8):
        for _ in range(attempts):
            replies = self.post(message)
            if replies is None:
                time.sleep(1)
                continue
            if not replies:
                self.problems.append(f"{message!r}: no answer at all")
                time.sleep(1)
                continue
            if is_try_again(replies, self.language):
                self.try_agains += 1
                time.sleep(1)  # the customer sends it again a moment later
                continue
            if detect_language(plain(replies)) not in (self.language, None):  # None: too short to tell
                self.problems.append(f"{message!r}: answered in another language: {plain(replies)[:200]}")
            self.answered.append(message)
            self.progress += 1
            return replies
        self.problems.append(f"{message!r}: no answer after {attempts} tries")
        return None

    def sms(self) -> List[Dict]:
        sent = requests.get(f"{self.cluster.sandbox}/_sandbox/sms", params={"to": self.script["msisdn"]}, timeout=10)
        return sent.json()

    def operation(self) -> Optional[Dict]:
        found = self.cluster.operations([self.conversation_id])
        return found[-1] if found else None

    def top_up(self, chats: int = 3) -> None:
        """The journey; if it went nowhere (a fault cut it before the money move was proposed, say an SMS code lost
        with the database), the customer opens a new chat and starts again, as people do."""
        self.journey()
        operation = self.operation()
        if (operation is None or operation["status"] != "done") and chats > 1:
            self.next = Customer(self.cluster, self.language, self.url)
            self.next.top_up(chats - 1)

    def journey(self) -> None:
        first, number, _code, amount = self.script["steps"]
        self.say(first)
        with _identifying[self.script["msisdn"]]:  # the latest SMS to this line is this conversation's code
            before = len(self.sms())
            self.say(number)
            sent = self.sms()
        if len(sent) == before:
            return  # no code came (the operator failed or was too slow): the customer will open a new chat
        self.say(re.search(r"\d{6}", sent[-1]["text"]).group(0))
        self.say(amount)
        self.say(self.script["wallet"])
        # "yes" until the money moved: an operator failing, or an action server dead mid-move, is answered, then
        # the customer confirms again (a move left "executing" is taken over after STALE_SECONDS)
        deadline = time.monotonic() + 4 * STALE_SECONDS + 60
        while time.monotonic() < deadline:
            self.say(self.script["yes"])
            operation = self.operation()
            if operation is None or operation["status"] in ("done", "failed", "cancelled"):
                break  # moved, refused, or never proposed (the operator failed earlier in the journey)
            time.sleep(2)
        self.say(self.script["after"])


def run_customers(customers: List[Customer], during=None, seconds: int = 600) -> None:
    """Every customer's journey at once; `during()` runs once the first customers are under way."""
    failures = []

    def journey(customer):
        try:
            customer.top_up()
        except Exception as error:  # noqa: BLE001 - reported below, with the customer
            failures.append(f"{customer.sender}: {error!r}")

    threads = [threading.Thread(target=journey, args=(c,), daemon=True) for c in customers]
    for thread in threads:
        thread.start()
    if during is not None:
        deadline = time.monotonic() + 300
        while sum(c.progress for c in customers) < len(customers) and time.monotonic() < deadline:
            time.sleep(0.2)
        during()
    for thread in threads:
        thread.join(timeout=seconds)
    assert not any(t.is_alive() for t in threads), "some customers were still waiting for an answer"
    assert failures == []
