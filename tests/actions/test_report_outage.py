"""Outage notices and report_outage against the sandbox's incident registry (TMF656).

Koffi (+2290166000006, Parakou) has an acknowledged mobile data outage: raised this morning, restoration
expected 4 hours after the sandbox was reset. Awa is in Cotonou (none); the Hogar contract is in Mixco,
whose incident is resolved.
"""

from datetime import datetime

import pytest
import pytz
import requests
from sqlalchemy import select

from actions import backends, outage_notice
from actions.identity import sessions
from actions.journeys import report_outage
from clients.bss import BSSClient
from common import config
from common.state.care_kpi import ConversationOutcome, OutageNotice, session
from tests.actions.chat import Chat
from tests.clock import at_each_instant

pytestmark = at_each_instant()  # date-sensitive: each day of a week, a month end, around midnight

KOFFI, AWA, HOGAR = "+2290166000006", "+2290197000001", "HG-100004"
PARAKOU_INCIDENT = "SP-BJ-PARAKOU-001"


def chat_as(domain, subject, language="en", sender_id="test-user") -> Chat:
    sessions.verify(sender_id, subject, "otp")
    return Chat(domain, language, sender_id)


def parakou_incident(sandbox) -> dict:
    token = requests.post(
        f"{sandbox}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("assistant", "sandbox-secret"),
        timeout=5,
    ).json()["access_token"]
    return requests.get(
        f"{sandbox}/tmf-api/serviceProblemManagement/v4/serviceProblem/{PARAKOU_INCIDENT}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    ).json()


def local(text_time: str) -> datetime:
    moment = datetime.fromisoformat(text_time.replace("Z", "+00:00"))
    return moment.astimezone(pytz.timezone("Africa/Porto-Novo"))


def outcomes():
    with session() as s:
        return [
            (r.conversation_id, r.outcome, r.topic, r.market) for r in s.execute(select(ConversationOutcome)).scalars()
        ]


# --- the client ------------------------------------------------------------------------------------
def test_incidents_of_a_city_ignore_case_and_accents_and_skip_resolved_ones(operator):
    client = BSSClient()
    found = client.incidents("PARAKOU")
    assert [i.id for i in found] == [PARAKOU_INCIDENT]
    incident = found[0]
    assert incident.services == ("mobileData",) and incident.cities == ("Parakou",) and incident.market == "BJ"
    assert incident.time_zone == "Africa/Porto-Novo" and incident.raised_at < incident.expected_end
    assert client.incidents("Mixco") == []  # resolved yesterday
    assert client.incidents("Cotonou") == []


# --- the notice before anything else -----------------------------------------------------------
@pytest.mark.parametrize(
    "language, opening, since, until, balance",
    [
        (
            "fr",
            "⚠️ Incident réseau en cours à Parakou sur l'internet mobile.",
            "Depuis :",
            "Rétablissement prévu :",
            "1 000 FCFA",
        ),
        (
            "es",
            "⚠️ Hay una falla de red en Parakou que afecta el internet móvil.",
            "Desde:",
            "Restablecimiento estimado:",
            "1,000 FCFA",
        ),
        (
            "en",
            "⚠️ There's a network incident in Parakou affecting mobile data.",
            "Since:",
            "Expected back:",
            "1,000 FCFA",
        ),
    ],
)
async def test_koffi_is_told_about_the_outage_first_and_once_per_conversation(
    operator, domain, language, opening, since, until, balance
):
    chat = chat_as(domain, f"line:{KOFFI}", language)
    text = await chat.say("balance", "check_balance")
    assert text.startswith(opening), text
    assert balance in text and text.index(opening) < text.index(balance)
    incident = parakou_incident(operator)
    raised, expected = local(incident["timeRaised"]), local(incident["expectedResolutionDate"])
    clock = {"fr": "%H:%M", "es": "%-I:%M", "en": "%-I:%M"}[language]
    since_line = next(line for line in text.splitlines() if line.startswith(since))
    until_line = next(line for line in text.splitlines() if line.startswith(until))
    assert raised.strftime(clock) in since_line and expected.strftime(clock) in until_line
    # "since this morning" (an hour ago just after midnight): said relative to the customer's day
    assert any(
        word in since_line
        for word in {"fr": ("aujourd'hui", "hier"), "es": ("hoy", "ayer"), "en": ("today", "yesterday")}[language]
    )
    # the next journey in the same conversation: not again, even if the slots were reset
    text = await chat.say("balance", "check_balance")
    assert opening not in text and balance in text
    fresh = Chat(domain, language)
    text = await fresh.say("balance", "check_balance")
    assert opening not in text
    with session() as s:
        assert s.execute(select(OutageNotice.incident_id)).scalars().all() == [PARAKOU_INCIDENT]


async def test_another_conversation_is_told_again(operator, domain):
    await chat_as(domain, f"line:{KOFFI}", "fr", sender_id="whatsapp-1").say("solde", "check_balance")
    text = await chat_as(domain, f"line:{KOFFI}", "fr", sender_id="web-2").say("solde", "check_balance")
    assert "Incident réseau" in text


async def test_awa_in_cotonou_and_the_home_contract_in_mixco_are_told_nothing(operator, domain):
    text = await chat_as(domain, f"line:{AWA}", "fr").say("solde", "check_balance")
    assert "Incident" not in text and "⚠️" not in text
    text = await chat_as(domain, f"contract:{HOGAR}", "es", sender_id="hogar").say("mi plan", "show_plan")
    assert "falla de red" not in text


async def test_a_served_journey_is_recorded_as_self_served(operator, domain):
    await chat_as(domain, f"line:{KOFFI}", "fr").say("solde", "check_balance")
    assert outcomes() == [("test-user", "self_served", "check_balance", "BJ")]


async def test_a_journey_that_asks_something_is_not_an_outcome_yet(operator, domain):
    chat = chat_as(domain, f"line:{AWA}", "fr")
    await chat.say("je veux recharger", "top_up")
    assert chat.slots["awaiting_answer"] is True and outcomes() == []


def test_without_the_registry_the_notice_is_skipped_silently(operator, monkeypatch, dispatcher):
    from tests.conftest import make_tracker

    line = BSSClient().line(KOFFI)
    monkeypatch.setattr(config, "BSS_BASE_URL", "http://127.0.0.1:9/tmf-api")
    monkeypatch.setattr(config, "BSS_TOKEN_URL", "http://127.0.0.1:9/oauth/token")
    backends.reset()
    assert outage_notice.outage_notice(dispatcher, make_tracker([]), line) == []
    assert dispatcher.messages == []


# --- report_outage ---------------------------------------------------------------------------------
async def test_identified_koffi_reporting_hears_about_the_incident_and_needs_no_ticket(operator, domain):
    chat = chat_as(domain, f"line:{KOFFI}", "fr")
    text = await chat.say("internet ne marche pas", "report_outage")
    assert "Incident réseau en cours à Parakou" in text and "Pas besoin d'ouvrir un ticket" in text
    assert not chat.buttons and chat.slots["pending_journey"] is None
    assert outcomes() == [("test-user", "self_served", "report_outage", "BJ")]
    # told here, so the next journey does not repeat it
    text = await chat.say("solde", "check_balance")
    assert "Incident" not in text


async def test_unidentified_customer_is_asked_for_the_city_and_a_typed_answer_is_checked(operator, domain):
    chat = Chat(domain, "es")
    chat.slots["identified"] = False
    text = await chat.say("no tengo internet", "report_outage")
    assert "¿En qué ciudad o zona" in text
    assert chat.slots["pending_journey"] == "report_outage" and chat.slots["awaiting_answer"] is True
    text = await chat.say("parakou", "inform")  # no entity: the typed answer is the city
    assert "Hay una falla de red en Parakou" in text and "Restablecimiento estimado:" in text
    assert chat.slots["awaiting_answer"] is False
    assert outcomes() == [("test-user", "self_served", "report_outage", "GT")]  # no line: the language's market


async def test_no_known_incident_gives_troubleshooting_then_a_ticket_or_an_agent(operator, domain):
    chat = Chat(domain, "en")
    text = await chat.say("no signal in cotonou", "report_outage", {"city": "Cotonou"})
    assert "I don't see any known outage in Cotonou" in text
    assert "airplane mode" in text and "APN" in text and "Restart your phone" in text and "router" in text
    assert [b["payload"] for b in chat.buttons] == ["/create_ticket", "/human_handoff"]
    assert [b["title"] for b in chat.buttons] == ["Create a ticket", "Talk to an agent"]
    assert outcomes() == []  # whether the steps worked is unknown: a ticket or handoff records itself


async def test_troubleshooting_fits_the_line(operator, domain):
    text = await chat_as(domain, f"line:{AWA}", "fr").say("pas de connexion", "report_outage")
    assert "Je ne vois aucune panne connue à Cotonou" in text and "mode avion" in text and "box" not in text
    text = await chat_as(domain, f"contract:{HOGAR}", "es", sender_id="hogar").say("no hay internet", "report_outage")
    assert "Mixco" in text and "módem" in text and "modo avión" not in text  # Mixco's incident is resolved


async def test_a_named_city_wins_over_the_line_area(operator, domain):
    text = await chat_as(domain, f"line:{AWA}", "en").say(
        "internet down in Parakou", "report_outage", {"city": "Parakou"}
    )
    assert "network incident in Parakou" in text


async def test_registry_down_still_troubleshoots_and_offers_a_ticket(operator, domain, monkeypatch):
    monkeypatch.setattr(config, "BSS_BASE_URL", "http://127.0.0.1:9/tmf-api")
    monkeypatch.setattr(config, "BSS_TOKEN_URL", "http://127.0.0.1:9/oauth/token")
    backends.reset()
    chat = Chat(domain, "fr")
    text = await chat.say("réseau en panne à Parakou", "report_outage", {"city": "Parakou"})
    assert "Je n'arrive pas à vérifier l'état du réseau" in text and "mode avion" in text
    assert [b["payload"] for b in chat.buttons] == ["/create_ticket", "/human_handoff"]


# --- the wording of times, with a fixed clock ----------------------------------------------------------
def test_times_are_said_in_the_market_zone_relative_to_the_customer_day(monkeypatch, dispatcher, clock):
    from clients.bss import Incident
    from tests.conftest import make_tracker

    moment = datetime(2025, 11, 26, 22, 30, tzinfo=pytz.utc)  # 23:30 in Benin, Wednesday
    clock.move_to(moment)
    zone = "Africa/Porto-Novo"
    assert outage_notice.when(datetime(2025, 11, 26, 5, 30, tzinfo=pytz.utc), zone, "fr") == "aujourd'hui à 06:30"
    assert outage_notice.when(datetime(2025, 11, 26, 23, 15, tzinfo=pytz.utc), zone, "fr") == "demain à 00:15"
    assert (
        outage_notice.when(datetime(2025, 11, 28, 13, 0, tzinfo=pytz.utc), zone, "fr") == "vendredi 28 novembre à 14:00"
    )
    assert (
        outage_notice.when(datetime(2025, 11, 25, 13, 0, tzinfo=pytz.utc), zone, "en").replace("\u202f", " ")
        == "yesterday at 2:00 PM"
    )
    # an estimate already past promises nothing
    late = Incident(
        "SP-1",
        ("voice", "sms"),
        ("Parakou",),
        "acknowledged",
        datetime(2025, 11, 26, 5, 30, tzinfo=pytz.utc),
        datetime(2025, 11, 26, 20, 0, tzinfo=pytz.utc),
        "BJ",
        zone,
    )
    outage_notice.tell(dispatcher, make_tracker([], {"language": "es"}), late, "parakou")
    assert dispatcher.messages[0]["text"].replace("\u202f", " ") == (
        "⚠️ Hay una falla de red en Parakou que afecta las llamadas y los SMS.\nDesde: hoy a las 6:30 a. m.\n"
        "Nuestros técnicos ya están trabajando; aún no tenemos hora estimada de restablecimiento. Disculpe las molestias."
    )


def test_right_after_identification_without_a_journey_koffi_is_told(operator, dispatcher):
    from tests.conftest import make_tracker

    tracker = make_tracker([], {"language": "fr"})
    assert (
        outage_notice.notice_for_current_line(dispatcher, tracker) == [] and dispatcher.messages == []
    )  # not identified
    sessions.verify("test-user", f"line:{KOFFI}", "otp")
    outage_notice.notice_for_current_line(dispatcher, tracker)
    outage_notice.notice_for_current_line(dispatcher, tracker)
    assert len(dispatcher.messages) == 1 and "Incident réseau en cours à Parakou" in dispatcher.messages[0]["text"]
