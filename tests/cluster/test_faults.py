"""Faults under load, on loopback: while customers top up in French and Spanish through the balancer, a Rasa
replica or an action server is killed, Redis restarts, PostgreSQL refuses connections for a few seconds, the operator's
BSS answers 2 s late or fails.

Each time: every customer gets an answer or the clear "please send it again" in their language (never silence, an
HTTP error or another language); no money move runs twice or is lost (the assistant's operations against the
sandbox's ledger); no conversation loses an event (what was answered is in the tracker, in order); and the service
resumes by itself (the supervisor restarts what died; no test restarts anything).
"""

import re
import signal

import pytest
import requests

from tests.cluster.conftest import Customer, run_customers

CUSTOMERS_PER_RUN = 4


@pytest.fixture(autouse=True)
def fresh_sandbox(cluster):
    requests.post(f"{cluster.sandbox}/_sandbox/reset", timeout=30).raise_for_status()
    yield
    requests.delete(f"{cluster.sandbox}/_sandbox/faults", timeout=30)


def customers(cluster):
    return [Customer(cluster, ("fr", "es")[n % 2]) for n in range(CUSTOMERS_PER_RUN)]


def is_subsequence(wanted, found) -> bool:
    remaining = iter(found)
    return all(any(item == seen for seen in remaining) for item in wanted)


def assert_nothing_lost(cluster, people, all_topped_up=True):
    """`all_topped_up`: the fault was in the assistant's own machinery, so every customer (sending again when asked,
    or opening a new chat) got their top-up; an operator that fails may instead have stopped some journeys."""
    everyone = [chat for person in people for chat in person.conversations()]
    for chat in everyone:
        assert chat.problems == [], (chat.sender, chat.problems, chat.transcript)
    operations = cluster.operations([c.conversation_id for c in everyone])
    done = [o for o in operations if o["status"] == "done"]
    assert not [o for o in operations if o["status"] == "executing"], operations  # none left half-way
    if all_topped_up:
        last = {person.conversations()[-1].conversation_id for person in people}
        assert {o["conversation_id"] for o in done} >= last, [c.transcript for c in everyone]
    ledger = cluster.ledger()
    assert sorted(ledger["keys"]) == sorted(o["id"] for o in done)  # each ran at the operator, under its own key
    assert ledger["topups"] == len(done)  # ... and once
    for customer in everyone:
        tracker = cluster.tracker(cluster.balancer, customer.conversation_id)
        said = [e["text"] for e in tracker["events"] if e["event"] == "user"]
        answered = [m for m in customer.answered if not re.fullmatch(r"\d{6}", m)]  # codes are stored redacted
        assert is_subsequence(answered, said), (customer.sender, answered, said)


def test_the_operator_answering_two_seconds_late(cluster):
    everyone = customers(cluster)
    slow = {"service": "bss", "delay": 2, "count": 40}
    run_customers(everyone, during=lambda: requests.post(f"{cluster.sandbox}/_sandbox/faults", json=slow, timeout=10))
    assert_nothing_lost(cluster, everyone)


def test_the_operator_failing(cluster):
    everyone = customers(cluster)
    failing = {"service": "bss", "status": 503, "count": 8}
    run_customers(
        everyone, during=lambda: requests.post(f"{cluster.sandbox}/_sandbox/faults", json=failing, timeout=10)
    )
    assert_nothing_lost(cluster, everyone, all_topped_up=False)
    requests.delete(f"{cluster.sandbox}/_sandbox/faults", timeout=10)  # the operator is back
    after = [Customer(cluster, "fr"), Customer(cluster, "es")]
    run_customers(after)
    assert_nothing_lost(cluster, everyone + after, all_topped_up=False)  # the ledger still matches, all told
    finished = cluster.operations([person.conversations()[-1].conversation_id for person in after])
    assert [o["status"] for o in finished] == ["done", "done"]  # the service resumed by itself


def test_redis_restarting(cluster):
    everyone, killed = customers(cluster), {}
    run_customers(everyone, during=lambda: killed.update(pid=cluster.kill("redis")))
    cluster.wait_restarted("redis", killed["pid"])
    assert_nothing_lost(cluster, everyone)


def test_postgresql_refusing_connections_for_a_few_seconds(cluster):
    everyone, stopped = customers(cluster), {}
    # PostgreSQL's fast shutdown: connections are cut and refused until the supervisor starts it again
    run_customers(everyone, during=lambda: stopped.update(pid=cluster.kill("postgres", signal.SIGINT)))
    cluster.wait_restarted("postgres", stopped["pid"])
    assert_nothing_lost(cluster, everyone)


def test_an_action_server_killed(cluster):
    everyone, killed = customers(cluster), {}
    run_customers(everyone, during=lambda: killed.update(pid=cluster.kill("actions-1")))
    cluster.wait_restarted("actions-1", killed["pid"], cluster.state()["actions"][0] + "/health")
    assert_nothing_lost(cluster, everyone)


def test_a_rasa_replica_killed(cluster):
    everyone, killed = customers(cluster), {}
    run_customers(everyone, during=lambda: killed.update(pid=cluster.kill("rasa-1")))
    assert_nothing_lost(cluster, everyone)  # served by the other replica meanwhile
    cluster.wait_restarted("rasa-1", killed["pid"], f"{cluster.rasa[0]}/status?token={cluster.token}")  # model loaded
