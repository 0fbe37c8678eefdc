"""The WhatsApp Cloud API channel over real HTTP: Meta's webhooks (signed, unsigned, forged, replayed) into
the channel's blueprint served by Sanic, a stand-in for Rasa's agent answering, and the sandbox's Graph API
recording what the channel sent, checked against WhatsApp's limits."""

import asyncio
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
from connectors import whatsapp
from connectors.whatsapp import WhatsAppInput
from tests.connectors.meta_helpers import Bot, get, inject_fault, pending_faults, post, recorded, serve, sign

AWA = "2290197000001"  # the fixture customer's wa_id: her number without "+"
SECRET = config.WHATSAPP_APP_SECRET
PHONE_NUMBER_ID = config.WHATSAPP_PHONE_NUMBER_ID


def envelope(messages=None, statuses=None, phone_number_id=PHONE_NUMBER_ID, name="Awa") -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "22990000000", "phone_number_id": phone_number_id},
    }
    if messages:
        value.update(contacts=[{"profile": {"name": name}, "wa_id": AWA}], messages=messages)
    if statuses:
        value["statuses"] = statuses
    change = {"value": value, "field": "messages"}
    return json.dumps(
        {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [change]}]}
    ).encode()


def message(kind="text", wa_id=AWA, message_id=None, at=None, **content) -> dict:
    content = content or {"text": {"body": "Bonjour"}}
    return {
        "from": wa_id,
        "id": message_id or f"wamid.{uuid.uuid4().hex}",
        "timestamp": str(int(at or time.time())),
        "type": kind,
        **content,
    }


def text(body: str, **fields) -> bytes:
    return envelope([message(text={"body": body}, **fields)])


def signed(body: bytes, secret: str = SECRET) -> dict:
    return {"X-Hub-Signature-256": sign(body, secret)}


@pytest.fixture
def graph(sandbox, monkeypatch):
    """The connector's Graph API is the sandbox's (with a version in the path, as in production)."""
    monkeypatch.setattr(config, "META_GRAPH_URL", f"{sandbox}/graph/v19.0")
    return sandbox


@pytest.fixture
async def channel(graph, monkeypatch):
    """(webhook base URL, bot, input channel)"""
    monkeypatch.setattr(Sanic, "test_mode", True)
    bot, channel = Bot(), WhatsAppInput.from_credentials(None)
    async with serve(channel, bot) as url:
        yield url, bot, channel


def sent(sandbox):
    return recorded(sandbox, to=AWA, channel="whatsapp")


# --- verification handshake ---------------------------------------------------------------------------


async def test_the_verification_handshake_echoes_the_challenge_for_our_token_only(channel):
    url, _, _ = channel
    ok = await get(
        url,
        **{"hub.mode": "subscribe", "hub.verify_token": config.WHATSAPP_VERIFY_TOKEN, "hub.challenge": "1158201444"},
    )
    assert ok == (200, "1158201444")
    assert (await get(url, **{"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"}))[0] == 403
    assert (await get(url, **{"hub.verify_token": config.WHATSAPP_VERIFY_TOKEN, "hub.challenge": "1"}))[0] == 403


# --- signatures --------------------------------------------------------------------------------------


async def test_a_signed_text_reaches_rasa_as_the_customers_number_and_the_reply_is_sent(channel, graph):
    url, bot, _ = channel
    body = text("Quel est mon solde ?")
    status, answer = await post(url, body, signed(body))
    assert (status, answer["status"], answer["handled"]) == (200, "ok", 1)
    (received,) = bot.received
    assert received.text == "Quel est mon solde ?"
    assert received.sender_id == AWA and received.input_channel == "whatsapp"  # what channel_identity trusts
    assert received.metadata["profile_name"] == "Awa" and abs(received.metadata["timestamp"] - time.time()) < 60
    assert received.message_id.startswith("wamid.")
    (reply,) = sent(graph)
    assert reply["type"] == "text" and reply["message"]["text"]["body"] == "echo: Quel est mon solde ?"
    assert reply["message"]["to"] == AWA and reply["from"] == PHONE_NUMBER_ID


@pytest.mark.parametrize(
    "headers",
    [
        {},  # unsigned
        {"X-Hub-Signature": "sha1"},  # Rasa's old SHA-1 header only, correctly signed
        {"X-Hub-Signature-256": "wrong secret"},
        {"X-Hub-Signature-256": "other body"},  # the body was changed after signing
        {"X-Hub-Signature-256": "sha256=" + "0" * 64},
        {"X-Hub-Signature-256": "sha1"},  # a SHA-1 digest under the SHA-256 header
    ],
)
async def test_unsigned_or_wrongly_signed_webhooks_are_refused_and_nothing_is_sent(channel, graph, headers):
    url, bot, _ = channel
    body = text("Je veux 1000 F de crédit")
    forged = {
        "sha1": sign(body, SECRET, hashlib.sha1),
        "wrong secret": sign(body, "not-the-secret"),
        "other body": sign(text("autre"), SECRET),
    }
    headers = {name: forged.get(value, value) for name, value in headers.items()}
    status, answer = await post(url, body, headers)
    assert status == 403 and answer["status"] == "refused"
    assert bot.received == [] and sent(graph) == []


async def test_a_body_that_is_not_json_is_refused_even_when_signed(channel):
    url, bot, _ = channel
    assert (await post(url, b"not json", signed(b"not json")))[0] == 400 and bot.received == []


# --- each message once ----------------------------------------------------------------------------------


async def test_a_replayed_message_is_acknowledged_and_handled_once(channel, graph):
    url, bot, _ = channel
    body = text("Recharger", message_id="wamid.HBgLMjI5MDE5NzAwMDAwMRUCABIYFjNFQjA")
    assert (await post(url, body, signed(body)))[1]["handled"] == 1
    status, answer = await post(url, body, signed(body))  # Meta delivers it again
    assert (status, answer["handled"], answer["duplicates"]) == (200, 0, 1)
    assert bot.texts == ["Recharger"] and len(sent(graph)) == 1


async def test_two_deliveries_at_the_same_time_are_handled_once(channel, graph):
    url, bot, _ = channel
    bot.delay = 0.4
    body = text("Mes factures")
    answers = await asyncio.gather(post(url, body, signed(body)), post(url, body, signed(body)))
    assert sorted(a["handled"] for _, a in answers) == [0, 1] and {s for s, _ in answers} == {200}
    assert bot.texts == ["Mes factures"] and len(sent(graph)) == 1


async def test_a_message_rasa_fails_on_is_released_so_metas_redelivery_is_handled(channel):
    url, bot, _ = channel
    body = text("Mon forfait")
    bot.fail = True
    assert (await post(url, body, signed(body)))[0] == 500
    bot.fail = False
    assert (await post(url, body, signed(body)))[1]["handled"] == 1 and bot.texts == ["Mon forfait"]


async def test_status_events_are_acknowledged_and_ignored(channel, graph):
    url, bot, _ = channel
    body = envelope(
        statuses=[{"id": "wamid.x", "status": "delivered", "timestamp": str(int(time.time())), "recipient_id": AWA}]
    )
    status, answer = await post(url, body, signed(body))
    assert (status, answer["status"]) == (200, "ignored") and bot.received == [] and sent(graph) == []


async def test_messages_for_another_number_media_and_bad_senders_are_ignored(channel):
    url, bot, _ = channel
    for body in (
        envelope([message()], phone_number_id="999999999999999"),
        envelope([message("image", image={"id": "1479537139650973", "mime_type": "image/jpeg"})]),
        envelope([message(wa_id="+22901 97")]),
    ):
        assert (await post(url, body, signed(body)))[1]["status"] == "ignored"
    assert bot.received == []


# --- what the customer sends ---------------------------------------------------------------------------


async def test_buttons_list_rows_and_locations_become_the_bots_messages(channel):
    url, bot, _ = channel
    bodies = [
        envelope(
            [
                message(
                    "interactive",
                    interactive={
                        "type": "button_reply",
                        "button_reply": {"id": '/buy_pack{"option": "BJ-PASS-1GO"}', "title": "Pass 1 Go"},
                    },
                )
            ]
        ),
        envelope(
            [
                message(
                    "interactive",
                    interactive={
                        "type": "list_reply",
                        "list_reply": {"id": "/top_up", "title": "Recharger", "description": ""},
                    },
                )
            ]
        ),
        envelope([message("location", location={"latitude": 6.3654, "longitude": 2.4183, "name": "Cadjehoun"})]),
        envelope([message("button", button={"payload": "/check_balance", "text": "Mon solde"})]),
    ]
    for body in bodies:
        assert (await post(url, body, signed(body)))[0] == 200
    assert bot.texts == [
        '/buy_pack{"option": "BJ-PASS-1GO"}',
        "/top_up",
        '/find_store{"location": "6.3654,2.4183"}',
        "/check_balance",
    ]


# --- what the bot sends, as the sandbox recorded it -------------------------------------------------

GREET_FR = {
    "text": "Bonjour 👋 Que puis-je faire pour vous ?",
    "buttons": [
        {"title": "Mon solde", "payload": "/check_balance"},
        {"title": "Mes unités restantes", "payload": "/check_quota"},
        {"title": "Recharger", "payload": "/top_up"},
        {"title": "Acheter un pass", "payload": "/buy_pack"},
        {"title": "Mes factures", "payload": "/last_invoices"},
        {"title": "Parler à un conseiller maintenant", "payload": "/human_handoff"},
        {"title": "Changer de langue", "payload": "/change_language"},
    ],
}


async def test_three_choices_are_reply_buttons_with_titles_of_at_most_20_characters(channel, graph):
    url, bot, _ = channel
    bot.replies = [
        {
            "text": "Quel pass ?",
            "buttons": [
                {"title": "Pass Internet 1 Go 7 jours", "payload": '/buy_pack{"option": "BJ-PASS-1GO"}'},
                {"title": "Pass 5 Go", "payload": '/buy_pack{"option": "BJ-PASS-5GO"}'},
                {"title": "Non merci", "payload": "/deny"},
            ],
        }
    ]
    body = text("Acheter un pass")
    await post(url, body, signed(body))
    (reply,) = sent(graph)
    interactive = reply["message"]["interactive"]
    assert reply["type"] == "interactive/button" and interactive["body"]["text"] == "Quel pass ?"
    buttons = [b["reply"] for b in interactive["action"]["buttons"]]
    assert [b["title"] for b in buttons] == ["Pass Internet 1 Go…", "Pass 5 Go", "Non merci"]
    assert all(len(b["title"]) <= 20 for b in buttons)
    assert buttons[0]["id"] == '/buy_pack{"option": "BJ-PASS-1GO"}'  # the payload itself comes back when tapped


async def test_four_to_ten_choices_are_a_list_labelled_in_the_customers_language(channel, graph):
    url, bot, _ = channel
    remember_language(f"sender:{AWA}", "fr")  # as the action server does when the language slot is set
    bot.replies = [GREET_FR]
    body = text("Bonjour")
    await post(url, body, signed(body))
    (reply,) = sent(graph)
    interactive = reply["message"]["interactive"]
    assert reply["type"] == "interactive/list" and interactive["action"]["button"] == "Choisir"
    rows = interactive["action"]["sections"][0]["rows"]
    assert [r["id"] for r in rows] == [b["payload"] for b in GREET_FR["buttons"]]
    assert all(len(r["title"]) <= 24 and len(r.get("description", "")) <= 72 for r in rows)
    handoff = rows[5]
    assert handoff["title"] == "Parler à un conseiller…" and handoff["description"] == "maintenant"


async def test_without_a_remembered_language_the_list_button_follows_the_texts_language(channel, graph):
    url, bot, _ = channel
    bot.replies = [
        {
            "text": "¿Qué paquete desea comprar? Elija una opción por favor",
            "buttons": [{"title": f"Paquete {n}", "payload": f'/buy_pack{{"option": "GT-{n}"}}'} for n in range(1, 6)],
        }
    ]
    body = text("hola")
    await post(url, body, signed(body))
    assert sent(graph)[0]["message"]["interactive"]["action"]["button"] == "Elegir"


async def test_more_than_ten_choices_are_numbered_in_the_text(channel, graph):
    url, bot, _ = channel
    remember_language(f"sender:{AWA}", "en")
    bot.replies = [
        {
            "text": "Which store?",
            "buttons": [{"title": f"Store {n}", "payload": f'/inform{{"option": "S{n}"}}'} for n in range(1, 13)],
        }
    ]
    body = text("stores")
    await post(url, body, signed(body))
    (reply,) = sent(graph)
    assert reply["type"] == "text"
    lines = reply["message"]["text"]["body"].splitlines()
    assert lines[0] == "Which store?" and "1. Store 1" in lines and "12. Store 12" in lines
    assert lines[-1] == "Reply with the number of your choice."


async def test_a_payload_too_long_for_an_id_is_sent_as_a_key_and_comes_back_whole(channel, graph):
    url, bot, _ = channel
    long_payload = '/inform{"option": "' + "X" * 300 + '"}'
    bot.replies = [
        {
            "text": "Confirmer ?",
            "buttons": [{"title": "Oui", "payload": long_payload}, {"title": "Non", "payload": "/deny"}],
        }
    ]
    body = text("go")
    await post(url, body, signed(body))
    buttons = sent(graph)[0]["message"]["interactive"]["action"]["buttons"]
    key = buttons[0]["reply"]["id"]
    assert len(key) <= 256 and key.startswith("k:") and buttons[1]["reply"]["id"] == "/deny"
    tap = envelope(
        [message("interactive", interactive={"type": "button_reply", "button_reply": {"id": key, "title": "Oui"}})]
    )
    await post(url, tap, signed(tap))
    assert bot.texts[-1] == long_payload


async def test_long_texts_are_split_into_messages_of_at_most_4096_characters(channel, graph):
    url, bot, _ = channel
    bot.replies = [{"text": "\n\n".join(["Paragraphe " + "x" * 990] * 6)}]  # about 6000 characters
    body = text("détails")
    await post(url, body, signed(body))
    pieces = [m["message"]["text"]["body"] for m in sent(graph)]
    assert len(pieces) == 2 and all(len(p) <= 4096 for p in pieces)
    assert sum(p.count("Paragraphe") for p in pieces) == 6


async def test_links_images_and_link_buttons_go_as_text(channel, graph):
    url, bot, _ = channel
    bot.replies = [
        {"text": "Votre facture", "buttons": [{"title": "PDF", "url": "https://op.example/f.pdf", "type": "web_url"}]},
        {"image": "https://op.example/plan.png"},
    ]
    body = text("facture")
    await post(url, body, signed(body))
    first, second = sent(graph)
    assert first["message"]["text"]["body"] == "Votre facture\nPDF: https://op.example/f.pdf"
    assert first["message"]["text"]["preview_url"] is True
    assert second["message"]["text"]["body"] == "https://op.example/plan.png"


# --- the 24-hour window --------------------------------------------------------------------------------


async def test_outside_the_24_hour_window_the_approved_template_carries_the_text(channel, graph):
    _, _, channel_ = channel
    store.note_inbound("whatsapp", AWA, datetime.now(timezone.utc) - timedelta(hours=25))
    remember_language(f"line:+{AWA}", "fr")
    output = channel_.get_output_channel()  # what the payment webhook uses for its proactive message
    await output.send_response(
        AWA,
        {
            "text": "Paiement reçu ✅\n\nVotre facture CB-0001-002 est réglée.",
            "buttons": [{"title": "Mon solde", "payload": "/check_balance"}],
        },
    )
    (reply,) = sent(graph)
    template = reply["message"]["template"]
    assert reply["type"] == "template" and template["name"] == config.WHATSAPP_TEMPLATE_NAME
    assert template["language"] == {"code": "fr"}
    parameter = template["components"][0]["parameters"][0]["text"]
    assert parameter.startswith("Paiement reçu ✅ · Votre facture CB-0001-002 est réglée.")
    assert "\n" not in parameter and "1. Mon solde" in parameter


async def test_within_the_window_the_same_proactive_message_is_plain_text(channel, graph):
    _, _, channel_ = channel
    store.note_inbound("whatsapp", AWA, datetime.now(timezone.utc) - timedelta(hours=23))
    await channel_.get_output_channel().send_text_message(AWA, "Paiement reçu ✅")
    assert [m["type"] for m in sent(graph)] == ["text"]


async def test_a_customer_who_never_wrote_gets_the_template_in_the_configured_language(channel, graph, monkeypatch):
    _, _, channel_ = channel
    monkeypatch.setattr(config, "WHATSAPP_TEMPLATE_LANGUAGE", "fr:fr,es:es_MX,en:en_US")
    remember_language(f"sender:{AWA}", "es")
    await channel_.get_output_channel().send_text_message(AWA, "x" * 2000)
    template = sent(graph)[0]["message"]["template"]
    assert template["language"] == {"code": "es_MX"}
    assert len(template["components"][0]["parameters"][0]["text"]) == 1024


# --- the Graph API client -----------------------------------------------------------------------------


async def test_a_5xx_or_429_from_meta_is_tried_again(channel, graph):
    url, _, _ = channel
    inject_fault(graph, 503)
    inject_fault(graph, 429)  # replaces the 503: one failure, then success
    body = text("Bonjour")
    assert (await post(url, body, signed(body)))[0] == 200
    assert len(sent(graph)) == 1 and pending_faults(graph) == {}


async def test_other_errors_are_not_tried_again_and_do_not_fail_the_webhook(channel, graph):
    url, _, _ = channel
    inject_fault(graph, 403, count=2)
    body = text("Bonjour")
    assert (await post(url, body, signed(body)))[0] == 200
    assert sent(graph) == [] and pending_faults(graph)["meta"]["count"] == 1  # one attempt only


async def test_a_wrong_access_token_is_refused_by_the_graph_api_and_logged_without_it(channel, graph, caplog):
    _, _, channel_ = channel
    store.note_inbound("whatsapp", AWA, datetime.now(timezone.utc))
    output = whatsapp.WhatsAppOutput("stolen-token-123", PHONE_NUMBER_ID)
    await output.send_text_message(AWA, "hello")
    assert sent(graph) == []
    assert "190" in caplog.text and "stolen-token-123" not in caplog.text


# --- credentials.yml -----------------------------------------------------------------------------------


def test_credentials_yml_registers_the_channel_with_settings_from_config():
    from rasa.core.run import create_http_input_channels

    from tests.conftest import ROOT

    (channel,) = [c for c in create_http_input_channels(None, str(ROOT / "credentials.yml")) if c.name() == "whatsapp"]
    assert isinstance(channel, WhatsAppInput)
    assert (channel.verify_token, channel.app_secret, channel.phone_number_id) == (
        config.WHATSAPP_VERIFY_TOKEN,
        config.WHATSAPP_APP_SECRET,
        config.WHATSAPP_PHONE_NUMBER_ID,
    )


def test_the_proactive_payment_confirmation_goes_out_through_this_channel():
    """connectors/payment_webhook.py sends to the conversation's latest channel: for WhatsApp, this output."""
    from types import SimpleNamespace

    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from connectors.external_events import output_channel_for

    app = SimpleNamespace(ctx=SimpleNamespace(input_channels=[WhatsAppInput.from_credentials(None)]))
    tracker = DialogueStateTracker(AWA, slots=[])
    tracker.update(UserUttered("payer ma facture", {"name": "pay_invoice"}, input_channel="whatsapp"))
    assert isinstance(output_channel_for(app, tracker), whatsapp.WhatsAppOutput)
    tracker.update(UserUttered("hola", {"name": "greet"}, input_channel="rest"))
    assert isinstance(output_channel_for(app, tracker), CollectingOutputChannel)
