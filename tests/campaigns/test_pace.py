"""Each channel's pace over every sender, WhatsApp's messaging limit, and 429s: the sender against the sandbox's real
Kannel and Graph API. A throttled message waits for the Retry-After and then goes once: never lost, never twice."""

import asyncio
import threading
from datetime import datetime, timedelta, timezone

import pytest
import requests

from campaigns.sender import Sender
from common import clock as project_clock
from common import config
from common.state import campaigns, channel_pace, db
from connectors.whatsapp import WhatsAppInput
from tests.campaigns.test_sender import BJ_1, BJ_2, GT_1, MESSAGES, FakeRasa, texts
from tests.connectors.meta_helpers import recorded

BJ_3 = "+2290197000003"


@pytest.fixture(autouse=True)
def daytime(clock):
    clock.move_to(datetime(2026, 12, 2, 15, 0, tzinfo=timezone.utc))  # 16:00 in Cotonou, 09:00 in Guatemala


def campaign(numbers, kind="payment_reminder"):
    made = campaigns.create("test", kind, MESSAGES, project_clock.now() - timedelta(minutes=1), 100_000)
    campaigns.add_recipients(made.id, [{"msisdn": n} for n in numbers])
    campaigns.set_status(made.id, campaigns.RUNNING)
    return made


def link_whatsapp(*numbers):
    """These lines have a WhatsApp conversation (their wa_id), proved now."""
    with db.session() as s, s.begin():
        for number in numbers:
            s.add(
                db.ChannelLink(
                    conversation_id=number.lstrip("+"),
                    subject=f"line:{number}",
                    channel="whatsapp",
                    first_linked_at=project_clock.now(),
                    last_verified_at=project_clock.now(),
                )
            )


def fault(sandbox, service, status, retry_after):
    requests.post(
        f"{sandbox}/_sandbox/faults",
        json={"service": service, "status": status, "count": 1, "retry_after": retry_after},
        timeout=5,
    ).raise_for_status()


def test_a_channels_pace_holds_over_every_sender_and_campaign(operator, clock, monkeypatch):
    monkeypatch.setitem(config.CAMPAIGN_CHANNEL_RATES, "sms", 60)  # one a second
    campaign([BJ_1, BJ_2])
    campaign([GT_1])
    first, second = Sender(rasa=FakeRasa()), Sender(rasa=FakeRasa())
    first.run_once()
    second.run_once()
    sent = [texts(operator, n) for n in (BJ_1, BJ_2, GT_1)]
    assert sum(map(len, sent)) == 1
    clock.shift(timedelta(seconds=1))
    second.run_once()
    first.run_once()
    assert sum(len(texts(operator, n)) for n in (BJ_1, BJ_2, GT_1)) == 2
    clock.shift(timedelta(seconds=1))
    first.run_once()
    assert [len(texts(operator, n)) for n in (BJ_1, BJ_2, GT_1)] == [1, 1, 1]


def test_senders_racing_for_one_turn_get_it_once():
    outcomes = []

    def take():
        outcomes.append(channel_pace.take("sms", 60)[0])

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count(channel_pace.GO) == 1 and outcomes.count(channel_pace.WAIT) == 7


def test_a_second_of_burst_then_the_rate():
    verdicts = [channel_pace.take("whatsapp", 600)[0] for _ in range(12)]  # ten a second
    assert verdicts.count(channel_pace.GO) == 10


def test_kannels_429_holds_the_channel_until_retry_after_and_the_message_goes_once(operator, clock):
    fault(operator, "sms", 429, 7)
    made = campaign([BJ_1, BJ_2])
    sender = Sender(rasa=FakeRasa())
    sender.run_once()
    assert texts(operator, BJ_1) == texts(operator, BJ_2) == []
    report = campaigns.report(made.id)
    assert report["queued"] == 2 and report["failed"] == 0
    clock.shift(timedelta(seconds=6))
    sender.run_once()
    assert texts(operator, BJ_1) == texts(operator, BJ_2) == []  # nobody sends on the channel before Retry-After
    clock.shift(timedelta(seconds=1))
    sender.run_once()
    assert len(texts(operator, BJ_1)) == len(texts(operator, BJ_2)) == 1
    clock.shift(timedelta(minutes=5))
    sender.run_once()
    assert len(texts(operator, BJ_1)) == len(texts(operator, BJ_2)) == 1
    assert campaigns.report(made.id)["sent"] == 2


def test_whatsapps_messaging_limit_sends_the_rest_by_sms(operator, clock, monkeypatch):
    monkeypatch.setattr(config, "WHATSAPP_MESSAGING_TIER", 2)
    link_whatsapp(BJ_1, BJ_2, BJ_3)
    rasa = FakeRasa()
    made = campaign([BJ_1, BJ_2, BJ_3])
    Sender(rasa=rasa).run_once()
    chats = [call[0] for call in rasa.calls]
    assert len(chats) == 2 and len(texts(operator, BJ_3)) == 1  # the third new conversation: SMS
    assert campaigns.report(made.id)["sent_by_channel"] == {"whatsapp": 2, "sms": 1}
    # the same customers again today: already counted, not new conversations
    again = campaign([BJ_1])
    Sender(rasa=rasa).run_once()
    assert campaigns.report(again.id)["sent_by_channel"] == {"whatsapp": 1}
    clock.shift(timedelta(hours=24, minutes=1))  # a rolling 24 hours later the limit is free again
    later = campaign([BJ_3])
    Sender(rasa=rasa).run_once()
    assert campaigns.report(later.id)["sent_by_channel"] == {"whatsapp": 1}


class RasaSayingItOnWhatsApp:
    """Rasa's part when the sender triggers the campaign message: action_campaign_message's text and metadata, said
    through the real WhatsApp output channel to the sandbox's Graph API."""

    def __init__(self):
        self.output = WhatsAppInput.from_credentials(None).get_output_channel()

    def trigger_intent(self, conversation_id, intent, entities):
        message = {"text": "Votre facture arrive.", **entities}
        asyncio.run(self.output.send_response(conversation_id, message))
        return True


def test_the_graph_apis_429_backs_off_and_the_message_goes_once(operator, clock, monkeypatch):
    monkeypatch.setattr(config, "META_GRAPH_URL", f"{operator}/graph/v19.0")
    monkeypatch.setattr(config, "META_GRAPH_ATTEMPTS", 1)
    link_whatsapp(BJ_1)
    fault(operator, "meta", 429, 30)
    made = campaign([BJ_1])
    sender = Sender(rasa=RasaSayingItOnWhatsApp())
    sender.run_once()
    assert recorded(operator, to=BJ_1) == [] and texts(operator, BJ_1) == []  # not lost to SMS either
    assert campaigns.report(made.id)["queued"] == 1
    clock.shift(timedelta(seconds=29))
    sender.run_once()
    assert recorded(operator, to=BJ_1) == []
    clock.shift(timedelta(seconds=1))
    sender.run_once()
    clock.shift(timedelta(minutes=5))
    sender.run_once()
    [sent] = recorded(operator, to=BJ_1)
    assert sent["type"] == "template" and texts(operator, BJ_1) == []
    report = campaigns.report(made.id)
    assert report["sent_by_channel"] == {"whatsapp": 1} and report["reasons"] == {}
