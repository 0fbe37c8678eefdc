"""A campaign message through the real assistant on WhatsApp: the sender triggers it in the customer's conversation
over Rasa's API, the action says it with its campaign beside the text, Rasa hands that to the WhatsApp connector,
which records the id the sandbox's Graph API answers; Meta's status webhook (played by the sandbox) and the
customer's answer then count on that very message."""

import json
import time

import pytest
import requests

from campaigns.sender import Sender
from clients.rasa_api import RasaClient
from clients.sms import SMSClient
from common import clock, config
from common.state import campaigns, db
from tests.connectors.meta_helpers import sign

AWA = "2290197000001"  # her WhatsApp id: her number without "+"
MESSAGES = {"fr": "Votre facture arrive, {name}.", "es": "Su factura llega, {name}.", "en": "Your bill, {name}."}


@pytest.fixture
def stack(assistant, monkeypatch):
    """This process's settings pointed at the running assistant: its database, its sandbox, its Rasa."""
    monkeypatch.setattr(config, "ASSISTANT_DB_URL", f"sqlite:///{assistant['assistant_db']}")
    db.engine.cache_clear()
    yield assistant
    db.engine.cache_clear()


def whatsapp_says(rasa: str, text: str) -> None:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "22990000000", "phone_number_id": config.WHATSAPP_PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": "Awa"}, "wa_id": AWA}],
        "messages": [
            {
                "from": AWA,
                "id": f"wamid.e2e-{time.monotonic_ns()}",
                "timestamp": str(int(clock.timestamp())),
                "type": "text",
                "text": {"body": text},
            }
        ],
    }
    body = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"value": value, "field": "messages"}]}],
        }
    ).encode()
    answer = requests.post(
        f"{rasa}/webhooks/whatsapp/webhook",
        data=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, config.WHATSAPP_APP_SECRET)},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text


def test_a_campaign_message_on_whatsapp_is_sent_once_and_its_reports_count(stack):
    whatsapp_says(stack["rasa"], "bonjour")
    with db.session() as s, s.begin():  # she proved her line in this conversation earlier (identification)
        s.add(
            db.ChannelLink(
                conversation_id=AWA,
                subject=f"line:+{AWA}",
                channel="whatsapp",
                first_linked_at=clock.now(),
                last_verified_at=clock.now(),
            )
        )
    made = campaigns.create("bills", "payment_reminder", MESSAGES, clock.now(), 600)
    campaigns.add_recipients(made.id, [{"msisdn": "+" + AWA, "name": "Awa"}])
    campaigns.set_status(made.id, campaigns.RUNNING)
    sender = Sender(
        sms=SMSClient(url=f"{stack['sandbox']}/cgi-bin/sendsms"), rasa=RasaClient(stack["rasa"], stack["token"])
    )
    assert sender.run_once() == 1 and sender.run_once() == 0

    said = [m for m in requests.get(f"{stack['sandbox']}/_sandbox/meta/messages", params={"to": AWA}).json()]
    [campaign_message] = [
        m for m in said if "Votre facture arrive, Awa." in json.dumps(m["message"], ensure_ascii=False)
    ]
    report = campaigns.report(made.id)
    assert report["sent_by_channel"] == {"whatsapp": 1} and report["delivered"] == 0

    played = requests.post(
        f"{stack['sandbox']}/_sandbox/meta/statuses", json={"id": campaign_message["id"], "status": "read"}, timeout=60
    ).json()
    assert played["delivery"]["status"] == 200
    whatsapp_says(stack["rasa"], "je veux payer ma facture")
    report = campaigns.report(made.id)
    assert (report["delivered"], report["read"], report["replied"]) == (1, 1, 1)
