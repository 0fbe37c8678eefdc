"""The Messenger channel over real HTTP, to the same standard as WhatsApp: Meta's webhooks (signed, unsigned,
SHA-1 only, forged, replayed) into the blueprint served by Sanic, a stand-in for Rasa's agent, and the
sandbox's Send API recording what the channel sent, checked against Messenger's limits."""

import hashlib
import json
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sanic import Sanic

from common import config
from common.state import messaging as store
from common.state import remember_language
from connectors.messenger import MessengerInput
from tests.connectors.meta_helpers import Bot, get, post, recorded, serve, sign

PSID = "6754123498765432"
PAGE_ID = "104512345678901"
SECRET = config.MESSENGER_APP_SECRET


def envelope(*events) -> bytes:
    return json.dumps(
        {"object": "page", "entry": [{"id": PAGE_ID, "time": int(time.time() * 1000), "messaging": list(events)}]}
    ).encode()


def event(**content) -> dict:
    return {"sender": {"id": PSID}, "recipient": {"id": PAGE_ID}, "timestamp": int(time.time() * 1000), **content}


def text(body: str, mid: str = None) -> bytes:
    return envelope(event(message={"mid": mid or f"m_{uuid.uuid4().hex}", "text": body}))


def signed(body: bytes, secret: str = SECRET) -> dict:
    return {"X-Hub-Signature-256": sign(body, secret)}


@pytest.fixture
def graph(sandbox, monkeypatch):
    monkeypatch.setattr(config, "META_GRAPH_URL", f"{sandbox}/graph")  # no version in the path: also accepted
    return sandbox


@pytest.fixture
async def channel(graph, monkeypatch):
    monkeypatch.setattr(Sanic, "test_mode", True)
    bot, channel = Bot(), MessengerInput.from_credentials(None)
    async with serve(channel, bot) as url:
        yield url, bot, channel


def sent(sandbox):
    return recorded(sandbox, to=PSID, channel="messenger")


async def test_the_verification_handshake_echoes_the_challenge_for_our_token_only(channel):
    url, _, _ = channel
    ok = await get(
        url,
        **{
            "hub.mode": "subscribe",
            "hub.verify_token": config.MESSENGER_VERIFY_TOKEN,
            "hub.challenge": "CHALLENGE_ACCEPTED",
        },
    )
    assert ok == (200, "CHALLENGE_ACCEPTED")
    assert (await get(url, **{"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "x"}))[0] == 403


async def test_a_signed_message_reaches_rasa_and_the_reply_is_a_response(channel, graph):
    url, bot, _ = channel
    body = text("Bonjour, mon solde svp")
    status, answer = await post(url, body, signed(body))
    assert (status, answer["handled"]) == (200, 1)
    (received,) = bot.received
    assert (received.text, received.sender_id, received.input_channel) == ("Bonjour, mon solde svp", PSID, "messenger")
    assert received.metadata["page_id"] == PAGE_ID and abs(received.metadata["timestamp"] - time.time()) < 60
    (reply,) = sent(graph)
    assert reply["message"]["messaging_type"] == "RESPONSE"
    assert reply["message"]["message"] == {"text": "echo: Bonjour, mon solde svp"}


@pytest.mark.parametrize(
    "headers",
    [
        {},  # unsigned
        {"X-Hub-Signature": "sha1"},  # what Rasa's facebook channel accepts: refused here
        {"X-Hub-Signature-256": "wrong secret"},
        {"X-Hub-Signature-256": "other body"},
        {"X-Hub-Signature-256": "garbage"},
    ],
)
async def test_unsigned_sha1_only_or_forged_webhooks_are_refused_with_403(channel, graph, headers):
    url, bot, _ = channel
    body = text("Recharger 1000")
    forged = {
        "sha1": sign(body, SECRET, hashlib.sha1),
        "wrong secret": sign(body, "not-the-secret"),
        "other body": sign(text("autre"), SECRET),
    }
    headers = {name: forged.get(value, value) for name, value in headers.items()}
    status, answer = await post(url, body, headers)
    assert status == 403 and answer["status"] == "refused"
    assert bot.received == [] and sent(graph) == []


async def test_a_replayed_message_is_handled_once(channel, graph):
    url, bot, _ = channel
    body = text("Mes factures", mid="m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgX")
    await post(url, body, signed(body))
    status, answer = await post(url, body, signed(body))
    assert (status, answer["duplicates"]) == (200, 1)
    assert bot.texts == ["Mes factures"] and len(sent(graph)) == 1


async def test_echoes_deliveries_and_reads_are_ignored(channel, graph):
    url, bot, _ = channel
    body = envelope(
        event(message={"mid": "m_echo", "text": "echo: hi", "is_echo": True, "app_id": 1}),
        event(delivery={"mids": ["m_1"], "watermark": 1}),
        event(read={"watermark": 1}),
    )
    status, answer = await post(url, body, signed(body))
    assert (status, answer["status"]) == (200, "ignored") and bot.received == [] and sent(graph) == []


async def test_quick_replies_postbacks_and_locations_become_the_bots_messages(channel):
    url, bot, _ = channel
    bodies = [
        envelope(
            event(
                message={
                    "mid": "m_qr",
                    "text": "Pass 1 Go",
                    "quick_reply": {"payload": '/buy_pack{"option": "BJ-PASS-1GO"}'},
                }
            )
        ),
        envelope(event(postback={"mid": "m_pb", "title": "Commencer", "payload": "/greet"})),
        envelope(
            event(
                message={
                    "mid": "m_loc",
                    "attachments": [
                        {"type": "location", "payload": {"coordinates": {"lat": 14.6349, "long": -90.5069}}}
                    ],
                }
            )
        ),
    ]
    for body in bodies:
        assert (await post(url, body, signed(body)))[0] == 200
    assert bot.texts == ['/buy_pack{"option": "BJ-PASS-1GO"}', "/greet", '/find_store{"location": "14.6349,-90.5069"}']


async def test_choices_are_quick_replies_within_messengers_limits(channel, graph):
    url, bot, _ = channel
    long_payload = '/inform{"option": "' + "Y" * 1200 + '"}'
    bot.replies = [
        {
            "text": "¿Qué desea hacer?",
            "buttons": [
                {"title": "Consultar mi saldo disponible", "payload": "/check_balance"},
                {"title": "Recargar", "payload": "/top_up"},
                {"title": "Otra cosa", "payload": long_payload},
            ],
        }
    ]
    body = text("hola")
    await post(url, body, signed(body))
    (reply,) = sent(graph)
    quick_replies = reply["message"]["message"]["quick_replies"]
    assert [q["title"] for q in quick_replies] == ["Consultar mi saldo…", "Recargar", "Otra cosa"]
    assert all(len(q["title"]) <= 20 and len(q["payload"]) <= 1000 for q in quick_replies)
    key = quick_replies[2]["payload"]
    tap = envelope(event(message={"mid": "m_tap", "text": "Otra cosa", "quick_reply": {"payload": key}}))
    await post(url, tap, signed(tap))
    assert bot.texts[-1] == long_payload


async def test_more_than_13_choices_are_numbered_and_long_texts_split_at_2000(channel, graph):
    url, bot, _ = channel
    remember_language(f"sender:{PSID}", "es")
    bot.replies = [
        {
            "text": "Tiendas:",
            "buttons": [{"title": f"Tienda {n}", "payload": f'/inform{{"option": "T{n}"}}'} for n in range(1, 15)],
        },
        {
            "text": "\n\n".join(["Detalle " + "z" * 990] * 5),
            "buttons": [{"title": "Sí", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}],
        },
    ]
    body = text("tiendas")
    await post(url, body, signed(body))
    messages = [m["message"]["message"] for m in sent(graph)]
    assert "14. Tienda 14" in messages[0]["text"] and "quick_replies" not in messages[0]
    assert messages[0]["text"].endswith("Responda con el número de su opción.")
    pieces = messages[1:]
    assert len(pieces) == 3 and all(len(p["text"]) <= 2000 for p in pieces)
    assert "quick_replies" not in pieces[0] and [q["title"] for q in pieces[-1]["quick_replies"]] == ["Sí", "No"]


async def test_outside_the_24_hour_window_messages_carry_the_message_tag(channel, graph):
    _, _, channel_ = channel
    store.note_inbound("messenger", PSID, datetime.now(timezone.utc) - timedelta(hours=30))
    await channel_.get_output_channel().send_text_message(PSID, "Votre paiement est reçu.")
    (reply,) = sent(graph)
    assert reply["message"]["messaging_type"] == "MESSAGE_TAG" and reply["message"]["tag"] == "ACCOUNT_UPDATE"


def test_credentials_yml_registers_the_channel_with_settings_from_config():
    from rasa.core.run import create_http_input_channels

    from tests.conftest import ROOT

    (channel,) = [c for c in create_http_input_channels(None, str(ROOT / "credentials.yml")) if c.name() == "messenger"]
    assert isinstance(channel, MessengerInput) and channel.url_prefix() == "messenger"
    assert (channel.verify_token, channel.app_secret, channel.page_token) == (
        config.MESSENGER_VERIFY_TOKEN,
        config.MESSENGER_APP_SECRET,
        config.MESSENGER_PAGE_TOKEN,
    )
