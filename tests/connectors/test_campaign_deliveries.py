"""What became of campaign messages on WhatsApp and Messenger, over real HTTP: the connector sends a campaign message
(with the campaign beside the text, as Rasa hands it over) to the sandbox's Graph API and keeps the id it answers;
Meta's signed status webhooks then land on that very message; the customer's answer counts as a reply; a 429 is
recorded for the sender to back off."""

import json
from datetime import timedelta

import aiohttp
import pytest
import requests
from sanic import Sanic

from common import clock as project_clock
from common import config
from common.state import campaign_deliveries, campaigns
from connectors.messenger import MessengerInput
from connectors.whatsapp import WhatsAppInput
from tests.conftest import running_sandbox
from tests.connectors.meta_helpers import Bot, post, recorded, serve, sign

AWA, KOFI = "2290197000001", "2290197000002"
PSID, PAGE_ID = "6754123498765432", "104512345678901"
MESSAGES = {"fr": "Votre facture arrive.", "es": "Tu factura llega.", "en": "Your bill is coming."}


def campaign_rows(*numbers):
    made = campaigns.create("bills", "payment_reminder", MESSAGES, project_clock.now() - timedelta(minutes=1), 600)
    campaigns.add_recipients(made.id, [{"msisdn": n} for n in numbers])
    campaigns.set_status(made.id, campaigns.RUNNING)
    rows = [campaigns.recipient(str(i)) for i in campaigns.due(10)]
    return made, {row.msisdn: row for row in rows}


def said(made, row, text="Votre facture arrive."):
    """A campaign message as Rasa hands it to the output channel (actions/campaign_message.py's metadata)."""
    return {
        "text": text,
        "buttons": [{"title": "Payer", "payload": "/pay_invoice"}, {"title": "Stop", "payload": "/opt_out"}],
        "campaign_id": made.id,
        "campaign_recipient": str(row.id),
    }


def whatsapp_statuses(*statuses) -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "22990000000", "phone_number_id": config.WHATSAPP_PHONE_NUMBER_ID},
        "statuses": list(statuses),
    }
    change = {"value": value, "field": "messages"}
    return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1022", "changes": [change]}]}).encode()


def whatsapp_text(wa_id: str, body: str, message_id: str) -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "22990000000", "phone_number_id": config.WHATSAPP_PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": "Awa"}, "wa_id": wa_id}],
        "messages": [
            {
                "from": wa_id,
                "id": message_id,
                "timestamp": str(int(project_clock.timestamp())),
                "type": "text",
                "text": {"body": body},
            }
        ],
    }
    change = {"value": value, "field": "messages"}
    return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1022", "changes": [change]}]}).encode()


def status(wamid, name, **extra):
    return {"id": wamid, "status": name, "timestamp": str(int(project_clock.timestamp())), "recipient_id": AWA, **extra}


def messenger_events(*events) -> bytes:
    return json.dumps({"object": "page", "entry": [{"id": PAGE_ID, "messaging": list(events)}]}).encode()


def messenger_event(**content):
    return {"sender": {"id": PSID}, "recipient": {"id": PAGE_ID}, **content}


def signed(body: bytes, secret: str) -> dict:
    return {"X-Hub-Signature-256": sign(body, secret)}


@pytest.fixture
async def whatsapp(sandbox, monkeypatch):
    monkeypatch.setattr(config, "META_GRAPH_URL", f"{sandbox}/graph/v19.0")
    monkeypatch.setattr(config, "META_GRAPH_ATTEMPTS", 1)  # a 429 reaches the sender at once
    monkeypatch.setattr(Sanic, "test_mode", True)
    channel = WhatsAppInput.from_credentials(None)
    async with serve(channel, Bot()) as url:
        yield url, channel, sandbox


@pytest.fixture
async def messenger(sandbox, monkeypatch):
    monkeypatch.setattr(config, "META_GRAPH_URL", f"{sandbox}/graph")
    monkeypatch.setattr(Sanic, "test_mode", True)
    channel = MessengerInput.from_credentials(None)
    async with serve(channel, Bot()) as url:
        yield url, channel, sandbox


async def test_whatsapp_statuses_land_on_the_campaign_message_they_name(whatsapp):
    url, channel, sandbox = whatsapp
    made, rows = campaign_rows("+" + AWA, "+" + KOFI)
    output = channel.get_output_channel()
    await output.send_response(AWA, said(made, rows["+" + AWA]))
    await output.send_response(KOFI, said(made, rows["+" + KOFI]))
    await output.send_response(AWA, {"text": "the assistant's own answer"})  # not a campaign's: not recorded
    sent = {m["to"]: m for m in reversed(recorded(sandbox, channel="whatsapp"))}  # each number's first
    assert sent[AWA]["type"] == "template"  # outside the 24-hour window
    assert campaign_deliveries.attempt_of(rows["+" + AWA].id).status == campaign_deliveries.SENT
    own = [m["id"] for m in recorded(sandbox, to=AWA)][-1]

    body = whatsapp_statuses(
        status(sent[AWA]["id"], "sent"),
        status(sent[AWA]["id"], "delivered"),
        status(sent[AWA]["id"], "read"),
        status(own, "read"),
        status(sent[KOFI]["id"], "failed", errors=[{"code": 131026, "title": "Message undeliverable"}]),
    )
    code, answer = await post(url, body, signed(body, config.WHATSAPP_APP_SECRET))
    assert (code, answer["status"]) == (200, "ignored")
    code, _ = await post(url, body, signed(body, config.WHATSAPP_APP_SECRET))  # Meta delivers it again
    report = campaigns.report(made.id)
    assert (report["delivered"], report["read"], report["undelivered"]) == (1, 1, 1)
    assert report["undelivered_reasons"] == {"131026 Message undeliverable": 1}

    forged = whatsapp_statuses(status(sent[KOFI]["id"], "read"))
    code, _ = await post(url, forged, signed(forged, "not-the-secret"))
    assert code == 403 and campaigns.report(made.id)["read"] == 1


async def test_the_customers_answer_counts_as_a_reply_once(whatsapp, clock):
    url, channel, _ = whatsapp
    made, rows = campaign_rows("+" + AWA)
    await channel.get_output_channel().send_response(AWA, said(made, rows["+" + AWA]))
    assert campaigns.report(made.id)["replied"] == 0
    clock.shift(timedelta(minutes=5))
    for message_id in ("wamid.reply-1", "wamid.reply-2"):
        body = whatsapp_text(AWA, "je veux payer", message_id)
        code, _ = await post(url, body, signed(body, config.WHATSAPP_APP_SECRET))
        assert code == 200
    assert campaigns.report(made.id)["replied"] == 1


async def test_a_message_written_a_day_later_is_no_reply(whatsapp, clock):
    url, channel, _ = whatsapp
    made, rows = campaign_rows("+" + AWA)
    await channel.get_output_channel().send_response(AWA, said(made, rows["+" + AWA]))
    clock.shift(timedelta(hours=25))
    body = whatsapp_text(AWA, "bonjour", "wamid.later")
    await post(url, body, signed(body, config.WHATSAPP_APP_SECRET))
    assert campaigns.report(made.id)["replied"] == 0


async def test_a_429_from_the_graph_api_is_recorded_for_the_sender_with_its_retry_after(whatsapp):
    _, channel, sandbox = whatsapp
    made, rows = campaign_rows("+" + AWA)
    requests.post(
        f"{sandbox}/_sandbox/faults", json={"service": "meta", "status": 429, "count": 1, "retry_after": 7}, timeout=5
    ).raise_for_status()
    await channel.get_output_channel().send_response(AWA, said(made, rows["+" + AWA]))
    attempt = campaign_deliveries.attempt_of(rows["+" + AWA].id)
    assert (attempt.status, attempt.retry_after) == (campaign_deliveries.THROTTLED, 7)
    assert recorded(sandbox, to=AWA) == []


async def test_messenger_deliveries_by_id_and_reads_by_watermark(messenger, clock):
    url, channel, sandbox = messenger
    made, rows = campaign_rows("+" + AWA)
    await channel.get_output_channel().send_response(PSID, said(made, rows["+" + AWA]))
    [out] = recorded(sandbox, to=PSID)
    assert out["message"]["messaging_type"] == "MESSAGE_TAG"  # outside the window: a service message's tag
    delivered = messenger_events(messenger_event(delivery={"mids": [out["id"]], "watermark": 1}))
    code, _ = await post(url, delivered, signed(delivered, config.MESSENGER_APP_SECRET))
    assert code == 200 and campaigns.report(made.id)["delivered"] == 1
    before = int(project_clock.timestamp() * 1000) - 60_000  # a read of what came before ours
    read = messenger_events(messenger_event(read={"watermark": before}))
    await post(url, read, signed(read, config.MESSENGER_APP_SECRET))
    assert campaigns.report(made.id)["read"] == 0
    read = messenger_events(messenger_event(read={"watermark": int(project_clock.timestamp() * 1000)}))
    await post(url, read, signed(read, config.MESSENGER_APP_SECRET))
    assert campaigns.report(made.id)["read"] == 1


@pytest.fixture
async def meta(tmp_path, instant, monkeypatch):
    """(a sandbox playing Meta both ways: its Graph API takes the messages, its webhooks report on them)"""
    monkeypatch.setattr(Sanic, "test_mode", True)
    whatsapp_channel, messenger_channel = WhatsAppInput.from_credentials(None), MessengerInput.from_credentials(None)
    async with serve(whatsapp_channel, Bot()) as whatsapp_url, serve(messenger_channel, Bot()) as messenger_url:
        with running_sandbox(
            tmp_path,
            SANDBOX_WHATSAPP_WEBHOOK_URL=f"{whatsapp_url}/webhook",
            SANDBOX_MESSENGER_WEBHOOK_URL=f"{messenger_url}/webhook",
        ) as sandbox:
            requests.post(f"{sandbox}/_sandbox/clock", json={"at": instant.isoformat(), "frozen": True}, timeout=10)
            monkeypatch.setattr(config, "META_GRAPH_URL", f"{sandbox}/graph/v19.0")
            yield sandbox, whatsapp_channel, messenger_channel


async def meta_reports(sandbox, message_id, status):
    async with aiohttp.ClientSession() as client:
        async with client.post(
            f"{sandbox}/_sandbox/meta/statuses", json={"id": message_id, "status": status}
        ) as answer:
            assert answer.status == 200, await answer.text()
            return (await answer.json())["delivery"]


async def test_the_sandbox_plays_metas_status_webhooks_end_to_end(meta):
    sandbox, whatsapp_channel, messenger_channel = meta
    made, rows = campaign_rows("+" + AWA, "+" + KOFI)
    await whatsapp_channel.get_output_channel().send_response(AWA, said(made, rows["+" + AWA]))
    await whatsapp_channel.get_output_channel().send_response(KOFI, said(made, rows["+" + KOFI]))
    await messenger_channel.get_output_channel().send_response(PSID, said(made, rows["+" + KOFI]))
    sent = {m["to"]: m["id"] for m in recorded(sandbox)}
    assert (await meta_reports(sandbox, sent[AWA], "read"))["status"] == 200
    assert (await meta_reports(sandbox, sent[KOFI], "failed"))["status"] == 200
    await meta_reports(sandbox, sent[PSID], "delivered")  # Kofi's message reached him on Messenger after all
    report = campaigns.report(made.id)
    assert (report["delivered"], report["read"], report["undelivered"]) == (2, 1, 1)
    assert report["undelivered_reasons"] == {"131026 Message undeliverable": 1}
