"""Phone numbers as customers type them, to E.164 (phonenumbers)."""

import re
from typing import List, Optional, Sequence, Tuple

import phonenumbers
from phonenumbers import Leniency

from common import config

# Benin moved to 10-digit numbers in 2024 by prefixing 01; customers still type the old 8 digits.
BENIN_OLD_DIGITS = 8


def _digits_and_plus(text: str) -> str:
    text = text.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    return re.sub(r"[^\d+]", "", text)


def _benin_migrated(number: phonenumbers.PhoneNumber) -> Optional[phonenumbers.PhoneNumber]:
    national = str(number.national_number)
    if number.country_code == 229 and len(national) == BENIN_OLD_DIGITS:
        migrated = phonenumbers.parse(f"+22901{national}")
        if phonenumbers.is_valid_number(migrated):
            return migrated
    return None


def candidates(text: str, regions: Sequence[str] = None) -> List[str]:
    """Every valid E.164 reading of `text`, most likely first (several when no country code is given)."""
    raw = _digits_and_plus(text or "")
    if len(re.sub(r"\D", "", raw)) < 7:
        return []
    found: List[str] = []
    for region in [None] if raw.startswith("+") else list(regions or config.PHONE_REGIONS):
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            continue
        if not phonenumbers.is_valid_number(number):
            number = _benin_migrated(number)
            if number is None:
                continue
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if e164 not in found:
            found.append(e164)
    return found


def regions_for_language(language: Optional[str]) -> List[str]:
    first = config.LANGUAGE_REGIONS.get(language or "")
    return ([first] if first else []) + [r for r in config.PHONE_REGIONS if r != first]


def display(e164: str) -> str:
    """+2290197000001 -> '+229 01 97 00 00 01' as the customer would write it."""
    return phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def masked(e164: str) -> str:
    """Enough to recognise one's own number, not enough to read someone else's: '+229 •• •• •• 00 01'."""
    shown = display(e164)
    digits_seen, out = 0, []
    total = sum(c.isdigit() for c in shown)
    country = len(str(phonenumbers.parse(e164).country_code))
    for c in shown:
        if c.isdigit():
            digits_seen += 1
            out.append(c if digits_seen <= country or digits_seen > total - 4 else "•")
        else:
            out.append(c)
    return "".join(out)


def spans(text: str, regions: Sequence[str] = None) -> List[Tuple[int, int]]:
    """(start, end) of every phone number written in free text, as phonenumbers' matcher finds them with the
    length rules of each market (a Benin number in its old 8 digits has the length of a Guatemalan one).
    Overlapping finds keep the longest."""
    found = []
    for region in regions or config.PHONE_REGIONS:
        found += [(m.start, m.end) for m in phonenumbers.PhoneNumberMatcher(text or "", region, Leniency.POSSIBLE)]
    kept: List[Tuple[int, int]] = []
    for start, end in sorted(set(found), key=lambda s: (s[0] - s[1], s[0])):
        if all(end <= a or start >= b for a, b in kept):
            kept.append((start, end))
    return sorted(kept)
