"""The language detector: sure on real sentences, silent on messages that could be any language."""

import pytest

from common.language import detect_language, normalise_language_name


@pytest.mark.parametrize(
    "text, expected",
    [
        ("hola", "es"),
        ("bonjour", "fr"),
        ("hello", "en"),
        ("buenas tardes, cuánto saldo tengo?", "es"),
        ("quel est mon solde svp", "fr"),
        ("bjr mon crédit est fini", "fr"),
        ("whats my balance pls", "en"),
        ("quiero hablar con un asesor", "es"),
        ("je veux parler à un conseiller", "fr"),
        ("my data finish abeg help me", "en"),
        ("necesito recargar 50 quetzales a mi cel", "es"),
        ("mi internet no funciona desde ayer", "es"),
        ("internet ne marche pas depuis ce matin", "fr"),
        ("can we speak Spanish", "en"),
    ],
)
def test_detects_the_language_of_real_messages(text, expected):
    assert detect_language(text) == expected


@pytest.mark.parametrize(
    "text", ["ok", "no", "1", "97 00 00 01", "+50255500002", "482913", "menu", "si", "Q50", "👍", ""]
)
def test_is_silent_when_a_message_could_be_any_language(text):
    assert detect_language(text) is None


@pytest.mark.parametrize(
    "name, code",
    [
        ("Español", "es"),
        ("espagnol", "es"),
        ("anglais", "en"),
        ("INGLES", "en"),
        ("français", "fr"),
        ("francés", "fr"),
        ("en", "en"),
        ("portugais", None),
        (None, None),
    ],
)
def test_language_names_in_three_languages(name, code):
    assert normalise_language_name(name) == code


def test_the_first_uses_from_many_threads_at_once_all_detect(monkeypatch):
    """langid's identifier is built on first use: no thread may see it before it knows our three languages."""
    import threading

    from common import language

    monkeypatch.setattr(language, "_identifier", None)
    start, found, errors = threading.Barrier(12), [], []

    def detect():
        start.wait()
        try:
            found.append(language.detect_language("what is my balance please today"))
        except Exception as error:  # noqa: BLE001 - collected for the assertion
            errors.append(error)

    threads = [threading.Thread(target=detect) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and found == ["en"] * 12
