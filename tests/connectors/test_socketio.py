"""The project's socket.io channel (connectors/socketio.py) with a real socket.io client, as the web chat widget
talks to it: session ids are issued by the server, a browser-chosen one is refused, the conversation is
web:<session id>, and replies (and proactive messages) reach the page."""

import asyncio
import uuid

import pytest
import socketio
from rasa.core.run import create_http_input_channels
from sanic import Sanic

from connectors.socketio import SocketIOInput
from tests.conftest import ROOT
from tests.connectors.meta_helpers import Bot, serve

AWA = "2290197000001"  # a WhatsApp conversation's id: the customer's number


class Page:
    """A browser's socket: what it emits, and the events it got, in order."""

    def __init__(self, url: str):
        self.url, self.client, self.events = url, socketio.AsyncClient(reconnection=False), asyncio.Queue()
        for event in ("session_confirm", "bot_uttered"):
            self.client.on(event, lambda data, event=event: self.events.put_nowait((event, data)))

    async def __aenter__(self):
        await self.client.connect(self.url, socketio_path="/socket.io", transports=["websocket"])
        return self

    async def __aexit__(self, *_):
        await self.client.disconnect()

    async def next(self, seconds: float = 5):
        return await asyncio.wait_for(self.events.get(), seconds)

    async def session(self, asked=None) -> str:
        await self.client.emit("session_request", {"session_id": asked})
        event, session_id = await self.next()
        assert event == "session_confirm"
        return session_id

    async def say(self, text: str, session_id: str):
        await self.client.emit("user_uttered", {"message": text, "session_id": session_id})


@pytest.fixture
async def rasa(monkeypatch):
    """(base URL, bot, channel): the channel as credentials.yml configures it"""
    monkeypatch.setattr(Sanic, "test_mode", True)
    bot = Bot()
    channel = SocketIOInput.from_credentials(
        {"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered", "session_persistence": True}
    )
    async with serve(channel, bot) as url:
        yield url.rsplit("/webhooks/", 1)[0], bot, channel


async def test_a_new_page_gets_a_server_issued_session_and_its_replies(rasa):
    url, bot, _ = rasa
    async with Page(url) as page:
        session_id = await page.session()  # the widget asks with none the first time
        assert len(session_id) == 32 and int(session_id, 16) >= 0
        await page.say("bonjour", session_id)
        assert await page.next() == ("bot_uttered", {"text": "echo: bonjour"})
    (received,) = bot.received
    assert (received.sender_id, received.input_channel) == (f"web:{session_id}", "socketio")


@pytest.mark.parametrize("asked", [AWA, f"+{AWA}", "zendesk:c93bb9c14dde8ffb94564eae", "A" * 32, "0" * 31, 42])
async def test_a_session_id_the_server_could_not_have_issued_is_replaced(rasa, asked):
    url, _, _ = rasa
    async with Page(url) as page:
        session_id = await page.session(asked)
    assert session_id != asked and len(session_id) == 32


async def test_a_reloaded_page_keeps_its_session(rasa):
    url, bot, _ = rasa
    async with Page(url) as page:
        session_id = await page.session()
    async with Page(url) as page:
        assert await page.session(session_id) == session_id
        await page.say("encore moi", session_id)
        assert (await page.next())[0] == "bot_uttered"
    assert bot.received[0].sender_id == f"web:{session_id}"


@pytest.mark.parametrize("session_id", [AWA, None, "web:" + uuid.uuid4().hex])
async def test_a_message_naming_a_session_the_server_could_not_have_issued_is_dropped(rasa, session_id):
    url, bot, _ = rasa
    async with Page(url) as page:
        await page.session()
        await page.say("mon solde", session_id)
        with pytest.raises(asyncio.TimeoutError):
            await page.next(seconds=1)
    assert bot.received == []


async def test_a_proactive_message_reaches_the_page_of_its_conversation(rasa):
    """What connectors/payment_webhook.py does: the channel's output, to the conversation id in the tracker."""
    url, _, channel = rasa
    async with Page(url) as page, Page(url) as other:
        session_id = await page.session()
        await other.session()
        await channel.get_output_channel().send_text_message(f"web:{session_id}", "Paiement reçu ✅")
        assert await page.next() == ("bot_uttered", {"text": "Paiement reçu ✅"})
        with pytest.raises(asyncio.TimeoutError):
            await other.next(seconds=1)


def test_credentials_register_it_as_rasas_socketio_channel():
    (channel,) = [c for c in create_http_input_channels(None, str(ROOT / "credentials.yml")) if c.name() == "socketio"]
    assert isinstance(channel, SocketIOInput) and channel.session_persistence
    assert (channel.socketio_path, channel.user_message_evt, channel.bot_message_evt) == (
        "/socket.io",
        "user_uttered",
        "bot_uttered",
    )
