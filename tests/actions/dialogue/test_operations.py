"""Money moves in general (actions/dialogue/operations.py), shown with a top-up or a pack: nothing moves
without an explicit yes, a yes for another identity or a vanished operation does nothing, a failure at the yes
or a timeout is retried with the same idempotency key, and a journey waits for, then survives, identification."""

import requests

from actions.identity import sessions
from tests.actions.chat import AWA, JOHN, Chat, buckets, chat_as


async def test_no_answers_no_money_moves(operator, domain):
    chat = chat_as(domain, f"line:{AWA}", "fr")
    await chat.say("recharge 1000 avec mobile money", "top_up", {"amount": "1000", "payment_method": "wallet"})
    text = await chat.say("non", "deny")
    assert "rien n'a été changé ni débité" in text
    await chat.say("oui", "affirm")  # nothing pending any more: "what else can I do?"
    assert [r["response"] for r in chat.replies] == ["utter_anything_else"]
    assert buckets(operator, AWA, "wallet") == 15000


async def test_a_forged_confirmation_for_another_identity_is_refused(operator, domain):
    chat = chat_as(domain, f"line:{AWA}", "en")
    await chat.say("top up 1000 from wallet", "top_up", {"amount": "1000", "payment_method": "wallet"})
    sessions.verify("test-user", f"line:{JOHN}", "otp")  # the conversation now holds another line
    text = await chat.say("yes", "affirm")
    assert "nothing waiting" in text
    assert buckets(operator, AWA, "wallet") == 15000


async def test_backend_down_at_the_yes_keeps_the_operation_for_a_retry(operator, domain):
    chat = chat_as(domain, f"line:{AWA}", "en")
    await chat.say("top up 1000 from wallet", "top_up", {"amount": "1000", "payment_method": "wallet"})
    requests.post(f"{operator}/_sandbox/faults", json={"service": "bss", "status": 503, "count": 50}, timeout=5)
    text = await chat.say("yes", "affirm")
    assert "aren't responding" in text
    requests.delete(f"{operator}/_sandbox/faults", timeout=5)
    text = await chat.say("yes", "affirm")
    assert "topped up" in text
    assert buckets(operator, AWA, "wallet") == 14000


async def test_a_journey_needs_an_identity_first(operator, domain):
    chat = Chat(domain, "en")
    chat.slots["identified"] = False
    events_text = await chat.say("top up 1000", "top_up", {"amount": "1000"})
    assert events_text == ""
    assert chat.slots["pending_journey"] == "top_up"
    assert chat.slots["journey_draft"]["values"] == {"amount": "1000"}


async def test_a_timeout_while_moving_money_is_retried_with_the_same_key(operator, domain, monkeypatch):
    from actions.dialogue import operations
    from clients import BackendUnavailable

    real, keys = operations.EXECUTORS["top_up_wallet"], []

    def flaky(dispatcher, tracker, line, params, key):
        keys.append(key)
        if len(keys) == 1:
            real(dispatcher, tracker, line, params, key)  # the money moved, but the answer was lost
            raise BackendUnavailable("read timeout")
        return real(dispatcher, tracker, line, params, key)

    monkeypatch.setitem(operations.EXECUTORS, "top_up_wallet", flaky)
    chat = chat_as(domain, f"line:{AWA}", "en")
    await chat.say("top up 1000 from wallet", "top_up", {"amount": "1000", "payment_method": "wallet"})
    assert "Nothing will be charged twice" in await chat.say("yes", "affirm")
    assert "topped up" in await chat.say("yes", "affirm")
    assert keys[0] == keys[1]
    assert buckets(operator, AWA, "wallet") == 14000  # once, thanks to the idempotency key


async def test_what_was_asked_before_identification_is_kept_for_after_it(operator, domain):
    from actions.identity.dialogue import ActionStartIdentification
    from actions.journeys.buy_pack import ActionBuyPack

    chat = Chat(domain, "en")
    chat.slots["identified"] = False
    await chat.say("buy the 5 GB data pack", "buy_pack", {"pack": "5 GB"}, action=ActionStartIdentification)
    assert chat.slots["pending_journey"] == "buy_pack"
    assert chat.slots["journey_draft"]["values"] == {"pack": "5 GB"}
    sessions.verify("test-user", f"line:{JOHN}", "otp")
    chat.latest_action = "identify_form"  # resumed by action_identification_done, after the code
    text = await chat.say("123456", "inform", action=ActionBuyPack)
    assert "Pass Internet 5 Go costs 2,500 FCFA" in text


async def test_a_move_left_executing_by_a_dead_action_server_is_taken_over_once(operator, domain, monkeypatch, clock):
    """An action server killed mid-move (several run behind the balancer) leaves the operation "executing": until
    OPERATION_STALE_SECONDS have passed the next yes hears "in progress"; then it runs again with the same key, and
    the operator moves the money once even though the dead server had already moved it."""
    from datetime import timedelta

    from actions.dialogue import operations

    real, keys = operations.EXECUTORS["top_up_wallet"], []

    def dies_after_moving(dispatcher, tracker, line, params, key):
        keys.append(key)
        if len(keys) == 1:
            real(dispatcher, tracker, line, params, key)
            raise SystemExit("killed before recording the outcome")  # not an Exception: nothing is cleaned up
        return real(dispatcher, tracker, line, params, key)

    monkeypatch.setitem(operations.EXECUTORS, "top_up_wallet", dies_after_moving)
    chat = chat_as(domain, f"line:{AWA}", "en")
    await chat.say("top up 1000 from wallet", "top_up", {"amount": "1000", "payment_method": "wallet"})
    try:
        await chat.say("yes", "affirm")
    except SystemExit:
        pass
    assert "being processed" in await chat.say("yes", "affirm")  # it may still be running somewhere
    clock.shift(timedelta(seconds=61))
    assert "topped up" in await chat.say("yes", "affirm")
    assert keys[0] == keys[1]
    assert buckets(operator, AWA, "wallet") == 14000  # once
