"""Every message an action composes exists in fr, es and en, with the same placeholders."""

import re

import pytest

from common.i18n import catalogue, render

LANGUAGES = {"fr", "es", "en"}
PLACEHOLDER = re.compile(r"(?<!{){(\w+)}(?!})")


@pytest.mark.parametrize("key", sorted(catalogue()))
def test_message_exists_in_three_languages_with_the_same_placeholders(key):
    entry = catalogue()[key]
    assert set(entry["text"]) == LANGUAGES, f"{key}: languages {sorted(entry['text'])}"
    placeholders = {lang: set(PLACEHOLDER.findall(text)) for lang, text in entry["text"].items()}
    assert len({frozenset(p) for p in placeholders.values()}) == 1, f"{key}: {placeholders}"
    for button in entry.get("buttons", []):
        assert set(button["title"]) == LANGUAGES, f"{key}: a button lacks a language"
    values = {name: "X" for p in placeholders.values() for name in p}
    for lang in LANGUAGES:
        assert render(key, lang, **values)["text"]
