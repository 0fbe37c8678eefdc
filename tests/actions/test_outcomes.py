"""Outcomes the journeys record: a money move counts once it is done, a question is not an outcome."""

import pytest
from sqlalchemy import select

from actions import outcomes
from actions.identity import sessions
from common.state.care_kpi import ConversationOutcome, session
from tests.actions.chat import Chat

AWA, SUSPENDED = "+2290197000001", "+50255500007"


def recorded():
    with session() as s:
        return [
            (r.outcome, r.topic, r.market, r.language, r.subject)
            for r in s.execute(select(ConversationOutcome).order_by(ConversationOutcome.id)).scalars()
        ]


async def test_a_money_move_is_self_served_once_done_not_while_asked_or_proposed(operator, domain):
    sessions.verify("test-user", f"line:{AWA}", "otp")
    chat = Chat(domain, "fr")
    await chat.say("recharger 1000 avec mobile money", "top_up", {"amount": "1000", "payment_method": "wallet"})
    assert chat.slots["awaiting_confirmation"] is True and recorded() == []
    await chat.say("oui", "affirm")
    await chat.say("oui", "affirm")  # the repeat moves nothing and records nothing
    assert recorded() == [("self_served", "top_up", "BJ", "fr", f"line:{AWA}")]


async def test_a_refused_or_cancelled_move_is_not_self_served(operator, domain):
    sessions.verify("test-user", f"line:{AWA}", "otp")
    chat = Chat(domain, "en")
    await chat.say("top up 90000 from my wallet", "top_up", {"amount": "90000", "payment_method": "wallet"})
    await chat.say("yes", "affirm")  # 15 000 FCFA in the wallet: refused
    assert "enough" in chat.text and recorded() == []
    await chat.say("top up 500 from my wallet", "top_up", {"amount": "500", "payment_method": "wallet"})
    await chat.say("no", "deny")
    assert recorded() == []


def test_the_strongest_outcome_wins_and_unknown_ones_are_refused():
    assert outcomes.strongest(["self_served", "ticket", "help_centre"]) == "ticket"
    assert outcomes.strongest(["handoff", "ticket"]) == "handoff"
    assert outcomes.strongest([]) is None
    with pytest.raises(ValueError):
        outcomes.record(None, "resolved")
