"""Simulated customers for `make bench` (bench/run.py starts locust with this file, headless).

Each customer runs a whole journey over the REST channel, in fr, es or en, as a new conversation: a greeting, a
balance question, identification by SMS code (read from the sandbox's outbox), the balance, a top-up paid from the
mobile money wallet with its confirmation, a help-centre question, thanks. Every turn is named after what it costs:
`operator` when the assistant calls the operator's systems (BSS, SMS gateway, Help Center), `nlu` otherwise (NLU and
dialogue, the action server at most). A turn fails on an HTTP error, a timeout or an empty answer.

Many customers identify the same fixture lines: as tests/e2e does, the stack lifts the resend throttle
(bench/stack.py load_env); and so that no one types another customer's code (3 wrong codes lock a line), the
customers of one line take turns between "here is my number" and reading the new SMS.

Environment: BENCH_SANDBOX (the sandbox's URL), BENCH_SAMPLES (where to write every turn, JSON lines),
BENCH_THINK (seconds between two messages of a customer, "min,max"; default 1,2).
"""

import json
import os
import random
import re
import time
import uuid
from typing import Dict, List

import gevent.lock
import requests
from journeys import CUSTOMERS, WALLET  # noqa: E402  (bench/ is on the path: locust runs this file)
from locust import FastHttpUser, events, task

SANDBOX = os.environ.get("BENCH_SANDBOX", "http://127.0.0.1:5080")
THINK = tuple(float(x) for x in os.environ.get("BENCH_THINK", "1,2").split(","))

samples: List[Dict] = []
line_turns: Dict[str, gevent.lock.Semaphore] = {}


@events.request.add_listener
def record(request_type, name, response_time, response_length, exception, start_time=None, **kwargs):
    if request_type == "POST":
        samples.append({"kind": name, "ms": response_time, "ok": exception is None, "at": start_time or time.time()})


@events.quitting.add_listener
def write_samples(environment, **kwargs):
    path = os.environ.get("BENCH_SAMPLES")
    if path:
        with open(path, "w") as out:
            out.writelines(json.dumps(s) + "\n" for s in samples)


sandbox = requests.Session()  # connections to the sandbox kept alive across polls


def outbox(msisdn: str) -> List[Dict]:
    reply = sandbox.get(f"{SANDBOX}/_sandbox/sms", params={"to": msisdn}, timeout=10)
    reply.raise_for_status()
    return reply.json()


class Customer(FastHttpUser):  # geventhttpclient: less CPU per call than requests, on the same 2 cores
    def think(self) -> None:
        time.sleep(random.uniform(*THINK))

    def say(self, sender: str, message: str, kind: str) -> List[Dict]:
        with self.client.post(
            "/webhooks/rest/webhook", json={"sender": sender, "message": message}, name=kind, catch_response=True
        ) as reply:
            if reply.status_code != 200:
                reply.failure(f"HTTP {reply.status_code}")
                return []
            answer = reply.json()
            if not answer:
                reply.failure("no answer")
            return answer

    def identify(self, sender: str, customer: Dict) -> str:
        """Sends the number and reads the code sent for it; the line's other customers wait meanwhile."""
        msisdn = customer["msisdn"]
        with line_turns.setdefault(msisdn, gevent.lock.Semaphore()):
            before = len(outbox(msisdn))
            self.say(sender, customer["typed"], "operator")  # the line looked up, the code sent by SMS
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                sent = outbox(msisdn)
                if len(sent) > before:
                    return re.search(r"\d{6}", sent[-1]["text"]).group(0)
                time.sleep(0.05)
        raise RuntimeError(f"no SMS to {msisdn}")

    @task
    def journey(self) -> None:
        language = random.choice(sorted(CUSTOMERS))
        customer = CUSTOMERS[language]
        sender = f"bench-{language}-{uuid.uuid4().hex[:12]}"
        steps = [
            ("hello", "nlu"),
            ("balance", "nlu"),  # not identified yet: the assistant asks for the number
        ]
        for key, kind in steps:
            self.say(sender, customer[key], kind)
            self.think()
        try:
            code = self.identify(sender, customer)
        except Exception as error:  # no code, no journey: counted as a failed turn
            events.request.fire(
                request_type="POST", name="operator", response_time=0, response_length=0, exception=error
            )
            return
        self.think()
        for message, kind in (
            (code, "operator"),  # the code checked, the balance read from the BSS
            (customer["top_up"], "operator"),  # the line's market and limits, the payment methods
            (WALLET, "operator"),  # the summary to confirm
            (customer["yes"], "operator"),  # the money moves (or the wallet is short: the operator says so)
            (customer["faq"], "operator"),  # the Help Center searched
            (customer["thanks"], "nlu"),
        ):
            self.say(sender, message, kind)
            self.think()
