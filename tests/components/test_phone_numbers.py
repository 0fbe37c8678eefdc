"""Phone numbers are found however customers write them, and win over what the CRF read on the same digits."""

from rasa.shared.nlu.training_data.message import Message

from components.phone_numbers import PhoneNumberExtractor


def numbers(text, entities=()):
    message = Message(data={"text": text, "entities": list(entities)})
    PhoneNumberExtractor({}).process([message])
    return [(e["entity"], text[e["start"] : e["end"]]) for e in message.get("entities")]


def test_every_written_form_of_a_number_is_one_phone_number():
    for text, number in [
        ("97.45.12.03 c'est mon numéro", "97.45.12.03"),
        ("mon numéro c 01.96.41.22.87", "01.96.41.22.87"),
        ("it's +502 5123-4567", "+502 5123-4567"),
        ("numero 42158796", "42158796"),
        ("recarga al 5550 0002 xfa", "5550 0002"),
        ("+229 01 62 33 44 55", "+229 01 62 33 44 55"),
    ]:
        assert numbers(text) == [("phone_number", number)], text


def test_a_number_replaces_what_the_crf_read_over_it_and_keeps_the_rest():
    crf = [
        {"entity": "amount", "start": 9, "end": 13, "value": "1000"},
        {"entity": "otp_code", "start": 21, "end": 26, "value": "97 00"},
    ]
    assert numbers("recharge 1000 sur le 97 00 00 01", crf) == [("amount", "1000"), ("phone_number", "97 00 00 01")]


def test_codes_amounts_documents_and_dates_are_not_phone_numbers():
    for text in ["code 736 402", "482913", "mets 25000 F", "ma cni 2456789010101", "HG-100004", "le 12/05 à 10h"]:
        assert numbers(text) == [], text


def test_a_button_payload_is_left_alone():
    assert numbers('/inform{"phone_number": "97000001"}') == []
