"""Identification against the sandbox: number -> SMS code -> verified identity; home contract + ID."""

from datetime import timedelta

import pytest

from actions.identity import sessions
from actions.identity.dialogue import ActionIdentificationDone, ActionLogout, ValidateIdentifyForm
from actions.journeys.check_balance import ActionCheckBalance
from common.i18n import render
from common.state import db
from tests.clock import at_each_instant
from tests.conftest import last_code, make_tracker, sms_to, user_event

pytestmark = at_each_instant()  # date-sensitive: each day of a week, a month end, around midnight

FORM = ValidateIdentifyForm()


def asked(slot, text, intent="inform", sender="conv-1", language="es", **slots):
    return make_tracker(
        [user_event(text, intent)], slots={"requested_slot": slot, "language": language, **slots}, sender_id=sender
    )


async def give_number(dispatcher, domain, text, language="es", sender="conv-1"):
    tracker = asked("phone_number", text, language=language, sender=sender)
    extracted = await FORM.extract_phone_number(dispatcher, tracker, domain)
    return await FORM.validate_phone_number(extracted["phone_number"], dispatcher, tracker, domain)


async def give_code(dispatcher, domain, code, msisdn, language="es", sender="conv-1"):
    tracker = asked("otp_code", code, language=language, sender=sender, phone_number=msisdn)
    return await FORM.extract_otp_code(dispatcher, tracker, domain)


@pytest.mark.parametrize(
    "typed, language, msisdn",
    [
        ("5550 0002", "es", "+50255500002"),
        ("97 00 00 01", "fr", "+2290197000001"),
        ("+229 01 96 00 00 05", "en", "+2290196000005"),
    ],
)
async def test_a_number_then_the_sms_code_verifies_the_line(operator, dispatcher, domain, typed, language, msisdn):
    slots = await give_number(dispatcher, domain, typed, language)
    assert slots["phone_number"] == msisdn
    code = last_code(operator, msisdn)
    assert {"es": "código", "fr": "code", "en": "code"}[language] in sms_to(operator, msisdn)[-1]["text"]
    result = await give_code(dispatcher, domain, code, msisdn, language)
    assert result["otp_code"] == "verified" and result["identified"] is True
    assert sessions.authorise("conv-1").subject == f"line:{msisdn}"


async def test_an_unknown_number_is_refused_without_sending_anything(operator, dispatcher, domain):
    slots = await give_number(dispatcher, domain, "+229 01 99 99 99 99", "fr")
    assert slots == {"phone_number": None}
    assert sms_to(operator, "+2290199999999") == []
    assert "n'est pas une ligne de chez nous" in dispatcher.messages[-1]["text"]


async def test_a_wrong_code_is_refused_and_counted(operator, dispatcher, domain):
    await give_number(dispatcher, domain, "5550 0002")
    code = last_code(operator, "+50255500002")
    wrong = "000000" if code != "000000" else "111111"
    result = await give_code(dispatcher, domain, wrong, "+50255500002")
    assert result == {"otp_code": None}
    assert "Le quedan 2 intento(s)" in dispatcher.messages[-1]["text"]
    assert sessions.authorise("conv-1") is None


async def test_brute_force_locks_the_number(operator, dispatcher, domain):
    await give_number(dispatcher, domain, "5550 0002", language="en")
    code = last_code(operator, "+50255500002")
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(3):
        result = await give_code(dispatcher, domain, wrong, "+50255500002", language="en")
    assert result["identify_status"] == "locked"
    assert "locked for 15 minutes" in dispatcher.messages[-1]["text"]
    # even the right code does not work any more, and no new code is sent
    assert (await give_code(dispatcher, domain, code, "+50255500002", language="en"))["otp_code"] != "verified"
    assert (await give_number(dispatcher, domain, "5550 0002", language="en", sender="conv-2"))[
        "identify_status"
    ] == "locked"


async def test_home_contract_and_document(operator, dispatcher, domain):
    tracker = asked("phone_number", "mi contrato es HG-100004")
    assert await FORM.extract_phone_number(dispatcher, tracker, domain) == {"contract_number": "HG-100004"}
    tracker = asked("document_number", "2456789010101", contract_number="HG-100004")
    result = await FORM.extract_document_number(dispatcher, tracker, domain)
    assert result["identified"] is True
    assert sessions.authorise("conv-1").subject == "contract:HG-100004"


@pytest.mark.parametrize("contract, document", [("HG-100004", "1111111111111"), ("HG-999999", "2456789010101")])
async def test_home_gives_the_same_answer_whichever_is_wrong(operator, dispatcher, domain, contract, document):
    tracker = asked("document_number", document, contract_number=contract)
    result = await FORM.extract_document_number(dispatcher, tracker, domain)
    assert result == {"document_number": None, "contract_number": None}
    assert dispatcher.messages[-1]["text"].startswith("El número de contrato y el documento no coinciden")


async def test_home_locks_after_repeated_failures(operator, dispatcher, domain):
    for _ in range(3):
        result = await FORM.extract_document_number(
            dispatcher, asked("document_number", "1111111111111", contract_number="HG-100004"), domain
        )
    assert result["identify_status"] == "locked"
    locked = await FORM.validate_contract_number(
        "HG-100004", dispatcher, asked("contract_number", "HG-100004", sender="x"), domain
    )
    assert locked["identify_status"] == "locked"


async def test_after_identification_the_interrupted_journey_continues(operator, dispatcher, domain):
    await give_number(dispatcher, domain, "5550 0002")
    await give_code(dispatcher, domain, last_code(operator, "+50255500002"), "+50255500002")
    tracker = make_tracker(
        [],
        slots={"identify_status": "verified", "pending_journey": "check_balance", "language": "es"},
        sender_id="conv-1",
    )
    await ActionIdentificationDone().run(dispatcher, tracker, domain)
    texts = "\n".join(m["text"] for m in dispatcher.messages)
    assert "Q35.50" in texts and "Q120.00" in texts


async def test_logout_ends_the_identity(operator, dispatcher, domain):
    sessions.verify("conv-1", "line:+50255500002", "otp")
    await ActionLogout().run(dispatcher, make_tracker([], sender_id="conv-1"), domain)
    assert sessions.authorise("conv-1") is None


def test_every_channel_a_customer_proved_is_linked_to_them_and_kept_after_logout(clock):
    from actions.identity import sessions

    sessions.verify("33612345", "line:+2290197000001", "channel", "whatsapp")
    clock.shift(timedelta(minutes=1))
    sessions.verify("psid-77", "line:+2290197000001", "otp", "messenger")
    clock.shift(timedelta(minutes=1))
    sessions.verify("psid-77", "line:+2290197000001", "otp", "messenger")  # again: one link, refreshed
    sessions.verify("web-1", "line:+50255500002", "otp", "socketio")
    sessions.forget("psid-77")
    links = db.linked_conversations("line:+2290197000001")
    assert [(link.conversation_id, link.channel) for link in links] == [
        ("psid-77", "messenger"),
        ("33612345", "whatsapp"),
    ]
    assert sessions.current("psid-77") is None  # history, not access


@pytest.mark.parametrize("typed", ["12345", "123 45", "1234567"])
async def test_a_code_of_the_wrong_length_is_asked_again_with_its_shape_not_taken_as_a_new_subject(
    operator, dispatcher, domain, typed
):
    await give_number(dispatcher, domain, "5550 0002", language="fr")
    result = await give_code(dispatcher, domain, typed, "+50255500002", language="fr")
    assert result == {"otp_code": None}  # answered (the form asks again), not rejected
    assert dispatcher.messages[-1]["text"] == render("otp_format", "fr")["text"]
    assert sessions.authorise("conv-1") is None


async def test_words_while_the_code_is_asked_are_left_to_the_dialogue(operator, dispatcher, domain):
    assert await give_code(dispatcher, domain, "quiero hablar con un asesor", "+50255500002") == {}


@pytest.mark.parametrize("typed, slot", [("97 00", "phone_number"), ("12", "phone_number")])
async def test_a_number_too_short_is_answered_with_the_expected_shape(dispatcher, domain, typed, slot):
    tracker = asked(slot, typed, language="en")
    assert await FORM.extract_phone_number(dispatcher, tracker, domain) == {"phone_number": None}
    assert dispatcher.messages[-1]["text"] == render("phone_invalid", "en")["text"]


async def test_an_id_number_too_short_is_answered_with_the_expected_shape(dispatcher, domain):
    tracker = asked("document_number", "123", language="es", contract_number="HG-100004")
    assert await FORM.extract_document_number(dispatcher, tracker, domain) == {"document_number": None}
    assert dispatcher.messages[-1]["text"] == render("document_format", "es")["text"]
    tracker = asked("document_number", "no lo tengo aquí", language="es", contract_number="HG-100004")
    assert await FORM.extract_document_number(dispatcher, tracker, domain) == {}  # words: the dialogue's to answer


@pytest.mark.parametrize(
    "this_turn, key",
    [
        ([{"event": "slot", "name": "phone_number", "value": "+50255500002"}], "ask_otp_code"),  # just sent
        ([{"event": "slot", "name": "otp_code", "value": None}], "ask_otp_code_again"),  # a wrong or malformed code
        ([], "ask_otp_code_again"),
    ],
)
async def test_the_code_is_said_to_be_just_sent_only_when_it_was(dispatcher, domain, this_turn, key):
    from actions.identity.dialogue import AskOtpCode

    tracker = make_tracker(
        [user_event("5550 0002", "inform"), *this_turn], slots={"language": "fr", "phone_display": "+502 •••• 0002"}
    )
    await AskOtpCode().run(dispatcher, tracker, domain)
    assert dispatcher.messages[-1]["text"] == render(key, "fr", phone_display="+502 •••• 0002")["text"]
