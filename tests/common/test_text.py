"""The text helpers every layer shares."""

from common.text import fold, split_text, squash_repeats, without_accents


def test_split_text_cuts_at_breaks_and_never_loses_characters():
    assert split_text("short", 4096) == ["short"]
    assert split_text("", 4096) == []
    assert split_text("a" * 9000, 4096) == ["a" * 4096, "a" * 4096, "a" * 808]
    pieces = split_text(("word " * 2000).strip(), 4096)
    assert all(len(p) <= 4096 for p in pieces) and " ".join(pieces) == ("word " * 2000).strip()


def test_accents_and_case_do_not_matter_once_folded():
    assert without_accents("Crédito Económico à Cotonou") == "Credito Economico a Cotonou"
    assert fold("ÉTÉ Señal") == "ete senal"
    assert fold(None) == ""


def test_a_letter_typed_three_times_or_more_counts_once():
    assert squash_repeats("nooon merciiii byee") == "non merci byee"
    assert squash_repeats("appel 1000 www") == "appel 1000 w"
    assert squash_repeats(None) == ""
