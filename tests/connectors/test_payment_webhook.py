"""The payment webhook channel over real HTTP: Rasa's own app and channel registration from credentials.yml
(rest, socketio and this one), served by Sanic on a free port, with a stand-in agent that records the external
events it is asked to trigger (no model needed)."""

import asyncio
import hashlib
import hmac
import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List

import aiohttp
import pytest
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.channels.socketio import SocketIOOutput
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.run import configure_app, create_http_input_channels
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Sanic

from common.state import db
from connectors.payment_webhook import INTENT
from tests.conftest import ROOT, free_port

SECRET = "whsec_sandbox"
CONVERSATION = "conv-maria"


def sign(body: bytes, secret: str = SECRET, at: float = None) -> str:
    at = int(at or time.time())
    return f"t={at},v1=" + hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()


def completed_event(
    event_id="evt_1",
    checkout_id="cs_test_abc",
    reference="CB-0003-003",
    amount=15000,
    currency="gtq",
    conversation=CONVERSATION,
    kind="checkout.session.completed",
    payment_status="paid",
) -> bytes:
    event = {
        "id": event_id,
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "livemode": False,
        "data": {
            "object": {
                "id": checkout_id,
                "object": "checkout.session",
                "amount_total": amount,
                "currency": currency,
                "client_reference_id": reference,
                "metadata": {"conversation_id": conversation},
                "payment_status": payment_status,
                "status": "complete" if payment_status == "paid" else "open",
            }
        },
    }
    return json.dumps(event, indent=2).encode()


class FakeAgent:
    """What the channel uses of rasa.core.agent.Agent, with a real tracker and lock store; `trigger_intent`
    records the call and plays the bot's answer (or fails, or says nothing) as configured."""

    def __init__(self, domain: Domain):
        self.domain = domain
        self.tracker_store = InMemoryTrackerStore(domain)
        self.lock_store = InMemoryLockStore()
        self.processor = self
        self.triggered: List[Dict[str, Any]] = []
        self.fail, self.answer, self.ready, self.delay = False, True, True, 0.0

    def is_ready(self) -> bool:
        return self.ready

    async def get_tracker(self, conversation_id):
        return await self.tracker_store.get_or_create_tracker(conversation_id)

    async def fetch_tracker_and_update_session(self, conversation_id, output_channel=None):
        return await self.tracker_store.get_or_create_tracker(conversation_id)

    async def trigger_intent(self, intent_name, entities, output_channel, tracker):
        await asyncio.sleep(self.delay)
        if self.fail:
            raise RuntimeError("action server down")
        self.triggered.append(
            {"intent": intent_name, "entities": entities, "output": output_channel, "conversation": tracker.sender_id}
        )
        tracker.update(UserUttered.create_external(intent_name, entities, tracker.get_latest_input_channel()))
        if self.answer:
            tracker.update(BotUttered("paid ✅"))
        await self.tracker_store.save(tracker)


@pytest.fixture
def domain():
    return Domain.from_dict({"intents": ["greet", INTENT], "actions": ["action_payment_received"]})


@pytest.fixture
async def rasa_app(monkeypatch, domain):
    """(base URL, agent): the channels of credentials.yml registered by Rasa on its own app, served for real."""
    monkeypatch.setattr(Sanic, "test_mode", True)  # one app per test in one process
    channels = create_http_input_channels(None, str(ROOT / "credentials.yml"))
    assert "payment_webhook" in {c.name() for c in channels}
    app = configure_app(channels, enable_api=False, port=0)
    agent = FakeAgent(domain)
    app.ctx.agent = agent
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    await server.startup()  # create_server is already listening (it awaits the AsyncioServer)
    # the customer's conversation exists: they talked over REST before paying
    tracker = await agent.tracker_store.get_or_create_tracker(CONVERSATION)
    tracker.update(UserUttered("pay my bill", {"name": "greet"}, input_channel="rest"))
    await agent.tracker_store.save(tracker)
    yield f"http://127.0.0.1:{port}", agent
    server.close()
    await server.wait_closed()


async def post(base: str, body: bytes, header: str = None, **headers):
    if header is not None:
        headers["Sandbox-Signature"] = header
    async with aiohttp.ClientSession() as client:
        async with client.post(
            f"{base}/webhooks/payment_webhook/webhook",
            data=body,
            headers={"Content-Type": "application/json", **headers},
        ) as answer:
            return answer.status, await answer.json()


async def test_health(rasa_app):
    base, _ = rasa_app
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{base}/webhooks/payment_webhook/") as answer:
            assert answer.status == 200 and (await answer.json()) == {"status": "ok"}


async def test_a_signed_completed_payment_is_triggered_once_into_its_conversation(rasa_app):
    base, agent = rasa_app
    body = completed_event()
    status, answer = await post(base, body, sign(body))
    assert (status, answer["status"]) == (200, "delivered")
    (call,) = agent.triggered
    assert call["intent"] == "EXTERNAL_payment_received" and call["conversation"] == CONVERSATION
    assert {e["entity"]: e["value"] for e in call["entities"]} == {
        "payment_checkout_id": "cs_test_abc",
        "payment_reference": "CB-0003-003",
        "payment_amount": 150.0,
        "payment_currency": "GTQ",
    }
    # the latest input channel is rest, which cannot push: the reply is collected (and kept in the tracker)
    assert isinstance(call["output"], CollectingOutputChannel)
    tracker = await agent.tracker_store.retrieve(CONVERSATION)
    external = [e for e in tracker.events if isinstance(e, UserUttered) and e.intent_name == INTENT]
    assert len(external) == 1 and external[0].input_channel == "rest"


async def test_amounts_in_a_currency_without_minor_units_are_kept_whole(rasa_app):
    base, agent = rasa_app
    body = completed_event(reference="topup:+2290197000001", amount=2500, currency="xof")
    assert (await post(base, body, sign(body)))[0] == 200
    values = {e["entity"]: e["value"] for e in agent.triggered[0]["entities"]}
    assert values["payment_amount"] == 2500 and values["payment_currency"] == "XOF"
    assert values["payment_reference"] == "topup:+2290197000001"


@pytest.mark.parametrize(
    "header, expected",
    [
        (None, 400),  # unsigned
        ("", 400),
        ("t=abc,v1=00", 401),
        ("wrong secret", 401),
        ("stale", 401),  # a replay of an old delivery
        ("other body", 401),  # the body was changed after signing
    ],
)
async def test_unsigned_forged_stale_or_tampered_deliveries_are_refused(rasa_app, header, expected):
    base, agent = rasa_app
    body = completed_event()
    header = {
        "wrong secret": sign(body, secret="whsec_other"),
        "stale": sign(body, at=time.time() - 3600),
        "other body": sign(body.replace(b"15000", b"1")),
    }.get(header, header)
    status, answer = await post(base, body, header)
    assert status == expected and answer["status"] == "refused"
    assert agent.triggered == []


async def test_the_same_event_twice_tells_the_customer_once(rasa_app):
    base, agent = rasa_app
    body = completed_event()
    assert (await post(base, body, sign(body)))[1]["status"] == "delivered"
    status, answer = await post(base, body, sign(body, at=time.time() + 1))  # the gateway re-signs each attempt
    assert (status, answer["status"]) == (200, "duplicate")
    assert len(agent.triggered) == 1


async def test_two_deliveries_of_one_event_at_the_same_time_trigger_once(rasa_app):
    base, agent = rasa_app
    agent.delay = 0.5  # the first one is still telling the conversation when the second arrives
    body = completed_event()
    answers = await asyncio.gather(post(base, body, sign(body)), post(base, body, sign(body)))
    assert sorted(status for status, _ in answers) == [200, 409]
    assert len(agent.triggered) == 1
    # the one that answered 409 is delivered again later: by then it is a duplicate
    assert (await post(base, body, sign(body)))[1]["status"] == "duplicate" and len(agent.triggered) == 1


@pytest.mark.parametrize(
    "event",
    [
        completed_event(kind="checkout.session.expired", payment_status="unpaid"),
        completed_event(kind="payment_intent.succeeded"),
        completed_event(payment_status="unpaid"),
        completed_event(conversation=""),  # paid outside the chat
        completed_event(conversation="nobody-ever-talked-here"),
    ],
)
async def test_other_events_unpaid_sessions_and_unknown_conversations_are_acknowledged_and_ignored(rasa_app, event):
    base, agent = rasa_app
    status, answer = await post(base, event, sign(event))
    assert (status, answer["status"]) == (200, "ignored")
    assert agent.triggered == []


async def test_when_telling_the_conversation_fails_the_gateway_is_asked_to_retry_and_the_retry_works(rasa_app):
    base, agent = rasa_app
    body = completed_event()
    agent.fail = True
    assert (await post(base, body, sign(body)))[0] == 500
    agent.fail = False
    assert (await post(base, body, sign(body)))[1]["status"] == "delivered"
    assert len(agent.triggered) == 1


async def test_no_reply_from_the_bot_counts_as_a_failure(rasa_app):
    base, agent = rasa_app
    body = completed_event()
    agent.answer = False  # e.g. the action server was down: Rasa logs it and carries on
    assert (await post(base, body, sign(body)))[0] == 500
    agent.answer = True
    assert (await post(base, body, sign(body)))[1]["status"] == "delivered"


async def test_before_the_model_is_loaded_the_gateway_is_asked_to_retry(rasa_app):
    base, agent = rasa_app
    body = completed_event()
    agent.ready = False
    assert (await post(base, body, sign(body)))[0] == 503
    agent.ready = True
    assert (await post(base, body, sign(body)))[1]["status"] == "delivered"


async def test_a_model_without_the_external_intent_is_retried_later(rasa_app):
    base, agent = rasa_app
    agent.domain = Domain.from_dict({"intents": ["greet"]})
    body = completed_event()
    assert (await post(base, body, sign(body)))[0] == 500 and agent.triggered == []


async def test_the_reply_goes_to_the_latest_channel_when_it_can_push(rasa_app):
    """A web chat customer (socket.io) gets the message on their open page."""
    base, agent = rasa_app
    tracker = await agent.tracker_store.get_or_create_tracker("web-customer")
    tracker.update(UserUttered("hola", {"name": "greet"}, input_channel="socketio"))
    await agent.tracker_store.save(tracker)
    body = completed_event(conversation="web-customer")
    assert (await post(base, body, sign(body)))[0] == 200
    assert isinstance(agent.triggered[0]["output"], SocketIOOutput)
