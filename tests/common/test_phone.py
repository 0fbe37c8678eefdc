"""Phone numbers as customers write them."""

import pytest

from common.phone import candidates, masked, regions_for_language


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("97 00 00 01", "+2290197000001"),  # Benin's old 8 digits
        ("0197000001", "+2290197000001"),
        ("+229 01 97 00 00 01", "+2290197000001"),
        ("00229 97000001", "+2290197000001"),
        ("+229 97.00.00.01", "+2290197000001"),
        ("+502 5550-0002", "+50255500002"),
    ],
)
def test_common_written_forms(typed, expected):
    assert candidates(typed)[0] == expected


def test_eight_digits_without_country_code_are_read_in_the_conversation_market_first():
    assert candidates("5550 0002", regions_for_language("es"))[0] == "+50255500002"
    assert "+50255500002" in candidates("5550 0002", regions_for_language("fr"))


@pytest.mark.parametrize("typed", ["12", "hola", "", "123456"])
def test_not_a_phone_number(typed):
    assert candidates(typed) == []


def test_masked_keeps_country_and_last_four():
    assert masked("+2290197000001") == "+229 •• •• •• 00 01"
