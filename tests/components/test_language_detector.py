"""The NLU component decides the conversation_language entity that fills the language slot."""

from rasa.shared.nlu.training_data.message import Message

from components.language_detector import LanguageDetector


def parse(text, intent="greet", entities=()):
    message = Message(data={"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": list(entities)})
    LanguageDetector(LanguageDetector.get_default_config()).process([message])
    return {e["entity"]: e["value"] for e in message.get("entities")}


def test_a_spanish_greeting_sets_spanish():
    assert parse("hola buenas")["conversation_language"] == "es"


def test_a_request_to_switch_wins_over_the_language_it_is_written_in():
    entities = [{"entity": "language", "value": "Spanish", "start": 13, "end": 20}]
    assert parse("can we speak Spanish", "change_language", entities)["conversation_language"] == "es"


def test_a_language_named_in_another_intent_is_not_a_switch():
    entities = [{"entity": "language", "value": "es", "start": 0, "end": 3}]
    assert parse("I want to buy a pack in Spanish shops", "buy_pack", entities)["conversation_language"] == "en"


def test_short_or_numeric_messages_leave_the_language_alone():
    for text in ["ok", "1", "97 00 00 01", "no"]:
        assert "conversation_language" not in parse(text, "inform")


def test_button_payloads_are_not_detected():
    assert "conversation_language" not in parse('/change_language{"language": "fr"}', "change_language")
