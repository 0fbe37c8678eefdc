"""Language memory, switching and validation in the action server."""

import pytest
from rasa_sdk.events import SessionStarted, SlotSet

from actions.language import ActionChangeLanguage, ActionSessionStart, ValidateSlotMappings
from common import config
from common.state import remember_language, remembered_language
from tests.conftest import make_tracker, slot_event, user_event


def slots_set(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def test_a_new_customer_starts_in_the_default_language(dispatcher, domain, monkeypatch):
    monkeypatch.setattr(config, "DEFAULT_LANGUAGE", "fr")
    events = await ActionSessionStart().run(dispatcher, make_tracker([]), domain)
    assert events[0] == SessionStarted()
    assert slots_set(events)["language"] == "fr"
    assert events[-1]["event"] == "action" and events[-1]["name"] == "action_listen"


async def test_a_returning_customer_starts_in_the_language_chosen_last_time(dispatcher, domain):
    remember_language("sender:ana", "es")
    events = await ActionSessionStart().run(dispatcher, make_tracker([], sender_id="ana"), domain)
    assert slots_set(events)["language"] == "es"


async def test_other_slots_are_carried_over_to_the_new_session(dispatcher, domain):
    tracker = make_tracker([slot_event("language", "fr")], slots={"city": "Cotonou"})
    events = await ActionSessionStart().run(dispatcher, tracker, domain)
    assert slots_set(events) == {"city": "Cotonou", "language": "fr"}


async def test_a_switch_is_validated_and_remembered(dispatcher, domain):
    tracker = make_tracker(
        [
            slot_event("language", "en"),
            user_event("hablemos en español", "change_language"),
            slot_event("language", "es"),
        ],
        sender_id="carlos",
    )
    result = await ValidateSlotMappings().validate_language("es", dispatcher, tracker, domain)
    assert result == {"language": "es"}
    assert remembered_language("sender:carlos") == "es"


async def test_a_forged_language_keeps_the_previous_one(dispatcher, domain):
    tracker = make_tracker(
        [slot_event("language", "fr"), user_event('/inform{"language":"de"}', "inform"), slot_event("language", "de")]
    )
    result = await ValidateSlotMappings().validate_language("de", dispatcher, tracker, domain)
    assert result == {"language": "fr"}
    assert remembered_language("sender:test-user") is None


async def test_validation_action_sets_the_slot_through_rasa_sdk(dispatcher, domain):
    tracker = make_tracker(
        [slot_event("language", "en"), user_event("en français svp", "change_language"), slot_event("language", "fr")]
    )
    events = await ValidateSlotMappings().run(dispatcher, tracker, domain)
    assert SlotSet("language", "fr") in events


@pytest.mark.parametrize(
    "entities, starts, buttons",
    [
        ([{"entity": "language", "value": "español"}], "Listo, seguimos en español", 0),
        ([{"entity": "language", "value": "es"}], "Listo, seguimos en español", 0),
        ([], "¿En qué idioma desea continuar?", 3),
        ([{"entity": "language", "value": "portugués"}], "¿En qué idioma desea continuar?", 3),
    ],
)
async def test_change_language_confirms_or_asks(dispatcher, domain, entities, starts, buttons):
    tracker = make_tracker([user_event("hablemos español", "change_language", entities)], slots={"language": "es"})
    await ActionChangeLanguage().run(dispatcher, tracker, domain)
    [message] = dispatcher.messages
    assert message["text"].startswith(starts)
    assert len(message["buttons"]) == buttons
    if buttons:
        assert message["buttons"][1] == {"title": "Español", "payload": '/change_language{"language": "es"}'}


async def test_a_chosen_language_is_not_overridden_by_detection(dispatcher, domain):
    choose = user_event("hablemos en español", "change_language", [{"entity": "language", "value": "es"}])
    tracker = make_tracker(
        [choose, slot_event("language", "es"), user_event("thanks", "thank"), slot_event("language", "en")]
    )
    result = await ValidateSlotMappings().validate_language("en", dispatcher, tracker, domain)
    assert result == {"language": "es"}


async def test_without_a_choice_detection_follows_the_customer(dispatcher, domain):
    tracker = make_tracker(
        [
            slot_event("language", "fr"),
            user_event("hello there, my data is finished", "check_quota"),
            slot_event("language", "en"),
        ]
    )
    result = await ValidateSlotMappings().validate_language("en", dispatcher, tracker, domain)
    assert result == {"language": "en"}
