"""Tickets against the sandbox's Zendesk: created exactly once with Zendesk up, down, rate limiting or
losing its answer; what the agent gets (requester, tags, priority, group, a redacted private transcript)."""

import os
import subprocess
import sys
import time

import pytest
import requests

from actions import backends, zendesk_tickets
from actions.identity import sessions
from actions.journeys.create_ticket import ActionAskTicketIssue
from actions.zendesk_tickets import flush_outbox
from clients.zendesk import ZendeskClient
from common import config
from common.state import care
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
from tests.conftest import ROOT

AWA, MARIA, HOGAR = "+2290197000001", "+50235500003", "HG-100004"
WEEKDAY_MORNING_BJ = "2025-06-11T10:00:00+01:00"  # a Wednesday, in business hours everywhere
REFERENCE = r"T-[2-9A-Z]{6}"


@pytest.fixture(autouse=True)
def open_for_business(monkeypatch, clock):
    at(WEEKDAY_MORNING_BJ, clock)


def chat_as(care_domain, subject=None, language="fr", channel="socketio") -> CareChat:
    if subject:
        sessions.verify("test-user", subject, "otp")
    return CareChat(care_domain, language, channel)


def reference_in(text: str) -> str:
    import re

    return re.search(REFERENCE, text).group(0)


# --- Zendesk up ------------------------------------------------------------------------------------------
async def test_a_described_request_becomes_one_ticket_with_everything_the_agent_needs(zendesk, care_domain):
    chat = chat_as(care_domain, f"line:{AWA}")
    await chat.say("quel est mon solde", "check_balance")
    text = await chat.say("j'ai été débité de 500 F pour un pass que je n'ai jamais reçu", "create_ticket")
    created = tickets(zendesk)
    assert len(created) == 1
    ticket = created[0]
    assert f"votre ticket n° {ticket['id']} est ouvert" in text and "sur ce même canal" in text
    assert ticket["external_id"].startswith("T-") and ticket["subject"].startswith("j'ai été débité")
    assert ticket["requester"]["name"] == "Awa Houngbédji" and ticket["requester"]["phone"] == AWA
    assert set(ticket["tags"]) >= {
        "chatbot",
        "ticket",
        "channel_socketio",
        "lang_fr",
        "market_bj",
        "segment_prepaid",
        "topic_check_balance",
    }
    assert ticket["priority"] == "normal" and ticket["group_id"] == 360010101 and ticket["type"] == "question"
    note = ticket["comments"][0]
    assert note["public"] is False and ticket["is_public"] is False
    assert "Customer: Awa Houngbédji · +229 01 97 00 00 01 (verified line)" in note["body"]
    assert "Customer: quel est mon solde" in note["body"]
    assert care.get(ticket["external_id"]).zendesk_id == ticket["id"]
    assert outcomes_recorded()[-1] == ("ticket", "check_balance")
    assert chat.slots["ticket_issue"] is None


async def test_a_bare_request_asks_what_it_is_about_first(zendesk, care_domain):
    chat = chat_as(care_domain, f"line:{MARIA}", "es")
    text = await chat.say("quiero poner un reclamo", "create_ticket")
    assert "Cuénteme en pocas palabras de qué se trata" in text and tickets(zendesk) == []
    text = await chat.say("me cobraron dos veces el plan de este mes", "check_balance")  # whatever NLU made of it
    [ticket] = tickets(zendesk)
    assert f"su ticket n.° {ticket['id']}" in text
    assert ticket["subject"] == "me cobraron dos veces el plan de este mes"
    assert "complaint" in ticket["tags"] and ticket["type"] == "incident"
    assert set(ticket["tags"]) >= {"lang_es", "market_gt", "segment_postpaid"} and ticket["group_id"] == 360010202


async def test_no_to_a_help_article_then_create_a_ticket_takes_the_question(zendesk, care_domain):
    chat = chat_as(care_domain, None, "en")
    await chat.say("how do I get my PUK", "ask_faq")
    await chat.say("no", "deny")
    text = await chat.tap("/create_ticket")
    [ticket] = tickets(zendesk)
    assert f"ticket no. {ticket['id']}" in text and ticket["subject"] == "how do I get my PUK"
    assert "topic_ask_faq" in ticket["tags"]


async def test_the_same_request_twice_is_one_ticket(zendesk, care_domain):
    chat = chat_as(care_domain, f"line:{AWA}")
    await chat.say("mon transfert momo de 2000 F n'est jamais arrivé", "create_ticket")
    text = await chat.say("mon transfert momo de 2000 F n'est jamais arrivé", "create_ticket")
    assert "déjà enregistrée" in text
    assert len(tickets(zendesk)) == 1 and outcomes_recorded() == [("ticket", "general")]


# --- what the agent may read -----------------------------------------------------------------------------
async def test_the_transcript_never_shows_a_code_or_a_card_number(zendesk, care_domain):
    chat = chat_as(care_domain, None, "en")
    chat.events.append({"event": "slot", "name": "requested_slot", "value": "otp_code"})
    await chat.say("482913", "inform", action=ActionAskTicketIssue)  # the SMS code, as typed
    await chat.say("I paid with 4242 4242 4242 4242 and the top up never came, code 551204", "create_ticket")
    [ticket] = tickets(zendesk)
    body = ticket["comments"][0]["body"] + ticket["subject"]
    assert "482913" not in body and "551204" not in body and "4242" not in body
    assert "[code removed]" in body and "[card number removed]" in body


async def test_vip_segment_gets_its_priority_and_group(zendesk, care_domain, monkeypatch):
    monkeypatch.setattr(config, "VIP_SUBJECTS", frozenset({f"line:{MARIA}"}))
    chat = chat_as(care_domain, f"line:{MARIA}", "es")
    await chat.say("necesito que revisen el cobro de roaming de mi factura", "create_ticket")
    [ticket] = tickets(zendesk)
    assert ticket["priority"] == "high" and "segment_vip" in ticket["tags"] and ticket["group_id"] == 360010400


async def test_a_home_contract_is_the_requester_of_its_holder(zendesk, care_domain):
    chat = chat_as(care_domain, f"contract:{HOGAR}", "es")
    await chat.say("el internet de mi casa se corta cada noche desde el lunes", "create_ticket")
    [ticket] = tickets(zendesk)
    assert ticket["requester"]["name"] == "Jorge Pérez" and "segment_home" in ticket["tags"]
    assert "home contract HG-100004" in ticket["comments"][0]["body"] and ticket["group_id"] == 360010302


async def test_an_unidentified_customer_gets_a_ticket_under_their_channel_id(zendesk, care_domain):
    chat = chat_as(care_domain, None, "es")
    await chat.say("quiero reclamar porque la tienda de zona 10 estaba cerrada", "create_ticket")
    [ticket] = tickets(zendesk)
    assert ticket["requester"]["name"] == "socketio customer test-user"
    assert set(ticket["tags"]) >= {"segment_unknown", "market_gt"} and ticket["priority"] == "low"
    assert "not identified (socketio user test-user)" in ticket["comments"][0]["body"]


async def test_out_of_hours_the_ticket_says_when_agents_pick_it_up(zendesk, care_domain, monkeypatch, clock):
    at("2025-06-14T15:00:00+01:00", clock)  # Saturday afternoon in Benin: closed
    chat = chat_as(care_domain, f"line:{AWA}")
    text = await chat.say("mon pass internet a disparu hier soir sans raison", "create_ticket")
    assert "votre ticket n°" in text and "dès la réouverture, lundi à 08:00" in text


# --- Zendesk down, rate limiting, losing its answer: still exactly once -------------------------------------
@pytest.mark.parametrize("status", [503, 429])
async def test_zendesk_unavailable_gives_a_reference_and_the_outbox_creates_it_once(zendesk, care_domain, status):
    fault(zendesk, status, 100, retry_after=30 if status == 429 else None)
    chat = chat_as(care_domain, f"line:{AWA}")
    started = time.monotonic()
    text = await chat.say("mon crédit de 1000 F a disparu après la recharge", "create_ticket")
    assert time.monotonic() - started < 5  # a rate limit is not waited out in front of the customer
    reference = reference_in(text)
    assert "rien ne sera perdu" in text and tickets(zendesk) == []
    assert care.get(reference).status == "pending"
    assert flush_outbox(everything=True) == {"created": 0, "pending": 1}  # still down: nothing lost
    clear_faults(zendesk)
    assert flush_outbox(everything=True) == {"created": 1, "pending": 0}
    assert flush_outbox(everything=True) == {"created": 0, "pending": 0}
    [ticket] = tickets(zendesk)
    assert ticket["external_id"] == reference and care.get(reference).zendesk_id == ticket["id"]
    assert outcomes_recorded() == [("ticket", "general")]


async def test_a_ticket_created_whose_answer_was_lost_is_not_created_again(zendesk, care_domain, monkeypatch):
    class LostAnswer(requests.adapters.HTTPAdapter):
        """The request reaches Zendesk; its answer never comes back (a network cut after the POST)."""

        def send(self, request, **kwargs):
            response = super().send(request, **kwargs)
            if request.method == "POST":
                raise requests.ReadTimeout("answer lost")
            return response

    def lossy_session():
        session = requests.Session()
        session.mount("http://", LostAnswer())
        return session

    monkeypatch.setattr(ZendeskClient, "new_session", staticmethod(lossy_session))
    chat = chat_as(care_domain, f"line:{AWA}")
    text = await chat.say("je n'ai pas reçu les 5 Go achetés ce matin avec momo", "create_ticket")
    reference = reference_in(text)
    assert [t["external_id"] for t in tickets(zendesk)] == [reference]  # Zendesk has it; we do not know yet
    monkeypatch.setattr(ZendeskClient, "new_session", staticmethod(requests.Session))
    assert flush_outbox(everything=True) == {"created": 1, "pending": 0}
    [ticket] = tickets(zendesk)
    assert care.get(reference).zendesk_id == ticket["id"]


async def test_a_ticket_zendesk_refuses_is_kept_not_retried(zendesk, care_domain, monkeypatch):
    monkeypatch.setattr(config, "TICKET_PRIORITIES", {"prepaid": "whenever"})  # 422 RecordInvalid
    chat = chat_as(care_domain, f"line:{AWA}")
    text = await chat.say("ma recharge de 2000 F n'est jamais arrivée", "create_ticket")
    reference = reference_in(text)
    assert care.get(reference).status == "refused" and "RecordInvalid" in care.get(reference).last_error
    assert flush_outbox(everything=True) == {"created": 0, "pending": 0} and tickets(zendesk) == []


async def test_the_retry_thread_sends_pending_tickets(zendesk, care_domain):
    fault(zendesk, 503, 100)
    chat = chat_as(care_domain, f"line:{AWA}")
    reference = reference_in(
        await chat.say("on m'a facturé un appel international que je n'ai pas passé", "create_ticket")
    )
    clear_faults(zendesk)
    with care.session() as s, s.begin():  # due now rather than after the back-off
        s.get(care.TicketOutbox, reference).next_attempt_at = care.now()
    zendesk_tickets.start_retrier(interval=0.05)
    try:
        for _ in range(50):
            if care.get(reference).status == "created":
                break
            time.sleep(0.2)
    finally:
        zendesk_tickets.stop_retrier()
    assert [t["external_id"] for t in tickets(zendesk)] == [reference]


async def test_the_command_line_flush_sends_pending_tickets(zendesk, care_domain, monkeypatch):
    fault(zendesk, 503, 100)
    chat = chat_as(care_domain, f"line:{AWA}")
    reference = reference_in(await chat.say("mon pass a expiré avant la date prévue de 3 jours", "create_ticket"))
    clear_faults(zendesk)
    env = {**os.environ, "ASSISTANT_DB_URL": config.ASSISTANT_DB_URL, "ZENDESK_URL": zendesk, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "actions.zendesk_tickets", "--flush"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "'created': 1" in done.stdout
    assert [t["external_id"] for t in tickets(zendesk)] == [reference]


def test_the_outbox_client_is_the_configured_one(zendesk):
    assert backends.zendesk() is backends.zendesk()


@pytest.mark.parametrize(
    "text, intent, taken",
    [
        ("bon je m'en vais, au revoir", "goodbye", False),  # leaving: the goodbye rule ends the form
        ("non", "deny", False),
        ("je veux parler à quelqu'un", "human_handoff", False),
        ("mon internet coupe tous les soirs", "report_outage", True),
        ("non, la box ne s'allume plus depuis hier", "deny", True),  # a no that describes the problem
    ],
)
async def test_what_the_customer_types_for_the_ticket_is_its_description_unless_they_leave_or_refuse(
    dispatcher, text, intent, taken
):
    from actions.journeys.create_ticket import ValidateTicketForm
    from tests.conftest import make_tracker, user_event

    tracker = make_tracker([user_event(text, intent)], slots={"requested_slot": "ticket_issue"})
    extracted = await ValidateTicketForm().extract_ticket_issue(dispatcher, tracker, {})
    assert extracted == ({"ticket_issue": text} if taken else {})
