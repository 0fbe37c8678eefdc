"""show_offers against the sandbox: suggestions that are bought in one tap."""

from tests.actions.chat import JOHN, chat_as


async def test_offers_are_buyable_in_one_tap(operator, domain):
    chat = chat_as(domain, f"line:{JOHN}", "en")
    text = await chat.say("any offers for me", "show_offers")
    assert "My suggestions for you" in text and 1 <= len(chat.buttons) <= 3
    first = chat.buttons[0]
    await chat.tap(first["title"])
    assert "Shall I go ahead?" in chat.text or "isn't enough" in chat.text
