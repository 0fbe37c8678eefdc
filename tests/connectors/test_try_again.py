"""A turn that fails inside Rasa (tracker store or lock store away) is answered with "please send it again" in the
customer's language (connectors/try_again.py), and Rasa no longer hides such failures behind an in-memory tracker
store (connectors/rasa_runtime.py)."""

import pytest
from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from sqlalchemy.exc import OperationalError

from common.i18n import render
from connectors import rasa_runtime, try_again


async def database_away(message):
    raise OperationalError("SELECT", {}, Exception("connection refused"))


async def answered(message):
    await message.output_channel.send_text_message(message.sender_id, "here is your balance")


@pytest.mark.parametrize(
    "text, language",
    [
        ("quel est mon solde s'il vous plaît", "fr"),
        ("quiero saber mi saldo por favor", "es"),
        ("check my balance", "en"),
    ],
)
async def test_a_failed_turn_asks_to_send_the_message_again_in_its_language(text, language):
    out = CollectingOutputChannel()
    await try_again.answering_failures(database_away)(UserMessage(text, out, f"rest:{language}-1"))
    assert out.messages == [
        {"recipient_id": f"rest:{language}-1", "text": render("channel_try_again", language)["text"]}
    ]


async def test_a_message_that_says_nothing_of_its_language_gets_the_conversations_last_one():
    handle = try_again.answering_failures(database_away)
    out = CollectingOutputChannel()
    await handle(UserMessage("quiero recargar saldo", CollectingOutputChannel(), "rest:carlos"))
    await handle(UserMessage("123456", out, "rest:carlos"))
    assert out.messages[0]["text"] == render("channel_try_again", "es")["text"]


async def test_a_turn_that_works_is_left_alone():
    out = CollectingOutputChannel()
    await try_again.answering_failures(answered)(UserMessage("hello", out, "rest:ok"))
    assert [m["text"] for m in out.messages] == ["here is your balance"]


def test_rasa_uses_the_configured_tracker_store_without_an_in_memory_fallback(monkeypatch):
    # Rasa's own (another test of this process may have installed ours already)
    monkeypatch.setattr(Agent, "_create_tracker_store", staticmethod(lambda store, domain: FailSafeTrackerStore(store)))
    store = InMemoryTrackerStore(Domain.empty())
    rasa_runtime.install_tracker_store()
    assert Agent._create_tracker_store(store, Domain.empty()) is store


async def test_an_action_server_that_does_not_answer_gets_the_customer_a_try_again_not_silence():
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.events import BotUttered, SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    from tests.conftest import free_port

    nobody = EndpointConfig(f"http://127.0.0.1:{free_port()}/webhook")  # nothing listens there
    tracker = DialogueStateTracker.from_events("rest:awa", [SlotSet("language", "fr")])
    run = try_again.answering_action_failures(RemoteAction.run)
    action = RemoteAction("action_check_balance", nobody)
    events = await run(action, CollectingOutputChannel(), None, tracker, Domain.empty())
    await rasa_runtime.close_kept_sessions()  # as the server does when it stops (if another test installed them)
    assert [type(e) for e in events] == [BotUttered]
    assert events[0].text == render("channel_try_again", "fr")["text"]


async def test_a_conversation_the_other_replica_served_gets_its_remembered_language(assistant_db):
    from common.state.db import remember_language

    remember_language("sender:rest:served-elsewhere", "es")
    out = CollectingOutputChannel()
    await try_again.answering_failures(database_away)(UserMessage("97 00 00 01", out, "rest:served-elsewhere"))
    assert out.messages[0]["text"] == render("channel_try_again", "es")["text"]
