"""The Zendesk messaging (Sunshine Conversations) channel over real HTTP: its blueprint on a Sanic app served on
a free port, webhooks posted to it as SunCo delivers them, a stand-in for Rasa that records the messages it is
handed and answers through the channel's output, and the real sandbox receiving (and recording) what goes out."""

import asyncio
import json
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List

import aiohttp
import pytest
import requests
from rasa.core.channels.channel import UserMessage
from rasa.core.run import create_http_input_channels
from sanic import Sanic

from common import config
from common.state import channel_state, remember_language
from connectors.sunshine_messages import flat_metadata, sender_id_for
from connectors.zendesk_messaging import ZendeskMessagingInput, ZendeskMessagingOutput
from tests.conftest import ROOT, free_port

SECRET = "sandbox-sunco-webhook-secret"
CONVERSATION = "c93bb9c14dde8ffb94564eae"
USER = "5963c0d619a30a2e00de36b8"
BOT_INTEGRATION = {"id": "5ef21b86e933b7355c11c604", "name": "rasa-bot", "integrationType": "custom"}
AGENTS = {"id": "5ef21b86e933b7355c11c605", "name": "zd-agentWorkspace", "integrationType": "zd:agentWorkspace"}
HANDOFF = {
    "segment": "prepaid",
    "language": "es",
    "identity": {"line": "+50255501234", "method": "otp"},
    "topic": "loans",
    "summary": "Pide un préstamo de datos; rechazado por deuda. Tarjeta 4242 4242 4242 4242.",
}


def now_iso(delta_seconds: float = 0) -> str:
    moment = datetime.now(timezone.utc) + timedelta(seconds=delta_seconds)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def webhook(*events: Dict[str, Any], app: str = "sandbox-app") -> bytes:
    return json.dumps(
        {"app": {"id": app}, "webhook": {"id": "582ded", "version": "v2"}, "events": list(events)}
    ).encode()


def message_event(
    text: str = "quiero un préstamo",
    event_id: str = "evt-1",
    message_id: str = "msg-1",
    author: str = "user",
    content: Dict[str, Any] = None,
    active: Dict[str, Any] = BOT_INTEGRATION,
    created_at: str = None,
    conversation: str = CONVERSATION,
) -> Dict[str, Any]:
    writer = (
        {
            "type": author,
            "userId": USER,
            "user": {
                "id": USER,
                "externalId": "crm-42",
                "profile": {"givenName": "María", "surname": "López", "locale": "es-GT"},
            },
        }
        if author == "user"
        else {"type": author}
    )
    conversation_json = {"id": conversation, "type": "personal", "metadata": {}}
    if active:
        conversation_json["activeSwitchboardIntegration"] = active
    return {
        "id": event_id,
        "type": "conversation:message",
        "createdAt": created_at or now_iso(),
        "payload": {
            "conversation": conversation_json,
            "message": {
                "id": message_id,
                "received": now_iso(),
                "author": writer,
                "content": content or {"type": "text", "text": text},
                "source": {"type": "web", "integrationId": "5e4af71a"},
            },
        },
    }


def switchboard_event(
    kind: str = "switchboard:passControl",
    active: Dict[str, Any] = BOT_INTEGRATION,
    event_id: str = "evt-sb-1",
    reason: str = "ticketClosed",
    created_at: str = None,
) -> Dict[str, Any]:
    conversation = {"id": CONVERSATION, "type": "personal"}
    if active:
        conversation["activeSwitchboardIntegration"] = active
    payload = {"conversation": conversation, "metadata": {}}
    if reason:
        payload["reason"] = reason
    return {"id": event_id, "type": kind, "createdAt": created_at or now_iso(), "payload": payload}


class StandInRasa:
    """What Rasa's `on_new_message` does with a message, as far as the channel can tell: it records the
    message and answers through the message's output channel, as scripted by the text it got."""

    def __init__(self):
        self.messages: List[UserMessage] = []
        self.fail, self.delay = False, 0.0

    def texts(self) -> List[str]:
        return [m.text for m in self.messages]

    async def __call__(self, message: UserMessage) -> None:
        await asyncio.sleep(self.delay)
        if self.fail:
            raise RuntimeError("the model server is down")
        self.messages.append(message)
        out, to = message.output_channel, message.sender_id
        if message.text == "/human_handoff":
            await out.send_response(to, {"text": "Le paso con un asesor.", "custom": {"handoff": dict(HANDOFF)}})
        elif message.text == "menu":
            await out.send_response(
                to,
                {
                    "text": "¿Qué desea hacer?",
                    "buttons": [
                        {"title": "Recargar saldo", "payload": "/top_up"},
                        {
                            "title": "Un título de botón demasiado largo para el widget de Zendesk",
                            "payload": "/buy_pack",
                        },
                        {"title": "Ver la web", "url": "https://operator.example/help"},
                    ],
                },
            )
        elif message.text == "many":
            await out.send_response(
                to,
                {
                    "text": "¿Cuál paquete?",
                    "buttons": [
                        {"title": f"Paquete {n}", "payload": f'/buy_pack{{"option": "pack-{n}"}}'} for n in range(1, 13)
                    ],
                },
            )
        elif message.text == "long":
            await out.send_response(to, {"text": ("Una frase larga sobre su factura. " * 150).strip()})
        else:
            await out.send_response(to, {"text": f"Recibido: {message.text}"})


@pytest.fixture
async def channel(monkeypatch, sandbox):
    """(webhook URL, stand-in Rasa): the channel's blueprint on its own Sanic app, replies going to the sandbox."""
    monkeypatch.setattr(Sanic, "test_mode", True)
    monkeypatch.setattr(config, "SUNCO_BASE_URL", f"{sandbox}/sunco")
    rasa = StandInRasa()
    app = Sanic(f"zendesk_test_{free_port()}")
    app.blueprint(ZendeskMessagingInput().blueprint(rasa), url_prefix="/webhooks/zendesk")
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    await server.startup()
    yield f"http://127.0.0.1:{port}/webhooks/zendesk/webhook", rasa
    server.close()
    await server.wait_closed()


async def deliver(url: str, body: bytes, secret: str = SECRET):
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-API-Key"] = secret
    async with aiohttp.ClientSession() as client:
        async with client.post(url, data=body, headers=headers) as answer:
            return answer.status, await answer.json()


def sent(sandbox: str, what: str = "messages") -> List[Dict[str, Any]]:
    return requests.get(f"{sandbox}/_sandbox/sunco/{what}", params={"conversation": CONVERSATION}, timeout=5).json()


# --- webhook authentication ---------------------------------------------------------------------------


async def test_health(channel):
    url, _ = channel
    async with aiohttp.ClientSession() as client:
        async with client.get(url.rsplit("/", 1)[0] + "/") as answer:
            assert answer.status == 200 and (await answer.json()) == {"status": "ok"}


async def test_a_delivery_with_the_webhook_secret_reaches_rasa_and_the_reply_reaches_sunco(channel, sandbox):
    url, rasa = channel
    status, answer = await deliver(url, webhook(message_event()))
    assert (status, answer["status"], answer["events"]) == (200, "ok", [{"id": "evt-1", "outcome": "delivered"}])
    (message,) = rasa.messages
    assert message.text == "quiero un préstamo" and message.sender_id == f"zendesk:{CONVERSATION}"
    assert message.input_channel == "zendesk" and message.message_id == "msg-1"
    assert message.metadata["locale"] == "es-GT"
    about = message.metadata["zendesk"]
    assert about["user_id"] == USER and about["external_id"] == "crm-42" and about["conversation_id"] == CONVERSATION
    assert about["profile"]["givenName"] == "María" and about["source"] == "web"
    (reply,) = sent(sandbox)
    assert reply["author"] == {"type": "business"}
    assert reply["content"] == {"type": "text", "text": "Recibido: quiero un préstamo"}


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", SECRET + "x", SECRET[:-1], f"Bearer {SECRET}"])
async def test_unsigned_or_wrongly_signed_deliveries_are_refused(channel, sandbox, secret):
    url, rasa = channel
    status, answer = await deliver(url, webhook(message_event()), secret=secret)
    assert (status, answer["status"]) == (401, "refused")  # SunCo does not retry a 401
    assert rasa.messages == [] and sent(sandbox) == []


async def test_without_a_configured_secret_nothing_is_accepted(channel, monkeypatch):
    url, rasa = channel
    monkeypatch.setattr(config, "SUNCO_WEBHOOK_SECRET", "")
    assert (await deliver(url, webhook(message_event()), secret=""))[0] == 401
    assert rasa.messages == []


@pytest.mark.parametrize(
    "body, expected",
    [(b"not json", 400), (b'{"events": "x"}', 400), (b"[]", 400), (webhook(message_event(), app="another-app"), 400)],
)
async def test_malformed_deliveries_and_other_apps_are_refused(channel, body, expected):
    url, rasa = channel
    assert (await deliver(url, body))[0] == expected and rasa.messages == []


# --- each message once --------------------------------------------------------------------------------


async def test_the_same_event_delivered_twice_reaches_rasa_once(channel, sandbox):
    url, rasa = channel
    assert (await deliver(url, webhook(message_event())))[1]["events"][0]["outcome"] == "delivered"
    status, answer = await deliver(url, webhook(message_event()))  # SunCo's retry: same event, same message
    assert (status, answer["events"][0]["outcome"]) == (200, "duplicate")
    # the same message in another event (a second webhook on the app, say) is the same message
    assert (await deliver(url, webhook(message_event(event_id="evt-2"))))[1]["events"][0]["outcome"] == "duplicate"
    assert rasa.texts() == ["quiero un préstamo"] and len(sent(sandbox)) == 1


async def test_two_deliveries_at_once_reach_rasa_once_and_the_other_is_retried_later(channel):
    url, rasa = channel
    rasa.delay = 0.5
    answers = await asyncio.gather(deliver(url, webhook(message_event())), deliver(url, webhook(message_event())))
    assert sorted(status for status, _ in answers) == [200, 409]
    assert (await deliver(url, webhook(message_event())))[1]["events"][0]["outcome"] == "duplicate"
    assert len(rasa.messages) == 1


async def test_when_rasa_fails_sunco_is_asked_to_deliver_again_and_the_retry_works(channel):
    url, rasa = channel
    rasa.fail = True
    assert (await deliver(url, webhook(message_event())))[0] == 500
    rasa.fail = False
    assert (await deliver(url, webhook(message_event())))[1]["events"][0]["outcome"] == "delivered"
    assert len(rasa.messages) == 1


async def test_several_events_in_one_delivery_are_each_handled(channel):
    url, rasa = channel
    status, answer = await deliver(url, webhook(message_event("hola", "e1", "m1"), message_event("menu", "e2", "m2")))
    assert status == 200 and [e["outcome"] for e in answer["events"]] == ["delivered", "delivered"]
    assert rasa.texts() == ["hola", "menu"]


# --- what is (not) passed to Rasa -----------------------------------------------------------------------


@pytest.mark.parametrize("author", ["business"])
async def test_messages_not_written_by_the_customer_are_ignored(channel, sandbox, author):
    """Our own replies come back as conversation:message events authored by the business."""
    url, rasa = channel
    status, answer = await deliver(url, webhook(message_event("Recibido: hola", author=author)))
    assert (status, answer["events"][0]["outcome"]) == (200, "ignored")
    assert rasa.messages == [] and sent(sandbox) == []


async def test_a_reply_button_sends_its_payload_not_its_title(channel):
    url, rasa = channel
    content = {"type": "text", "text": "Recargar saldo", "payload": '/top_up{"amount": 500}'}
    await deliver(url, webhook(message_event(content=content)))
    assert rasa.texts() == ['/top_up{"amount": 500}']


async def test_a_postback_sends_its_payload(channel):
    url, rasa = channel
    event = {
        "id": "evt-pb",
        "type": "conversation:postback",
        "createdAt": now_iso(),
        "payload": {
            "conversation": {"id": CONVERSATION, "activeSwitchboardIntegration": BOT_INTEGRATION},
            "user": {"id": USER, "externalId": "crm-42"},
            "source": {"type": "messenger"},
            "postback": {"payload": '/buy_pack{"option": "pack-2"}'},
        },
    }
    assert (await deliver(url, webhook(event)))[1]["events"][0]["outcome"] == "delivered"
    (message,) = rasa.messages
    assert message.text == '/buy_pack{"option": "pack-2"}' and message.metadata["zendesk"]["user_id"] == USER
    assert (await deliver(url, webhook(event)))[1]["events"][0]["outcome"] == "duplicate"


async def test_a_shared_location_asks_for_the_nearest_stores(channel):
    url, rasa = channel
    content = {"type": "location", "coordinates": {"lat": 6.3654, "long": 2.4183}, "location": {"name": "Cotonou"}}
    await deliver(url, webhook(message_event(content=content)))
    assert rasa.texts() == ['/find_store{"location": "6.3654,2.4183"}']


async def test_messages_with_nothing_to_read_are_acknowledged(channel):
    url, rasa = channel
    content = {"type": "image", "mediaUrl": "https://media.example/a.jpg"}
    assert (await deliver(url, webhook(message_event(content=content))))[1]["events"][0]["outcome"] == "ignored"
    other = {"id": "evt-typing", "type": "conversation:typing", "payload": {"conversation": {"id": CONVERSATION}}}
    assert (await deliver(url, webhook(other)))[0] == 200
    assert rasa.messages == []


# --- what goes out, within SunCo's limits ---------------------------------------------------------------------


async def test_buttons_become_reply_actions_with_short_titles(channel, sandbox):
    url, _ = channel
    await deliver(url, webhook(message_event("menu")))
    (reply,) = sent(sandbox)
    actions = reply["content"]["actions"]
    assert reply["content"]["text"] == "¿Qué desea hacer?"
    assert actions[0] == {"type": "reply", "text": "Recargar saldo", "payload": "/top_up"}
    assert len(actions[1]["text"]) == 40 and actions[1]["text"].endswith("…") and actions[1]["payload"] == "/buy_pack"
    assert actions[2] == {"type": "link", "text": "Ver la web", "uri": "https://operator.example/help"}


async def test_more_buttons_than_the_limit_become_a_numbered_list_answered_by_number(channel, sandbox):
    url, rasa = channel
    remember_language(f"sender:zendesk:{CONVERSATION}", "es")
    await deliver(url, webhook(message_event("many")))
    (reply,) = sent(sandbox)
    assert "actions" not in reply["content"]
    lines = reply["content"]["text"].splitlines()
    assert lines[0] == "¿Cuál paquete?" and lines[2] == "Responda con el número de su opción:"
    assert lines[3] == "1. Paquete 1" and lines[-1] == "12. Paquete 12"
    await deliver(url, webhook(message_event(" 11 ", "e2", "m2")))
    await deliver(url, webhook(message_event("paquete 3", "e3", "m3")))  # the list answered the message before only
    assert rasa.texts()[1:] == ['/buy_pack{"option": "pack-11"}', "paquete 3"]


async def test_a_typed_title_also_picks_from_the_list(channel):
    url, rasa = channel
    await deliver(url, webhook(message_event("many")))
    await deliver(url, webhook(message_event("PAQUETE  7", "e2", "m2")))
    assert rasa.texts()[-1] == '/buy_pack{"option": "pack-7"}'


async def test_long_text_is_split_within_the_limit(channel, sandbox):
    url, _ = channel
    await deliver(url, webhook(message_event("long")))
    replies = sent(sandbox)
    assert len(replies) == 2 and all(len(r["content"]["text"]) <= 4096 for r in replies)
    assert " ".join(r["content"]["text"] for r in replies) == ("Una frase larga sobre su factura. " * 150).strip()


# --- handoff to the agents and back ---------------------------------------------------------------------------


async def test_a_handoff_passes_control_with_string_metadata_and_the_bot_then_stays_silent(channel, sandbox):
    url, rasa = channel
    await deliver(url, webhook(message_event("/human_handoff")))
    (said,) = sent(sandbox)
    assert said["content"]["text"] == "Le paso con un asesor."
    (handover,) = sent(sandbox, "switchboard")
    assert handover["switchboardIntegration"] == "zd:agentWorkspace"
    metadata = handover["metadata"]
    assert all(isinstance(value, str) for value in metadata.values())
    assert {k: metadata[k] for k in ("segment", "language", "identity.line", "identity.method", "topic")} == {
        "segment": "prepaid",
        "language": "es",
        "identity.line": "+50255501234",
        "identity.method": "otp",
        "topic": "loans",
    }
    assert metadata["summary"].startswith("Pide un préstamo") and "4242" not in metadata["summary"]
    assert metadata["dataCapture.systemField.tags"] == "chatbot,topic_loans,segment_prepaid,language_es"
    assert channel_state.owner(CONVERSATION) == channel_state.AGENT

    # the agent now has it: the customer's next message is not for the bot (even if SunCo still sends it)
    status, answer = await deliver(url, webhook(message_event("¿hola?", "e2", "m2", active=AGENTS)))
    assert (status, answer["events"][0]["outcome"]) == (200, "agent")
    status, answer = await deliver(url, webhook(message_event("¿sigue ahí?", "e3", "m3", active=None)))
    assert answer["events"][0]["outcome"] == "agent"
    assert rasa.texts() == ["/human_handoff"] and len(sent(sandbox)) == 1

    # the ticket is closed: control comes back to the bot, which says so in the customer's language
    status, answer = await deliver(url, webhook(switchboard_event()))
    assert (status, answer["events"][0]["outcome"]) == (200, "bot in control")
    assert channel_state.owner(CONVERSATION) == channel_state.BOT
    assert sent(sandbox)[-1]["content"]["text"] == "¡Aquí estoy de nuevo! ¿Le puedo ayudar con algo más?"
    await deliver(url, webhook(switchboard_event()))  # redelivered: said once only
    assert len(sent(sandbox)) == 2

    await deliver(url, webhook(message_event("gracias", "e4", "m4")))
    assert rasa.texts() == ["/human_handoff", "gracias"]
    assert sent(sandbox)[-1]["content"]["text"] == "Recibido: gracias"


async def test_release_control_gives_the_conversation_back_to_the_bot(channel, sandbox):
    url, rasa = channel
    await deliver(url, webhook(message_event("/human_handoff")))
    await deliver(url, webhook(switchboard_event("switchboard:releaseControl", active=None)))
    assert channel_state.owner(CONVERSATION) == channel_state.BOT
    await deliver(url, webhook(message_event("otra cosa", "e2", "m2", active=None)))
    assert rasa.texts()[-1] == "otra cosa"


async def test_an_agent_taking_over_in_the_workspace_silences_the_bot(channel, sandbox):
    url, rasa = channel
    await deliver(url, webhook(switchboard_event("switchboard:acceptControl", active=AGENTS, reason=None)))
    assert channel_state.owner(CONVERSATION) == channel_state.AGENT
    assert sent(sandbox) == []  # nothing to say when the bot loses control
    assert (await deliver(url, webhook(message_event(active=None))))[1]["events"][0]["outcome"] == "agent"
    assert rasa.messages == []
    # SunCo's later word wins: a newer message saying the bot is active again gives it back
    assert (await deliver(url, webhook(message_event(active=BOT_INTEGRATION, created_at=now_iso(1)))))[1]["events"][0][
        "outcome"
    ] == "delivered"


async def test_a_message_saying_an_agent_is_active_silences_the_bot(channel):
    url, rasa = channel
    assert (await deliver(url, webhook(message_event(active=AGENTS))))[1]["events"][0]["outcome"] == "agent"
    assert rasa.messages == []


async def test_a_late_delivery_of_an_older_event_does_not_undo_the_handoff(channel):
    url, rasa = channel
    await deliver(url, webhook(message_event("/human_handoff")))
    older = message_event("mensaje viejo", "e0", "m0", active=BOT_INTEGRATION, created_at=now_iso(-60))
    assert (await deliver(url, webhook(older)))[1]["events"][0]["outcome"] == "agent"
    stale_switch = switchboard_event(created_at=now_iso(-60))
    await deliver(url, webhook(stale_switch))
    assert channel_state.owner(CONVERSATION) == channel_state.AGENT and rasa.texts() == ["/human_handoff"]


async def test_a_configured_bot_integration_name_decides_who_is_in_control(channel, monkeypatch):
    url, rasa = channel
    monkeypatch.setattr(config, "SUNCO_BOT_INTEGRATION", "rasa-bot")
    other_custom = {"id": "x", "name": "another-bot", "integrationType": "custom"}
    assert (await deliver(url, webhook(message_event(active=other_custom))))[1]["events"][0]["outcome"] == "agent"
    await deliver(url, webhook(switchboard_event(active=BOT_INTEGRATION)))
    assert channel_state.owner(CONVERSATION) == channel_state.BOT


async def test_when_sunco_refuses_the_handoff_the_customer_is_told_an_agent_will_contact_them(channel, sandbox):
    url, rasa = channel
    remember_language(f"sender:zendesk:{CONVERSATION}", "fr")
    HANDOFF["language"] = "fr"
    try:
        requests.post(
            f"{sandbox}/_sandbox/sunco/faults", json={"operation": "passControl", "status": 503, "count": 2}, timeout=5
        ).raise_for_status()
        await deliver(url, webhook(message_event("/human_handoff")))
    finally:
        HANDOFF["language"] = "es"
    assert sent(sandbox, "switchboard") == []
    assert sent(sandbox)[-1]["content"]["text"].startswith("Je n'arrive pas à vous passer un conseiller")
    assert channel_state.owner(CONVERSATION) == channel_state.BOT
    await deliver(url, webhook(message_event("encore là ?", "e2", "m2")))
    assert rasa.texts()[-1] == "encore là ?"


async def test_a_passing_glitch_is_retried_once(channel, sandbox):
    url, _ = channel
    requests.post(
        f"{sandbox}/_sandbox/sunco/faults", json={"operation": "passControl", "status": 503, "count": 1}, timeout=5
    ).raise_for_status()
    await deliver(url, webhook(message_event("/human_handoff")))
    assert len(sent(sandbox, "switchboard")) == 1 and channel_state.owner(CONVERSATION) == channel_state.AGENT


async def test_proactive_messages_wait_while_an_agent_has_the_conversation(channel, sandbox):
    """E.g. the payment webhook's "your payment went through" on the conversation's latest channel."""
    output = ZendeskMessagingInput().get_output_channel()
    assert isinstance(output, ZendeskMessagingOutput)
    channel_state.set_owner(CONVERSATION, channel_state.AGENT, reason="handoff")
    await output.send_response(f"zendesk:{CONVERSATION}", {"text": "Pago recibido ✅"})
    assert sent(sandbox) == []
    channel_state.set_owner(CONVERSATION, channel_state.BOT, reason="ticketClosed")
    await output.send_response(f"zendesk:{CONVERSATION}", {"text": "Pago recibido ✅"})
    assert [m["content"]["text"] for m in sent(sandbox)] == ["Pago recibido ✅"]
    await output.send_response("web-customer", {"text": "not a zendesk conversation"})
    assert len(sent(sandbox)) == 1


def test_handoff_metadata_is_flat_strings_within_4_kb():
    metadata = flat_metadata(
        {
            **HANDOFF,
            "summary": "Résumé très long. " * 600,
            "vip": True,
            "tries": 3,
            "topics": ["loans", "data"],
            "nothing": None,
        }
    )
    assert all(isinstance(v, str) for v in metadata.values())
    assert len(json.dumps(metadata, ensure_ascii=False).encode("utf-8")) <= 4096
    assert metadata["summary"].endswith("…") and metadata["vip"] == "true" and metadata["tries"] == "3"
    assert metadata["topics"] == "loans, data" and "nothing" not in metadata


def test_the_channel_is_registered_from_credentials_yml():
    channels = create_http_input_channels(None, str(ROOT / "credentials.yml"))
    (zendesk,) = [c for c in channels if c.name() == "zendesk"]
    assert isinstance(zendesk, ZendeskMessagingInput) and zendesk.url_prefix() == "zendesk"
    assert sender_id_for("abc") == "zendesk:abc"
