"""A card payment told to the conversation that created it: the customer talks over REST, a checkout is created
for that conversation, paid on the gateway's hosted page; the gateway's signed webhook reaches Rasa
(connectors/payment_webhook.py), which runs action_payment_received. REST cannot push, so the message is read
from the conversation's tracker (Rasa's HTTP API), where it must be exactly once, even after a redelivery.

The chat journey that creates the checkout is tested on its own; here the checkout is created directly."""

import hashlib
import hmac
import json
import time
import uuid

import pytest
import requests

from clients.payments import PaymentsClient
from tests.e2e.conftest import language_of, stored_bytes

BILL = "CB-0003-003"  # María's unpaid Q150.00
WEBHOOK_SECRET = "whsec_sandbox"
PAID_OPENINGS = ("Paiement reçu ✅", "¡Pago recibido! ✅", "Payment received ✅")


@pytest.fixture(autouse=True)
def fresh_sandbox(assistant):
    requests.post(f"{assistant['sandbox']}/_sandbox/reset", timeout=10).raise_for_status()
    yield
    requests.post(f"{assistant['sandbox']}/_sandbox/reset", timeout=10).raise_for_status()  # María's bill unpaid again


def delivery_of(assistant, checkout_id, seconds=60):
    """The gateway's webhook delivery for this checkout, once delivered (a 2xx from Rasa)."""
    deadline, found = time.monotonic() + seconds, []
    while time.monotonic() < deadline:
        found = [
            d
            for d in requests.get(f"{assistant['sandbox']}/_sandbox/webhooks", timeout=5).json()
            if d["event"]["data"]["object"]["id"] == checkout_id
        ]
        if found and found[-1]["status"] in ("delivered", "failed"):
            break
        time.sleep(0.5)
    assert found and found[-1]["status"] == "delivered", found
    return found[-1]


def tracker_of(assistant, sender):
    """The REST client `sender`'s conversation (rest:<sender>, connectors/rest.py), through Rasa's HTTP API."""
    answer = requests.get(
        f"{assistant['rasa']}/conversations/rest:{sender}/tracker", params={"token": assistant["token"]}, timeout=10
    )
    answer.raise_for_status()
    return answer.json()


def paid_messages(tracker):
    return [
        e["text"] for e in tracker["events"] if e["event"] == "bot" and (e.get("text") or "").startswith(PAID_OPENINGS)
    ]


def redeliver(assistant, event):
    """What the gateway does when it did not get our 2xx: the same event, signed again with a fresh timestamp."""
    body = json.dumps(event, ensure_ascii=False, indent=2).encode()
    at = int(time.time())
    signature = hmac.new(WEBHOOK_SECRET.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return requests.post(
        f"{assistant['rasa']}/webhooks/payment_webhook/webhook",
        data=body,
        timeout=30,
        headers={"Content-Type": "application/json", "Sandbox-Signature": f"t={at},v1={signature}"},
    )


def test_a_paid_bill_is_announced_once_in_the_conversation_that_created_the_checkout(chat, assistant):
    sender = f"e2e-pay-{uuid.uuid4().hex[:12]}"
    send = chat(sender)
    assert send("hola, buenas tardes")  # the conversation exists and its latest channel is rest

    gateway = PaymentsClient(base_url=assistant["sandbox"])
    checkout = gateway.create_checkout(
        amount=150.0,
        currency="GTQ",
        reference=BILL,
        conversation_id=f"rest:{sender}",
        success_url=f"{assistant['webchat']}/",
        cancel_url=f"{assistant['webchat']}/",
        idempotency_key=str(uuid.uuid4()),
        locale="es",
    )
    page = requests.post(
        checkout.url,
        data={"card_number": "4242 4242 4242 4242", "expiry": "12/34", "cvc": "123", "name": "María López"},
        timeout=10,
    )
    assert page.status_code == 200 and gateway.checkout(checkout.id).payment_status == "paid"

    delivery = delivery_of(assistant, checkout.id)
    tracker = tracker_of(assistant, sender)
    (message,) = paid_messages(tracker)
    assert "Q150.00" in message and "FGT-" in message  # the bill's number, read from the BSS
    assert language_of([{"text": message}]) == tracker["slots"]["language"]
    external = [
        e
        for e in tracker["events"]
        if e["event"] == "user"
        and (e.get("parse_data") or {}).get("intent", {}).get("name") == "EXTERNAL_payment_received"
    ]
    assert len(external) == 1 and external[0]["input_channel"] == "rest"

    # the gateway delivers the same event again: acknowledged, and nothing more is said
    again = redeliver(assistant, delivery["event"])
    assert again.status_code == 200 and again.json()["status"] == "duplicate", again.text
    assert len(paid_messages(tracker_of(assistant, sender))) == 1

    # the card number never reached the conversation's history
    history = stored_bytes(assistant["tracker_db"])
    assert b"4242424242424242" not in history and b"4242 4242 4242 4242" not in history


def test_a_forged_webhook_is_refused_and_says_nothing(chat, assistant):
    sender = f"e2e-pay-{uuid.uuid4().hex[:12]}"
    chat(sender)("hello there")
    event = {
        "id": "evt_forged",
        "object": "event",
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": "cs_test_forged",
                "amount_total": 15000,
                "currency": "gtq",
                "client_reference_id": BILL,
                "metadata": {"conversation_id": f"rest:{sender}"},
                "payment_status": "paid",
                "status": "complete",
            }
        },
    }
    body = json.dumps(event).encode()
    answer = requests.post(
        f"{assistant['rasa']}/webhooks/payment_webhook/webhook",
        data=body,
        timeout=10,
        headers={"Sandbox-Signature": f"t={int(time.time())},v1={'0' * 64}"},
    )
    assert answer.status_code == 401
    assert paid_messages(tracker_of(assistant, sender)) == []
