"""A card number in a message is never read as an answer: intent share_card_number, no entities."""

from rasa.shared.nlu.training_data.message import Message

from components.card_guard import CardNumberGuard


def guarded(text: str, intent: str = "inform", entities=None) -> Message:
    message = Message(data={"text": text, "intent": {"name": intent, "confidence": 0.8}, "entities": entities or []})
    return CardNumberGuard({}).process([message])[0]


def test_a_card_number_becomes_share_card_number_and_loses_its_entities():
    message = guarded(
        "ma carte 4242 4242 4242 4242",
        entities=[{"entity": "phone_number", "value": "4242 4242"}, {"entity": "conversation_language", "value": "fr"}],
    )
    assert message.get("intent") == {"name": "share_card_number", "confidence": 1.0}
    assert [e["entity"] for e in message.get("entities")] == ["conversation_language"]


def test_numbers_that_are_not_cards_are_left_alone():
    for text in ("+229 01 97 00 00 01", "482913", "recharge 5000", "4242 4242 4242 4241", "HG-100004 2456789010101"):
        assert guarded(text).get("intent")["name"] == "inform", text


def test_button_payloads_are_left_alone():
    assert guarded('/pay_invoice{"option": "4242424242424242"}', "pay_invoice").get("intent")["name"] == "pay_invoice"


def test_international_phone_numbers_are_never_taken_for_cards():
    for text in ("00229 01 97 00 00 01", "+229 01 96 00 00 05", "c'est le 0022901660000 06", "+502 5550 0002"):
        assert guarded(text).get("intent")["name"] == "inform", text
