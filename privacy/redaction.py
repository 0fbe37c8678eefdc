"""Finds and masks what must never be stored in clear: card-like numbers always, one-time codes
in a message that answers the code question. Used by the tracker store, transcripts and logs."""

import re
from typing import Any, Dict

CARD_REMOVED = "[card number removed]"
CODE_REMOVED = "[code removed]"
# 13 to 19 digits, possibly grouped by spaces or dashes, as card numbers are written
CARD_CANDIDATE = re.compile(r"(?<![\d])(?:\d[ -]?){12,18}\d(?![\d])")
CODE = re.compile(r"(?<!\d)\d{3}\s?\d{3}(?!\d)|(?<!\d)\d{4,8}(?!\d)")


def luhn_valid(digits: str) -> bool:
    total, parity = 0, len(digits) % 2
    for i, c in enumerate(digits):
        d = int(c)
        if i % 2 == parity:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


# International phone numbers as customers type them: +229 01 97..., 00229 01 97... (never taken for a card)
PHONE_PREFIX = re.compile(r"^(\+|00)")


def _card_like(match: "re.Match") -> bool:
    digits = re.sub(r"\D", "", match.group(0))
    if PHONE_PREFIX.match(match.group(0)) or PHONE_PREFIX.match(
        match.string[max(0, match.start() - 1) : match.start()]
    ):
        return False  # 13-15 digits after + or 00 are a phone number, which Luhn passes one time in ten
    return luhn_valid(digits)


def has_card_number(text: str) -> bool:
    return any(_card_like(m) for m in CARD_CANDIDATE.finditer(text or ""))


def redact_cards(text: str) -> str:
    def mask(match):
        return CARD_REMOVED if _card_like(match) else match.group(0)

    return CARD_CANDIDATE.sub(mask, text or "")


def redact_codes(text: str) -> str:
    return CODE.sub(CODE_REMOVED, text or "")


def redact_text(text: str, answering_code: bool = False) -> str:
    text = redact_cards(text)
    return redact_codes(text) if answering_code else text


def redact_parse_data(parse_data: Dict[str, Any], answering_code: bool) -> Dict[str, Any]:
    clean = dict(parse_data)
    if "text" in clean:
        clean["text"] = redact_text(clean["text"], answering_code)
    entities = []
    for entity in clean.get("entities") or []:
        entity = dict(entity)
        if entity.get("entity") == "otp_code" or answering_code and entity.get("entity") in ("amount", "phone_number"):
            entity["value"] = CODE_REMOVED
        elif isinstance(entity.get("value"), str):
            entity["value"] = redact_cards(entity["value"])
        entities.append(entity)
    if "entities" in clean:
        clean["entities"] = entities
    return clean
