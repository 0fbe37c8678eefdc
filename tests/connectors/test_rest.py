"""The project's REST channel (connectors/rest.py) over real HTTP: the client's sender becomes rest:<sender>, so it
never names another channel's conversation, and the channel is always rest, whatever the client claims."""

import json

import aiohttp
import pytest
from rasa.core.run import create_http_input_channels
from sanic import Sanic

from connectors.rest import RestInput
from tests.conftest import ROOT
from tests.connectors.meta_helpers import Bot, post, serve

AWA = "2290197000001"  # a WhatsApp conversation's id: the customer's number


@pytest.fixture
async def channel(monkeypatch):
    """(webhook base URL, bot)"""
    monkeypatch.setattr(Sanic, "test_mode", True)
    bot = Bot()
    async with serve(RestInput(), bot) as url:
        yield url, bot


async def test_the_sender_is_namespaced_and_the_reply_keeps_rasas_format(channel):
    url, bot = channel
    status, answer = await post(url, json.dumps({"sender": AWA, "message": "mon solde"}).encode())
    assert status == 200 and answer == [{"recipient_id": f"rest:{AWA}", "text": "echo: mon solde"}]
    (received,) = bot.received
    assert (received.sender_id, received.input_channel, received.text) == (f"rest:{AWA}", "rest", "mon solde")


async def test_a_client_cannot_claim_the_whatsapp_channel(channel):
    """channel_identity (actions/dialogue/account.py) trusts the whatsapp channel to prove the sender's number."""
    url, bot = channel
    body = {"sender": AWA, "message": "mon solde", "input_channel": "whatsapp"}
    assert (await post(url, json.dumps(body).encode()))[0] == 200
    assert (bot.received[0].sender_id, bot.received[0].input_channel) == (f"rest:{AWA}", "rest")


@pytest.mark.parametrize(
    "sender, conversation",
    [
        (int(AWA), f"rest:{AWA}"),
        (None, "rest:default"),
        ("rest:x", "rest:rest:x"),
        ("zendesk:c93b", "rest:zendesk:c93b"),
    ],
)
async def test_every_sender_is_namespaced(channel, sender, conversation):
    url, bot = channel
    body = {"message": "hola", **({"sender": sender} if sender is not None else {})}
    assert (await post(url, json.dumps(body).encode()))[0] == 200
    assert bot.received[0].sender_id == conversation


async def test_a_streamed_reply_is_namespaced_too(channel):
    url, bot = channel
    async with aiohttp.ClientSession() as client:
        async with client.post(f"{url}/webhook?stream=true", json={"sender": AWA, "message": "hola"}) as answer:
            lines = (await answer.text()).splitlines()
    assert [json.loads(line) for line in lines] == [{"recipient_id": f"rest:{AWA}", "text": "echo: hola"}]
    assert bot.received[0].sender_id == f"rest:{AWA}"


def test_credentials_register_it_as_rasas_rest_channel():
    """Same name, so the same URL (/webhooks/rest/webhook) and the same input_channel in trackers and KPIs."""
    (channel,) = [c for c in create_http_input_channels(None, str(ROOT / "credentials.yml")) if c.name() == "rest"]
    assert isinstance(channel, RestInput)
