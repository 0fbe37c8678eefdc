"""NPS: asked at most once per customer in 30 days, score by button or typed, optional comment, stored server-side."""

from datetime import datetime, timedelta, timezone

from rasa_sdk import Action
from sqlalchemy import select

from actions.identity import sessions
from actions.journeys import give_feedback
from actions.journeys.give_feedback import ActionGiveFeedback, maybe_ask_nps
from common.state.care_kpi import NpsSurvey, session
from tests.actions.chat import Chat
from tests.clock import at_each_instant
from tests.conftest import make_tracker, user_event

pytestmark = at_each_instant()  # date-sensitive: each day of a week, a month end, around midnight

AWA = "+2290197000001"


class AfterJourney(Action):
    """What a completed journey (or the end of a handoff) does: maybe ask."""

    def name(self):
        return "test_after_journey"

    async def run(self, dispatcher, tracker, domain):
        return maybe_ask_nps(dispatcher, tracker)


def surveys():
    with session() as s:
        return s.execute(select(NpsSurvey).order_by(NpsSurvey.id)).scalars().all()


async def test_asked_after_a_journey_with_eleven_buttons_then_score_and_comment_are_stored(domain):
    sessions.verify("test-user", f"line:{AWA}", "otp")
    chat = Chat(domain, "fr")
    text = await chat.say("merci", "thank", action=AfterJourney)
    assert "de 0 à 10" in text and "recommanderiez-vous" in text
    assert [b["payload"] for b in chat.buttons] == [f'/give_feedback{{"score": "{n}"}}' for n in range(11)]
    assert [b["title"] for b in chat.buttons] == [str(n) for n in range(11)]
    assert chat.slots["pending_journey"] == "give_feedback" and chat.slots["awaiting_answer"] is True
    text = await chat.tap("9")
    assert "Qu'est-ce qui explique votre note" in text and chat.button("Non merci")["payload"] == "/deny"
    assert chat.slots["awaiting_answer"] is True
    text = await chat.say("rapide et simple, merci", "inform")
    assert "Merci pour votre avis" in text and chat.slots["pending_journey"] is None
    [survey] = surveys()
    assert (survey.subject, survey.source, survey.score, survey.comment, survey.stage) == (
        f"line:{AWA}",
        "asked",
        9,
        "rapide et simple, merci",
        "done",
    )
    assert (survey.language, survey.market, survey.channel, survey.conversation_id) == (
        "fr",
        "BJ",
        "unknown",
        "test-user",
    )
    assert survey.answered_at is not None


async def test_asked_at_most_once_in_thirty_days_per_customer_even_unanswered(domain, monkeypatch, clock):
    sessions.verify("web-1", f"line:{AWA}", "otp")
    first = Chat(domain, "en", "web-1")
    assert "How likely are you to recommend us to a friend? (0 = not at all, 10 = certainly)" in await first.say(
        "thanks", "thank", action=AfterJourney
    )
    # not answered; another journey in the same conversation, then the same customer on another channel
    assert await first.say("thanks", "thank", action=AfterJourney) == ""
    sessions.verify("whatsapp-2", f"line:{AWA}", "channel")
    assert await Chat(domain, "en", "whatsapp-2").say("thanks", "thank", action=AfterJourney) == ""
    # 29 days later: still not; 31 days later: asked again
    later = datetime.now(timezone.utc)
    clock.move_to(later + timedelta(days=29))
    sessions.verify("whatsapp-2", f"line:{AWA}", "channel")  # a new visit: the number proves the line again
    assert await Chat(domain, "en", "whatsapp-2").say("thanks", "thank", action=AfterJourney) == ""
    clock.move_to(later + timedelta(days=31))
    sessions.verify("whatsapp-2", f"line:{AWA}", "channel")
    assert "How likely" in await Chat(domain, "en", "whatsapp-2").say("thanks", "thank", action=AfterJourney)
    assert len(surveys()) == 2


async def test_an_anonymous_customer_is_remembered_by_channel_user(domain):
    chat = Chat(domain, "es", "anon-1")
    assert "Del 0 al 10" in await chat.say("gracias", "thank", action=AfterJourney)
    assert await Chat(domain, "es", "anon-1").say("gracias", "thank", action=AfterJourney) == ""
    assert surveys()[0].subject == "sender:anon-1"


async def test_out_of_range_or_unreadable_score_is_asked_again_then_a_typed_number_counts(domain):
    chat = Chat(domain, "en")
    await chat.say("thanks", "thank", action=AfterJourney)
    text = await chat.say('/give_feedback{"score": "11"}', "give_feedback", {"score": "11"})
    assert "score from 0 to 10" in text and len(chat.buttons) == 11 and chat.slots["awaiting_answer"] is True
    text = await chat.say("great", "inform")
    assert "score from 0 to 10" in text
    assert surveys()[0].score is None
    text = await chat.say("8/10", "inform")
    assert "main reason for your score" in text
    assert surveys()[0].score == 8


async def test_no_thanks_ends_without_comment_and_no_skips_the_score(domain):
    chat = Chat(domain, "en")
    await chat.say("thanks", "thank", action=AfterJourney)
    await chat.tap("3")
    text = await chat.tap("No, thanks")
    assert "Thanks for your feedback" in text and chat.slots["awaiting_answer"] is False
    assert (surveys()[0].score, surveys()[0].comment, surveys()[0].stage) == (3, None, "done")

    other = Chat(domain, "fr", "other")
    await other.say("merci", "thank", action=AfterJourney)
    text = await other.say("non", "deny")
    assert "pas de souci" in text and other.slots["pending_journey"] is None
    assert (surveys()[1].score, surveys()[1].stage) == (None, "done")


async def test_a_yes_before_the_comment_waits_for_it_and_a_long_no_is_a_comment(domain):
    chat = Chat(domain, "es")
    await chat.say("gracias", "thank", action=AfterJourney)
    await chat.tap("10")
    assert "Le escucho" in await chat.say("sí", "affirm")
    await chat.say("no, nada que mejorar, todo muy rápido", "deny")
    assert surveys()[0].comment == "no, nada que mejorar, todo muy rápido"


async def test_a_card_number_in_the_comment_is_not_stored(domain):
    chat = Chat(domain, "en")
    await chat.say("thanks", "thank", action=AfterJourney)
    await chat.tap("0")
    await chat.say("you charged my card 4242 4242 4242 4242 twice", "inform")
    assert "4242 4242" not in surveys()[0].comment and "[card number removed]" in surveys()[0].comment


async def test_spontaneous_feedback_is_asked_even_within_thirty_days(domain):
    chat = Chat(domain, "en")
    await chat.say("thanks", "thank", action=AfterJourney)
    await chat.tap("7")
    await chat.tap("No, thanks")
    text = await chat.say("I want to give feedback", "give_feedback")
    assert "How likely" in text and len(chat.buttons) == 11
    await chat.tap("2")
    await chat.say("too slow", "inform")
    assert [(s.source, s.score, s.comment) for s in surveys()] == [("asked", 7, None), ("spontaneous", 2, "too slow")]


async def test_a_score_given_with_the_intent_is_taken_at_once_with_its_channel(domain, dispatcher):
    message = user_event('/give_feedback{"score": "6"}', "give_feedback", [{"entity": "score", "value": "6"}])
    message["input_channel"] = "whatsapp"
    tracker = make_tracker([message], {"language": "es"}, sender_id="50255500002")
    events = await ActionGiveFeedback().run(dispatcher, tracker, {})
    assert {e["name"]: e["value"] for e in events if e["event"] == "slot"}["pending_journey"] == "give_feedback"
    [survey] = surveys()
    assert (survey.source, survey.score, survey.channel, survey.language, survey.market) == (
        "spontaneous",
        6,
        "whatsapp",
        "es",
        "GT",
    )


async def test_a_typed_number_long_after_the_question_is_not_a_score(domain, monkeypatch, clock):
    chat = Chat(domain, "en")
    await chat.say("thanks", "thank", action=AfterJourney)
    later = datetime.now(timezone.utc) + timedelta(days=2)
    clock.move_to(later)
    text = await chat.say("5", "inform")
    assert "How likely" not in text and surveys()[0].score is None
