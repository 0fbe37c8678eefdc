"""buy_subscription against the sandbox: subscribing to an add-on after a yes, then (cancel_subscription)
unsubscribing from it, after which it can be bought again."""

from tests.actions.chat import AWA, chat_as


async def test_subscribe_then_cancel_an_add_on(operator, domain):
    chat = chat_as(domain, f"line:{AWA}", "en")
    text = await chat.say("subscribe me to roaming", "buy_subscription", {"pack": "roaming"})
    assert "Roaming Afrique de l'Ouest add-on for 2,500 FCFA a month" in text
    await chat.say("yes", "affirm")
    assert "Roaming Afrique de l'Ouest is active" in chat.text
    text = await chat.say("stop my roaming", "cancel_subscription", {"pack": "roaming"})
    assert "Cancel Roaming Afrique de l'Ouest" in text
    text = await chat.say("yes", "affirm")
    assert "is cancelled" in text
    text = await chat.say("subscribe me to roaming", "buy_subscription", {"pack": "roaming"})
    assert "add-on for 2,500 FCFA" in text  # available again
