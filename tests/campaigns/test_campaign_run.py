"""A whole campaign as an administrator runs it: a list of 1 000 numbers (some malformed, some twice, some
opted out) through `python -m campaigns`, sent by a real sender process to the sandbox's Kannel, killed mid-way
and started again. Each number gets its message once, in its language; nobody who said stop gets one."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import requests

from common.state import campaigns, consent
from tests.clock import DEFAULT_INSTANT, offset_for

ROOT = Path(__file__).resolve().parents[2]


def numbers():
    benin = [f"01 97 {i // 100:02d} {i % 100:02d} 1{i % 10}" for i in range(600)]
    guatemala = [f"5512 {i:04d}" for i in range(390)]
    return benin, guatemala


@pytest.fixture
def campaign_list(tmp_path):
    benin, guatemala = numbers()
    rows = ["numero,nom,langue"]
    rows += [f"{n},Client {i},{'fr' if i % 3 else 'en'}" for i, n in enumerate(benin)]
    rows += [f"{n},Cliente {i},es" for i, n in enumerate(guatemala)]
    rows += [f"{n},again,fr" for n in benin[:20]]  # listed twice
    rows += ["12345,bad,fr", "abc,bad,fr", "+1 555,bad,en", ",empty,fr"]  # malformed
    path = tmp_path / "list.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def cli(env, *args, timeout=60):
    done = subprocess.run(
        [sys.executable, "-m", "campaigns", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def outbox(sandbox):
    return requests.get(f"{sandbox}/_sandbox/sms", timeout=30).json()


def wait_for(condition, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)  # polling another process's progress, with a deadline
    raise AssertionError("not reached in time")


def test_a_thousand_numbers_each_reached_once_across_a_restart(sandbox, tmp_path, campaign_list, monkeypatch):
    db_url = f"sqlite:///{tmp_path / 'assistant.db'}"
    monkeypatch.setattr("common.config.ASSISTANT_DB_URL", db_url)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ASSISTANT_DB_URL": db_url,
        "SMS_SENDSMS_URL": f"{sandbox}/cgi-bin/sendsms",
        "RASA_URL": "http://127.0.0.1:9",  # nobody here has a chat conversation: everything goes by SMS
        "CLOCK_OFFSET_SECONDS": str(offset_for(DEFAULT_INSTANT)),  # mid-afternoon in Cotonou, morning in Guatemala
    }
    benin, guatemala = numbers()
    opted_out = ["+229" + n.replace(" ", "") for n in benin[100:115]]
    for msisdn in opted_out:
        consent.opt_out(msisdn, consent.ALL_MARKETING, "whatsapp")

    campaign_id = cli(
        env,
        "create",
        "--name",
        "Pass week-end",
        "--kind",
        "offer",
        "--fr",
        "Bonjour {name}, le pass week-end est là !",
        "--es",
        "Hola {name}, ¡llegó el pase de fin de semana!",
        "--en",
        "Hi {name}, the weekend pass is here!",
        "--rate",
        "100000",
        "--starts-at",
        DEFAULT_INSTANT.isoformat(),
    ).strip()
    uploaded = cli(env, "upload", campaign_id, str(campaign_list))
    assert "990 numbers added, 20 duplicates" in uploaded and "4 rows rejected" in uploaded
    cli(env, "start", campaign_id)

    sender = subprocess.Popen([sys.executable, "-m", "campaigns", "send", "--watch"], cwd=ROOT, env=env)
    try:
        wait_for(lambda: len(outbox(sandbox)) >= 300)
        sender.send_signal(signal.SIGKILL)  # the worst case: no chance to finish the message under way
        sender.wait(timeout=30)
    finally:
        sender.kill()
    # the second sender starts five minutes later: a message the first left half-sent is past its lease
    later = {**env, "CLOCK_OFFSET_SECONDS": str(offset_for(DEFAULT_INSTANT) + 300), "CAMPAIGN_CLAIM_SECONDS": "60"}
    sender = subprocess.Popen([sys.executable, "-m", "campaigns", "send", "--watch"], cwd=ROOT, env=later)
    try:
        wait_for(lambda: campaigns.get(campaign_id).status == campaigns.DONE)
    finally:
        sender.terminate()
        sender.wait(timeout=30)

    sent = outbox(sandbox)
    per_number = Counter(m["to"] for m in sent)
    assert max(per_number.values()) == 1  # nobody twice
    assert not set(opted_out) & set(per_number)  # nobody who said stop
    report = campaigns.report(campaign_id)
    assert report["skipped"] == len(opted_out)
    # a message killed mid-send may or may not have left: `unknown`, never sent again
    assert report["sent"] <= len(per_number) <= report["sent"] + report["unknown"]
    assert report["unknown"] <= 1  # the message under way when it was killed: reported, not re-sent
    assert report["sent"] + report["unknown"] == 990 - len(opted_out)
    texts = {m["to"]: m["text"] for m in sent}

    def e164(number, country):
        return country + number.replace(" ", "")

    reached = {i: texts.get(e164(n, "+229")) for i, n in enumerate(benin[:3])}
    assert reached[0] in ("Hi Client 0, the weekend pass is here!", None)  # None: the one killed mid-send
    assert reached[1] in ("Bonjour Client 1, le pass week-end est là !", None)
    assert texts.get(e164(guatemala[7], "+502"), "Hola Cliente 7, ¡llegó el pase de fin de semana!").startswith("Hola")
