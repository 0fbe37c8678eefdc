"""SMS delivery reports over real HTTP: the campaign sender hands each SMS to the sandbox's Kannel with a dlr-url of
its own; the sandbox calls it back like an SMS centre (delivered, or not delivered for a phone that is off); the
channel, served by Sanic as Rasa mounts it, believes a report only with that SMS's token."""

import asyncio
from datetime import datetime, timedelta, timezone

import aiohttp
import pytest
import requests
from sanic import Sanic

from campaigns.sender import Sender
from common import clock as project_clock
from common import config
from common.state import campaign_deliveries, campaigns
from connectors.sms_delivery import SmsDeliveryInput
from tests.campaigns.test_sender import MESSAGES, FakeRasa
from tests.connectors.meta_helpers import Bot, serve

AWA, KOFI, GT = "+2290197000001", "+2290197000002", "+50255123456"


@pytest.fixture
async def reports(operator, monkeypatch, clock):
    """(the channel's base URL, the sandbox): the sender's delivery reports come back to the channel."""
    clock.move_to(datetime(2026, 12, 2, 15, 0, tzinfo=timezone.utc))  # daytime in both markets
    monkeypatch.setattr(Sanic, "test_mode", True)
    async with serve(SmsDeliveryInput(), Bot()) as url:
        monkeypatch.setattr(config, "SMS_DLR_URL", f"{url}/report")
        yield url, operator


async def until(condition, seconds=10.0):
    """Waits for the sandbox's SMS centre, which calls back from its own thread."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("no delivery report in time")


def send(numbers):
    made = campaigns.create("bills", "payment_reminder", MESSAGES, project_clock.now() - timedelta(minutes=1), 6000)
    campaigns.add_recipients(made.id, [{"msisdn": n} for n in numbers])
    campaigns.set_status(made.id, campaigns.RUNNING)
    assert Sender(rasa=FakeRasa()).run_once() == len(numbers)
    return made


async def test_delivered_and_undelivered_sms_are_counted_with_the_reason(reports):
    _, sandbox = reports
    requests.post(f"{sandbox}/_sandbox/sms/unreachable", json={"to": KOFI}, timeout=5).raise_for_status()
    made = send([AWA, KOFI, GT])
    await until(lambda: campaigns.report(made.id)["delivered"] + campaigns.report(made.id)["undelivered"] == 3)
    report = campaigns.report(made.id)
    assert (report["sent"], report["delivered"], report["undelivered"]) == (3, 2, 1)
    assert report["undelivered_reasons"] == {"not delivered to the phone: UNDELIV err 001": 1}
    assert report["sent_by_channel"] == {"sms": 3}


async def test_a_report_without_its_messages_token_is_refused(reports):
    url, _ = reports
    delivery_id, token = campaign_deliveries.begin_sms(1, "K-TEST", AWA)
    campaign_deliveries.sms_accepted(delivery_id)
    async with aiohttp.ClientSession() as client:
        for params in (
            {"id": delivery_id, "token": "guessed", "status": 1},
            {"id": delivery_id + 1, "token": token, "status": 1},
            {"id": delivery_id, "status": 1},
        ):
            async with client.get(f"{url}/report", params=params) as answer:
                assert answer.status == 403
        async with client.get(f"{url}/report", params={"id": delivery_id, "token": token, "status": "x"}) as answer:
            assert answer.status == 400
        assert campaign_deliveries.figures("K-TEST")["delivered"] == 0
        for _ in range(2):  # Kannel may call twice: the second changes nothing
            params = {"id": delivery_id, "token": token, "status": 1, "reply": "stat:DELIVRD"}
            async with client.get(f"{url}/report", params=params) as answer:
                assert answer.status == 200
    assert campaign_deliveries.figures("K-TEST")["delivered"] == 1


def test_the_report_url_carries_kannels_escapes_and_the_token():
    url = campaign_deliveries.report_url(42, "tok-en")
    assert url.endswith("/webhooks/sms_delivery/report?id=42&token=tok-en&status=%d&reply=%A")


@pytest.mark.parametrize(
    "reply, reason",
    [
        ("id:1 sub:001 dlvrd:000 stat:UNDELIV err:001", "UNDELIV err 001"),
        ("id:1 sub:001 dlvrd:000 stat:EXPIRED err:000", "EXPIRED"),
        ("NACK/0x0000000b/Invalid Destination Address", "NACK/0x0000000b/Invalid Destination Address"),
        ("", "no reason given"),
    ],
)
def test_the_sms_centres_words_become_a_short_reason(reply, reason):
    assert campaign_deliveries.smsc_status(reply) == reason


def test_a_report_for_an_sms_whose_sender_died_before_the_202_proves_it_left():
    delivery_id, token = campaign_deliveries.begin_sms(7, "K-KILLED", AWA)  # then the sender was killed
    assert campaign_deliveries.figures("K-KILLED")["delivered"] == 0
    assert campaign_deliveries.sms_report(str(delivery_id), token, 1, "stat:DELIVRD")
    assert campaign_deliveries.figures("K-KILLED")["delivered"] == 1
