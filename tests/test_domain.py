"""Every customer-facing text exists in fr, es and en; every action and response is wired."""

import re

import pytest

LANGUAGES = {"fr", "es", "en"}


def variation_language(variation):
    for condition in variation.get("condition") or []:
        if condition.get("name") == "language":
            return condition.get("value")
    return None


def test_every_response_exists_in_every_language(domain):
    missing = {}
    for name, variations in domain["responses"].items():
        languages = {variation_language(v) for v in variations}
        if languages != LANGUAGES:
            missing[name] = sorted(LANGUAGES - languages) or sorted(languages)
    assert not missing, f"responses without fr/es/en: {missing}"


def test_variations_of_one_response_use_the_same_placeholders_and_buttons(domain):
    for name, variations in domain["responses"].items():
        placeholders = {frozenset(re.findall(r"{(\w+)}", v.get("text", ""))) for v in variations}
        assert len(placeholders) == 1, f"{name}: placeholders differ between languages: {placeholders}"
        payloads = {tuple(b["payload"] for b in v.get("buttons", [])) for v in variations}
        assert len(payloads) == 1, f"{name}: buttons differ between languages"


def test_language_slot_always_has_a_supported_value(domain):
    slot = domain["slots"]["language"]
    assert set(slot["values"]) == LANGUAGES
    assert slot["initial_value"] in LANGUAGES


@pytest.mark.parametrize("text_field", ["text"])
def test_no_response_is_empty(domain, text_field):
    for name, variations in domain["responses"].items():
        for v in variations:
            assert v.get(text_field, "").strip(), f"{name} has an empty {variation_language(v)} text"


def test_custom_actions_in_domain_are_implemented(domain):
    from rasa_sdk.executor import ActionExecutor

    import actions  # noqa: F401  registers every action

    executor = ActionExecutor()
    executor.register_package("actions")
    implemented = set(executor.actions)
    declared = {a for a in domain["actions"] if not a.startswith("utter_")}
    assert declared <= implemented, f"declared but not implemented: {declared - implemented}"
