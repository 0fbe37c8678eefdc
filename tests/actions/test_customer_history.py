"""One customer across channels: identified on WhatsApp, later on Messenger; the agent's ticket shows both
conversations (redacted), the handoff metadata names the other channel, and the language follows the line."""

import pytest
from rasa.shared.core.events import BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from actions.identity import sessions
from common import config
from common.state import remember_language, remembered_language
from privacy.tracker_store import RedactingSQLTrackerStore
from tests.actions.care_chat import at, care_domain, tickets, zendesk  # noqa: F401  (fixtures)
from tests.actions.test_create_ticket import WEEKDAY_MORNING_BJ, chat_as

AWA, AWA_WA = "+2290197000001", "2290197000001"


@pytest.fixture
def tracker_store(tmp_path, monkeypatch):
    path = tmp_path / "tracker.db"
    monkeypatch.setattr(config, "TRACKER_DB_URL", f"sqlite:///{path}")
    return RedactingSQLTrackerStore(dialect="sqlite", db=str(path))


async def test_the_agent_sees_the_whatsapp_conversation_in_the_messenger_ticket(
    zendesk, care_domain, tracker_store, monkeypatch, clock
):
    at(WEEKDAY_MORNING_BJ, clock)
    await tracker_store.save(
        DialogueStateTracker.from_events(
            AWA_WA,
            [
                SessionStarted(),
                UserUttered("je veux un pass internet", {"name": "buy_pack"}, input_channel="whatsapp"),
                BotUttered("Quel pass voulez-vous ?"),
                UserUttered("ma carte 4242 4242 4242 4242", {"name": "share_card_number"}, input_channel="whatsapp"),
            ],
        )
    )
    sessions.verify(AWA_WA, f"line:{AWA}", "channel", "whatsapp")
    chat = chat_as(care_domain, f"line:{AWA}", "fr", channel="messenger")
    await chat.say("le pass que j'ai acheté sur WhatsApp ne marche pas du tout", "create_ticket")
    note = tickets(zendesk)[-1]["comments"][0]["body"]
    assert "The same customer on other channels:" in note and f"whatsapp user {AWA_WA}" in note
    assert "Customer: je veux un pass internet" in note and "Assistant: Quel pass voulez-vous ?" in note
    assert "4242" not in note


async def test_the_handoff_metadata_names_the_other_channels(care_domain):
    from rasa_sdk import Tracker

    from actions.journeys.human_handoff import handoff_metadata

    sessions.verify(AWA_WA, f"line:{AWA}", "channel", "whatsapp")
    sessions.verify("test-user", f"line:{AWA}", "otp", "messenger")
    tracker = Tracker(
        "test-user",
        {"language": "fr"},
        {"text": "un conseiller", "intent": {"name": "human_handoff"}},
        [],
        False,
        None,
        {},
        None,
    )
    assert handoff_metadata(tracker)["other_channels"] == f"whatsapp {AWA_WA}"


def test_the_language_follows_the_line_not_the_channel():
    remember_language(f"line:{AWA}", "fr")  # chosen on WhatsApp
    assert remembered_language("sender:psid-1", f"line:{AWA}") == "fr"


def test_identifying_on_a_new_channel_takes_the_language_the_customer_uses_elsewhere():
    from actions.identity.dialogue import identified
    from tests.conftest import make_tracker, user_event

    remember_language(f"line:{AWA}", "fr")  # Awa speaks French on WhatsApp
    only_numbers = make_tracker(
        [user_event("97000001", "inform"), user_event("482913", "inform")], slots={"language": "en"}, sender_id="psid-9"
    )
    assert identified(only_numbers, f"line:{AWA}", "otp")["language"] == "fr"
    # a customer who writes English here keeps English, and it becomes their language
    written = make_tracker(
        [user_event("hello I want my balance", "check_balance", [{"entity": "conversation_language", "value": "en"}])],
        slots={"language": "en"},
        sender_id="psid-10",
    )
    assert "language" not in identified(written, f"line:{AWA}", "otp")
    assert remembered_language(f"line:{AWA}") == "en"
