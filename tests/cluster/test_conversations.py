"""Whole conversations against the production profile, through the balancer: identification by SMS code, the
balance, a top-up with its confirmation and a FAQ answer, in each language; then one conversation spread over both
Rasa replicas keeps one consistent history in PostgreSQL, even when two of its messages arrive at once."""

import re
import threading

import pytest
import requests

from tests.cluster.conftest import plain
from tests.e2e.conftest import language_of
from tests.e2e.test_journeys_over_rest import identify, payloads


@pytest.fixture(autouse=True)
def fresh_sandbox(cluster):
    requests.post(f"{cluster.sandbox}/_sandbox/reset", timeout=30).raise_for_status()


def chat(url: str, sender: str):
    def send(message: str):
        reply = requests.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=180)
        reply.raise_for_status()
        return reply.json()

    return send


def sandbox_of(cluster):
    return {"sandbox": cluster.sandbox}


@pytest.mark.parametrize(
    "question, number, msisdn, balance",
    [
        ("cuánto saldo tengo", "5550 0002", "+50255500002", "Q35.50"),
        ("quel est mon solde svp", "97 00 00 01", "+2290197000001", "500 FCFA"),
        ("how much credit do I have", "+229 01 96 00 00 05", "+2290196000005", "800 FCFA"),
    ],
)
def test_balance_after_identification_by_sms_code(cluster, question, number, msisdn, balance):
    send = chat(cluster.balancer, f"e2e-balance-{msisdn}")
    answer = plain(identify(send, sandbox_of(cluster), question, number, msisdn))
    assert balance in answer, answer


def test_awa_tops_up_from_her_wallet_once(cluster):
    send = chat(cluster.balancer, "e2e-awa-top-up")
    asked = identify(send, sandbox_of(cluster), "je veux recharger mon crédit", "97 00 00 01", "+2290197000001")
    assert "Quel montant" in plain(asked), asked
    assert "Comment voulez-vous payer" in plain(send("1000"))
    summary = send('/top_up{"payment_method": "wallet"}')
    assert "Recharge de 1 000 FCFA" in plain(summary) and "/affirm" in payloads(summary)
    done = plain(send("oui"))
    assert "Nouveau solde principal : 3 500 FCFA" in done and "14 000 FCFA" in done, done
    assert "déjà fait" in plain(send("oui"))  # a second yes, perhaps on the other replica, moves nothing
    assert "3 500 FCFA" in plain(send("quel est mon solde"))
    assert cluster.ledger()["topups"] == 1


@pytest.mark.parametrize(
    "question, language",
    [
        ("ma carte SIM est bloquée, comment obtenir le code PUK", "fr"),
        ("mi chip está bloqueado, cómo obtengo el código PUK", "es"),
        ("my sim is blocked, how do I get the PUK code", "en"),
    ],
)
def test_a_help_center_answer_in_the_customers_language(cluster, question, language):
    answer = chat(cluster.balancer, f"e2e-faq-{language}")(question)
    assert language_of(answer) == language and "PUK" in plain(answer), answer


def user_texts(tracker):
    return [e["text"] for e in tracker["events"] if e["event"] == "user"]


def test_a_conversation_sent_alternately_to_both_replicas_keeps_one_tracker(cluster):
    sender = "e2e-alternating"
    replicas = [chat(url, sender) for url in cluster.rasa]
    messages = ["bonjour", "quel est mon solde", "97 00 00 01", None, "merci", "au revoir"]
    for n, message in enumerate(messages):
        if message is None:  # the code of the SMS just sent
            message = re.search(r"\d{6}", last_sms(cluster, "+2290197000001")).group(0)
        replies = replicas[n % 2](message)
        assert replies and language_of(replies) in ("fr", None), (message, replies)  # None: a list of amounts
    seen = [cluster.tracker(url, "rest:" + sender) for url in cluster.rasa]
    assert seen[0]["events"] == seen[1]["events"]  # both replicas read the same history
    said = user_texts(seen[0])
    assert len(said) == len(messages) and said[:3] == messages[:3] and said[4:] == messages[4:], said
    assert "500 FCFA" in "".join(e.get("text") or "" for e in seen[0]["events"] if e["event"] == "bot")


def last_sms(cluster, msisdn):
    return requests.get(f"{cluster.sandbox}/_sandbox/sms", params={"to": msisdn}, timeout=10).json()[-1]["text"]


def test_two_messages_at_once_on_two_replicas_are_served_one_after_the_other(cluster):
    """The Redis lock: each turn runs whole before the next starts, whichever replica takes it."""
    sender = "e2e-simultaneous"
    chat(cluster.rasa[0], sender)("hello")
    barrier, answers = threading.Barrier(2), {}

    def say(url, message):
        barrier.wait()
        answers[message] = chat(url, sender)(message)

    threads = [
        threading.Thread(target=say, args=(cluster.rasa[0], "what can you do")),
        threading.Thread(target=say, args=(cluster.rasa[1], "my sim is blocked, how do I get the PUK code")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert all(answers.values()) and len(answers) == 2, answers
    events = cluster.tracker(cluster.rasa[0], "rest:" + sender)["events"]
    assert len(user_texts({"events": events})) == 3
    # every user message is followed by its own actions, ending with action_listen, before the next one arrives
    names = [e.get("name") if e["event"] == "action" else "USER" for e in events if e["event"] in ("user", "action")]
    for position, name in enumerate(names):
        if name == "USER" and position > 0:
            assert names[position - 1] in ("action_listen", "action_session_start"), names
