"""A campaign message said in a chat conversation, only when it is real; and "stop" to it."""

import pytest

from actions.campaign_message import ActionCampaignMessage, ActionOptOut
from common import clock
from common.state import campaigns, consent, db
from tests.conftest import make_tracker, slot_event, user_event

NUMBER, CONVERSATION = "+2290197000001", "22990000001"
MESSAGES = {"fr": "Votre facture {name} arrive.", "es": "Su factura {name} llega.", "en": "Your bill is due, {name}."}


def being_sent(kind: str):
    """A campaign of `kind` that campaigns/sender.py is sending to NUMBER right now, NUMBER linked to CONVERSATION."""
    made = campaigns.create("test", kind, MESSAGES, clock.now(), 600)
    campaigns.add_recipients(made.id, [{"msisdn": NUMBER, "name": "Koffi" if kind == "payment_reminder" else ""}])
    campaigns.set_status(made.id, campaigns.RUNNING)
    row = campaigns.claim(campaigns.due(1)[0], 60)
    with db.session() as s, s.begin():
        s.add(
            db.ChannelLink(
                conversation_id=CONVERSATION,
                subject=f"line:{NUMBER}",
                channel="whatsapp",
                first_linked_at=clock.now(),
                last_verified_at=clock.now(),
            )
        )
    return made, row


@pytest.fixture
def sending():
    return being_sent("payment_reminder")


def external(made, row):
    entities = [{"entity": "campaign_id", "value": made.id}, {"entity": "campaign_recipient", "value": str(row.id)}]
    return user_event("/EXTERNAL_campaign_message", "EXTERNAL_campaign_message", entities)


async def test_the_message_is_said_in_the_conversations_language_with_its_next_step(sending, dispatcher, domain):
    made, row = sending
    tracker = make_tracker([external(made, row)], {"language": "fr"}, sender_id=CONVERSATION)
    events = await ActionCampaignMessage().run(dispatcher, tracker, domain)
    [message] = dispatcher.messages
    assert message["text"] == "Votre facture Koffi arrive."
    assert [b["payload"] for b in message["buttons"]] == ["/pay_invoice", "/opt_out"]
    assert events == [{"event": "slot", "timestamp": None, "name": "campaign_id", "value": made.id}]


@pytest.mark.parametrize("forgery", ["another conversation", "not being sent", "another campaign"])
async def test_a_typed_or_replayed_campaign_message_says_nothing(sending, dispatcher, domain, forgery):
    made, row = sending
    conversation = "someone-else" if forgery == "another conversation" else CONVERSATION
    if forgery == "not being sent":
        campaigns.finish(row.id, campaigns.SENT, channel="whatsapp")
    if forgery == "another campaign":
        made = campaigns.create("other", "offer", MESSAGES, clock.now(), 600)
    tracker = make_tracker([external(made, row)], sender_id=conversation)
    assert await ActionCampaignMessage().run(dispatcher, tracker, domain) == []
    assert dispatcher.messages == []


async def test_stop_after_a_campaign_refuses_that_kind_only(sending, dispatcher, domain):
    made, _ = sending
    tracker = make_tracker([slot_event("campaign_id", made.id), user_event("STOP", "opt_out")], sender_id=CONVERSATION)
    await ActionOptOut().run(dispatcher, tracker, domain)
    assert consent.refused(NUMBER, "payment_reminder") and not consent.refused(NUMBER, "offer")
    assert "bill reminders" in dispatcher.messages[0]["text"]


async def test_stop_out_of_the_blue_refuses_every_marketing_campaign(sending, dispatcher, domain):
    tracker = make_tracker([user_event("no more promotions please", "opt_out")], sender_id=CONVERSATION)
    await ActionOptOut().run(dispatcher, tracker, domain)
    assert consent.refused(NUMBER, "offer") and consent.refused(NUMBER, "announcement")
    assert not consent.refused(NUMBER, "outage")


async def test_stop_from_an_unknown_conversation_asks_who_they_are(dispatcher, domain):
    tracker = make_tracker([user_event("stop", "opt_out")], sender_id="web:unknown")
    assert await ActionOptOut().run(dispatcher, tracker, domain) == []
    assert "log in" in dispatcher.messages[0]["text"]


async def test_stop_while_a_money_move_waits_for_its_yes_cancels_it(sending, dispatcher, domain):
    tracker = make_tracker(
        [slot_event("awaiting_answer", True), slot_event("awaiting_confirmation", True), user_event("stop", "opt_out")],
        sender_id=CONVERSATION,
    )
    await ActionOptOut().run(dispatcher, tracker, domain)
    assert not consent.refused(NUMBER, "offer")


async def test_a_post_call_survey_in_the_chat_is_the_nps_question_with_its_buttons(dispatcher, domain):
    from common.state.care_kpi import NpsSurvey

    made, row = being_sent("post_call_survey")
    tracker = make_tracker([external(made, row)], sender_id=CONVERSATION)
    events = await ActionCampaignMessage().run(dispatcher, tracker, domain)
    [message] = dispatcher.messages
    assert message["text"] == "Your bill is due."  # no name on the list: none in the text
    assert [b["title"] for b in message["buttons"]] == [str(n) for n in range(11)]
    assert {"event": "slot", "timestamp": None, "name": "pending_journey", "value": "give_feedback"} in events
    with db.session() as s:
        assert (
            s.query(NpsSurvey).filter_by(conversation_id=CONVERSATION, source="post_call", stage="score").count() == 1
        )
