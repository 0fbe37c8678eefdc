"""Human handoff against the sandbox's Zendesk, with the business-hours clock moved: in hours (a ticket
for an agent, or Zendesk messaging's passControl metadata), out of hours (hours, ticket, callback,
self-service), per market and in the three languages; agent groups by segment and language."""

from datetime import datetime

import pytest

from actions import business_hours
from actions.identity import sessions
from actions.journeys.human_handoff import handoff_metadata
from actions.zendesk_tickets import flush_outbox
from tests.actions.care_chat import (  # noqa: F401
    CareChat,
    at,
    care_domain,
    clear_faults,
    fault,
    outcomes_recorded,
    tickets,
    zendesk,
)
from tests.clock import at_each_instant
from tests.conftest import make_tracker, user_event

pytestmark = at_each_instant()  # date-sensitive: each day of a week, a month end, around midnight

AWA, CARLOS, JOHN = "+2290197000001", "+50255500002", "+2290196000005"
BJ_WEDNESDAY_MORNING = "2025-06-11T10:00:00+01:00"
BJ_WEDNESDAY_EVENING = "2025-06-11T19:30:00+01:00"
BJ_SATURDAY_AFTERNOON = "2025-06-14T15:00:00+01:00"
GT_WEDNESDAY_EVENING = "2025-06-11T19:00:00-06:00"  # still open in Guatemala; 02:00 on Thursday in Benin
GT_SATURDAY_AFTERNOON = "2025-06-14T16:00:00-06:00"
GT_SUNDAY = "2025-06-15T10:00:00-06:00"


def chat_as(care_domain, subject, language, channel="socketio") -> CareChat:
    if subject:
        sessions.verify("test-user", subject, "otp")
    return CareChat(care_domain, language, channel)


# --- in business hours -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "subject, language, moment, said, group, tags",
    [
        (
            f"line:{AWA}",
            "fr",
            BJ_WEDNESDAY_MORNING,
            "J'ai transmis notre échange à un conseiller (ticket n° {id})",
            360010101,
            {"lang_fr", "market_bj", "segment_prepaid"},
        ),
        (
            f"line:{CARLOS}",
            "es",
            GT_WEDNESDAY_EVENING,
            "Pasé nuestra conversación a un asesor (ticket n.° {id})",
            360010102,
            {"lang_es", "market_gt", "segment_prepaid"},
        ),
        (
            f"line:{JOHN}",
            "en",
            BJ_WEDNESDAY_MORNING,
            "I've passed our chat to an agent (ticket no. {id})",
            360010103,
            {"lang_en", "market_bj", "segment_prepaid"},
        ),
    ],
)
async def test_in_hours_an_agent_gets_a_ticket_with_the_transcript_routed_by_segment_and_language(
    zendesk, care_domain, monkeypatch, subject, language, moment, said, group, tags, clock
):
    at(moment, clock)
    chat = chat_as(care_domain, subject, language)
    await chat.say("solde", "check_balance")
    text = await chat.say("agent", "human_handoff")
    [ticket] = tickets(zendesk)
    assert said.format(id=ticket["id"]) in text
    assert ticket["group_id"] == group and set(ticket["tags"]) >= tags | {"handoff", "topic_check_balance"}
    assert "Transcript" in ticket["comments"][0]["body"] and ticket["comments"][0]["public"] is False
    assert ("handoff", "check_balance") in outcomes_recorded()


async def test_in_hours_on_zendesk_messaging_the_agent_workspace_takes_over_with_metadata(
    zendesk, care_domain, monkeypatch, clock
):
    at(BJ_WEDNESDAY_MORNING, clock)
    chat = chat_as(care_domain, f"line:{AWA}", "fr", channel="zendesk")
    await chat.say("ma carte 4242 4242 4242 4242 a été débitée deux fois", "human_handoff")
    assert "Je vous mets en relation avec un conseiller" in chat.text
    [custom] = chat.custom
    handoff = custom["handoff"]
    assert handoff["segment"] == "prepaid" and handoff["language"] == "fr" and handoff["market"] == "BJ"
    assert handoff["identity"] == {"kind": "line", "line": AWA, "name": "Awa Houngbédji"}
    assert handoff["topic"] == "general" and "débitée deux fois" in handoff["summary"]
    assert "4242" not in handoff["summary"]
    assert handoff["dataCapture.systemField.group_id"] == "360010101"
    assert tickets(zendesk) == []  # the Agent Workspace opens the ticket itself
    assert outcomes_recorded() == [("handoff", "general")]


async def test_zendesk_down_in_hours_still_promises_an_agent_and_the_outbox_delivers_once(
    zendesk, care_domain, monkeypatch, clock
):
    at(BJ_WEDNESDAY_MORNING, clock)
    fault(zendesk, 503, 100)
    chat = chat_as(care_domain, f"line:{AWA}", "fr")
    text = await chat.say("je veux parler à quelqu'un", "human_handoff")
    assert "sous la référence T-" in text and "sur ce même canal" in text and tickets(zendesk) == []
    assert "déjà enregistrée" in await chat.say("un conseiller svp", "human_handoff")  # asked again: same ticket
    clear_faults(zendesk)
    assert flush_outbox(everything=True) == {"created": 1, "pending": 0}
    assert flush_outbox(everything=True) == {"created": 0, "pending": 0}
    assert len(tickets(zendesk)) == 1 and outcomes_recorded() == [("handoff", "general")]


async def test_a_complaint_on_zendesk_messaging_in_hours_goes_to_an_agent(zendesk, care_domain, monkeypatch, clock):
    at(GT_WEDNESDAY_EVENING, clock)
    chat = chat_as(care_domain, f"line:{CARLOS}", "es", channel="zendesk")
    await chat.say("quiero poner una queja, me cobraron un paquete que no pedí", "create_ticket")
    [custom] = chat.custom
    assert custom["handoff"]["topic"] == "complaint" and tickets(zendesk) == []
    assert chat.slots["ticket_issue"] is None


async def test_a_complaint_on_zendesk_messaging_out_of_hours_becomes_a_ticket(zendesk, care_domain, monkeypatch, clock):
    at(GT_SUNDAY, clock)
    chat = chat_as(care_domain, f"line:{CARLOS}", "es", channel="zendesk")
    text = await chat.say("quiero poner una queja, me cobraron un paquete que no pedí", "create_ticket")
    [ticket] = tickets(zendesk)
    assert chat.custom == [] and "complaint" in ticket["tags"] and "volvemos" not in text
    assert "Se encargarán apenas abramos, mañana a las 8:00." in text


# --- out of business hours ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "subject, language, moment, expected, callback",
    [
        (
            f"line:{AWA}",
            "fr",
            BJ_WEDNESDAY_EVENING,
            [
                "ne sont pas disponibles",
                "du lundi au vendredi, de 08:00 à 18:00 ; le samedi, de 09:00 à 13:00",
                "(heure du Bénin)",
                "prochaine ouverture demain à 08:00",
                "ou demander qu'on vous rappelle",
            ],
            True,
        ),
        (
            f"line:{CARLOS}",
            "es",
            GT_SATURDAY_AFTERNOON,
            [
                "no están disponibles",
                "de lunes a viernes, de 8:00 a 20:00; el sábado, de 8:00 a 14:00",
                "(hora de Guatemala)",
                "volvemos a abrir el lunes a las 8:00",
            ],
            True,
        ),
        (
            None,
            "en",
            BJ_SATURDAY_AFTERNOON,
            [
                "aren't available",
                "Monday to Friday, 8:00 AM–6:00 PM; Saturday, 9:00 AM–1:00 PM",
                "(Benin time)",
                "we reopen Monday at 8:00 AM",
            ],
            False,
        ),
    ],
)
async def test_out_of_hours_gives_the_hours_a_ticket_a_callback_and_what_to_do_now(
    zendesk, care_domain, monkeypatch, subject, language, moment, expected, callback, clock
):
    at(moment, clock)
    chat = chat_as(care_domain, subject, language)
    text = await chat.say("human please", "human_handoff")
    for words in expected:
        assert words in text
    assert "WhatsApp, Messenger" in text
    payloads = [b["payload"] for b in chat.buttons]
    assert payloads == (["/create_ticket", '/human_handoff{"option": "callback"}'] if callback else ["/create_ticket"])
    assert tickets(zendesk) == [] and outcomes_recorded() == []


async def test_the_same_instant_is_open_in_guatemala_and_closed_in_benin(zendesk, care_domain, monkeypatch, clock):
    at(GT_WEDNESDAY_EVENING, clock)
    assert business_hours.is_open("GT") and not business_hours.is_open("BJ")
    awa = chat_as(care_domain, f"line:{AWA}", "fr")
    assert "ne sont pas disponibles" in await awa.say("un conseiller svp", "human_handoff")
    carlos = chat_as(care_domain, f"line:{CARLOS}", "es")
    assert "Pasé nuestra conversación a un asesor" in await carlos.say("un asesor por favor", "human_handoff")


async def test_a_callback_is_a_task_ticket_to_the_verified_number(zendesk, care_domain, monkeypatch, clock):
    at(BJ_WEDNESDAY_EVENING, clock)
    chat = chat_as(care_domain, f"line:{AWA}", "fr")
    await chat.say("je veux parler à un conseiller", "human_handoff")
    text = await chat.tap('/human_handoff{"option": "callback"}')
    [ticket] = tickets(zendesk)
    assert "un conseiller vous rappellera au +229 01 97 00 00 01 dès l'ouverture, demain à 08:00" in text
    assert f"Référence : {ticket['id']} · T-" in text
    assert ticket["type"] == "task" and {"callback", "segment_prepaid"} <= set(ticket["tags"])
    assert ticket["subject"] == "Call back +229 01 97 00 00 01"
    assert "Call back: +229 01 97 00 00 01" in ticket["comments"][0]["body"]
    assert outcomes_recorded() == [("ticket", "callback")]


@pytest.mark.parametrize(
    "language, expected",
    [
        ("fr", "il me faut votre numéro vérifié"),
        ("es", "necesito su número verificado"),
        ("en", "I need your verified number"),
    ],
)
async def test_no_callback_to_a_number_nobody_proved(zendesk, care_domain, monkeypatch, language, expected, clock):
    at(BJ_WEDNESDAY_EVENING, clock)
    chat = chat_as(care_domain, None, language)
    text = await chat.say('/human_handoff{"option": "callback"}', "human_handoff", {"option": "callback"})
    assert expected in text and [b["payload"] for b in chat.buttons] == ["/create_ticket"]
    assert tickets(zendesk) == []


async def test_handoff_ends_a_pending_help_centre_question(zendesk, care_domain, monkeypatch, clock):
    at(BJ_WEDNESDAY_MORNING, clock)
    chat = chat_as(care_domain, None, "en")
    await chat.say("how do I get my PUK", "ask_faq")
    assert chat.slots["pending_journey"] == "ask_faq"
    await chat.say("talk to a human", "human_handoff")
    assert chat.slots["pending_journey"] is None and chat.slots["awaiting_answer"] is False
    [ticket] = tickets(zendesk)
    assert "topic_ask_faq" in ticket["tags"] and ticket["group_id"] == 360010503  # not identified, English


# --- the pieces ------------------------------------------------------------------------------------------
def test_handoff_metadata_for_an_unidentified_customer(assistant_db):
    tracker = make_tracker(
        [user_event("no entiendo nada, quiero un humano", "human_handoff")], slots={"language": "es"}
    )
    found = handoff_metadata(tracker)
    assert found["identity"] == {"kind": "not_identified", "channel_user": "test-user"}
    assert found["segment"] == "unknown" and found["market"] == "GT" and found["language"] == "es"
    assert "quiero un humano" in found["summary"]


@pytest.mark.parametrize(
    "moment, market, expected",
    [
        ("2025-06-11T08:00:00+01:00", "BJ", True),
        ("2025-06-11T07:59:00+01:00", "BJ", False),
        ("2025-06-11T18:00:00+01:00", "BJ", False),
        ("2025-06-14T12:59:00+01:00", "BJ", True),
        ("2025-06-15T10:00:00+01:00", "BJ", False),
        ("2025-06-11T19:59:00-06:00", "GT", True),
        ("2025-06-14T14:00:00-06:00", "GT", False),
    ],
)
def test_business_hours_are_the_market_own(moment, market, expected):
    assert business_hours.is_open(market, datetime.fromisoformat(moment)) is expected


async def test_when_the_agent_hands_back_the_assistant_says_so_and_asks_the_survey_once(care_domain):
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from actions.journeys.human_handoff import ActionHandoffEnded

    def handed_back():
        return Tracker(
            "zendesk:conv-1",
            {"language": "es"},
            {"intent": {"name": "EXTERNAL_handoff_ended"}},
            [],
            False,
            None,
            {},
            None,
        )

    first, again = CollectingDispatcher(), CollectingDispatcher()
    events = await ActionHandoffEnded().run(first, handed_back(), care_domain)
    assert (
        "give_feedback" in str(first.messages)
        and {"event": "slot", "name": "pending_journey", "value": "give_feedback", "timestamp": None} in events
    )
    await ActionHandoffEnded().run(again, handed_back(), care_domain)
    assert len(again.messages) == 1 and "give_feedback" not in str(again.messages)  # not twice in 30 days
