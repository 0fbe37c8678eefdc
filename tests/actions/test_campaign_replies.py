"""The customer's answer to a campaign message continues in the assistant, against the sandbox: "Call me back" under a
missed-call message books a callback (a Zendesk task through the ticket outbox, naming the campaign), "Pay now"
under a bill reminder starts the invoice journey only once the customer is identified, and a survey's score is
stored where every NPS answer is counted."""

import pytest

from actions.campaign_message import ActionCampaignMessage
from actions.identity import sessions
from actions.journeys.human_handoff import ActionHumanHandoff
from common import clock
from common.state import campaigns, db
from common.state.care_kpi import NpsSurvey
from tests.actions.care_chat import at, tickets, zendesk  # noqa: F401 - the fixture
from tests.actions.chat import AWA, MARIA, Chat

MESSAGES = {
    "fr": "Nous avons essayé de vous appeler.",
    "es": "Su factura vence pronto.",
    "en": "We tried to call you.",
}
BJ_WEDNESDAY_EVENING = "2026-12-02T19:30:00+01:00"  # the contact centre is closed in Benin


def sent_to(number: str, conversation: str, kind: str):
    """A campaign of `kind` being sent to `number`, whose WhatsApp conversation is `conversation`."""
    made = campaigns.create("test", kind, MESSAGES, clock.now(), 600)
    campaigns.add_recipients(made.id, [{"msisdn": number}])
    campaigns.set_status(made.id, campaigns.RUNNING)
    row = campaigns.claim(campaigns.due(1)[0], 60)
    with db.session() as s, s.begin():
        s.add(
            db.ChannelLink(
                conversation_id=conversation,
                subject=f"line:{number}",
                channel="whatsapp",
                first_linked_at=clock.now(),
                last_verified_at=clock.now(),
            )
        )
    return made, row


async def receive(chat: Chat, made, row) -> str:
    entities = {"campaign_id": made.id, "campaign_recipient": str(row.id)}
    return await chat.say("/EXTERNAL_campaign_message", "EXTERNAL_campaign_message", entities, ActionCampaignMessage)


async def call_me_back(chat: Chat, title: str) -> str:
    """Taps the button, and Rasa runs action_human_handoff (data/rules/human_handoff.yml)."""
    assert chat.button(title)["payload"] == '/human_handoff{"option": "callback"}'
    return await chat.say(chat.button(title)["payload"], "human_handoff", {"option": "callback"}, ActionHumanHandoff)


async def test_call_me_back_under_a_missed_call_message_books_a_callback_task(zendesk, domain, clock):  # noqa: F811
    at(BJ_WEDNESDAY_EVENING, clock)
    conversation = AWA.lstrip("+")
    made, row = sent_to(AWA, conversation, "missed_call")
    sessions.verify(conversation, f"line:{AWA}", "whatsapp")  # WhatsApp proves the sender's own number
    chat = Chat(domain, "fr", sender_id=conversation)
    assert "Nous avons essayé de vous appeler." in await receive(chat, made, row)
    assert [b["title"] for b in chat.buttons] == ["Rappelez-moi", "Ne plus recevoir"]
    text = await call_me_back(chat, "Rappelez-moi")
    assert "un conseiller vous rappellera au +229 01 97 00 00 01 dès l'ouverture" in text
    [ticket] = tickets(zendesk)
    assert ticket["type"] == "task" and {"callback", "campaign_missed_call"} <= set(ticket["tags"])
    assert f"Answering campaign {made.id}" in ticket["comments"][0]["body"]


async def test_call_me_back_from_a_conversation_that_proved_no_number_books_nothing(zendesk, domain, clock):  # noqa: F811
    at(BJ_WEDNESDAY_EVENING, clock)
    made, row = sent_to(AWA, "psid-41", "missed_call")
    chat = Chat(domain, "en", sender_id="psid-41")  # linked once, but nobody proved the number in this session
    await receive(chat, made, row)
    text = await call_me_back(chat, "Call me back")
    assert "I need your verified number" in text and tickets(zendesk) == []


async def test_pay_now_under_a_bill_reminder_starts_the_invoice_journey_after_identification(operator, domain):
    conversation = "maria-messenger"
    made, row = sent_to(MARIA, conversation, "payment_reminder")
    chat = Chat(domain, "es", sender_id=conversation)
    chat.slots["identified"] = False
    await receive(chat, made, row)
    assert [b["title"] for b in chat.buttons] == ["Pagar ahora", "No recibir más"]
    text = await chat.tap("Pagar ahora")
    assert "Q150.00" not in text and "/pay/" not in text  # the reminder's link to the line proves nothing
    # identification starts (identify_form follows), and the invoice journey resumes after it
    assert chat.slots["identified"] is False and chat.slots.get("pending_journey") == "pay_invoice"
    sessions.verify(conversation, f"line:{MARIA}", "otp")  # the customer proves the line (SMS code)
    text = await chat.say("/pay_invoice", "pay_invoice")
    assert "Q150.00" in text and "/pay/cs_" in text


@pytest.mark.parametrize("language, score", [("fr", 9), ("es", 3), ("en", 10)])
async def test_a_post_call_survey_score_is_stored_as_an_nps_answer(domain, language, score):
    conversation = AWA.lstrip("+")
    made, row = sent_to(AWA, conversation, "post_call_survey")
    sessions.verify(conversation, f"line:{AWA}", "whatsapp")
    chat = Chat(domain, language, sender_id=conversation)
    await receive(chat, made, row)
    await chat.tap(str(score))
    with db.session() as s:
        [survey] = s.query(NpsSurvey).filter_by(conversation_id=conversation).all()
    assert (survey.source, survey.score, survey.subject) == ("post_call", score, f"line:{AWA}")
