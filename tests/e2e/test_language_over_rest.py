"""Over the REST channel, against the real model and action server: the reply's language."""

import pytest

from tests.e2e.conftest import language_of


@pytest.mark.parametrize(
    "greeting, language",
    [
        ("hola", "es"),
        ("bonjour", "fr"),
        ("hello", "en"),
        ("buenas tardes", "es"),
        ("bonsoir", "fr"),
        ("good morning", "en"),
    ],
)
def test_a_greeting_is_answered_in_its_language(chat, greeting, language):
    replies = chat()(greeting)
    assert language_of(replies) == language, replies
    assert replies[0].get("buttons"), "the greeting shows the main menu"


def test_asking_for_spanish_switches_for_the_rest_of_the_conversation(chat):
    send = chat()
    assert language_of(send("hello")) == "en"
    assert language_of(send("can we speak Spanish")) == "es"
    for message in ("ok", "1", "thanks"):
        assert language_of(send(message)) == "es", message


def test_short_replies_do_not_flip_the_language(chat):
    send = chat()
    assert language_of(send("bonjour")) == "fr"
    for message in ("ok", "no", "97 00 00 01"):
        assert language_of(send(message)) == "fr", message


def test_the_language_is_remembered_for_the_next_session(chat, assistant):
    import requests

    sender = "e2e-remembered"
    send = chat(sender)
    assert language_of(send("hola, buenos días")) == "es"
    # A new session on the same channel id (after expiry, or a restarted tracker store)
    requests.post(
        f"{assistant['rasa']}/conversations/rest:{sender}/tracker/events",  # connectors/rest.py
        params={"token": assistant["token"]},
        json={"event": "restart"},
        timeout=10,
    ).raise_for_status()
    assert language_of(send("ok")) == "es"
