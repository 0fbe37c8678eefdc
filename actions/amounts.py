"""Money amounts as customers type them: "5000", "2 000 F", "5k", "Q50", "mille", "50 quetzales"."""

import re
from typing import Optional

# Words customers use for round amounts, in the three languages.
WORDS = {"cent": 100, "cien": 100, "hundred": 100, "mille": 1000, "mil": 1000, "thousand": 1000}
SMALL = {
    "un": 1,
    "une": 1,
    "one": 1,
    "a": 1,
    "deux": 2,
    "dos": 2,
    "two": 2,
    "trois": 3,
    "tres": 3,
    "three": 3,
    "quatre": 4,
    "cuatro": 4,
    "four": 4,
    "cinq": 5,
    "cinco": 5,
    "five": 5,
    "dix": 10,
    "diez": 10,
    "ten": 10,
    "vingt": 20,
    "veinte": 20,
    "twenty": 20,
    "cinquante": 50,
    "cincuenta": 50,
    "fifty": 50,
}
NUMBER = re.compile(r"(?<![\d.,])(\d{1,3}(?:[ .\u202f\u00a0]\d{3})+|\d+)(?:[.,](\d{1,2}))?\s*(k\b)?", re.IGNORECASE)


def parse_amount(text: Optional[str]) -> Optional[float]:
    """The first amount in `text`, or None. Thousands may be grouped by spaces or dots; decimals by , or ."""
    if text is None:
        return None
    text = str(text).lower()
    match = NUMBER.search(text)
    if match:
        whole = float(re.sub(r"\D", "", match.group(1)))
        value = whole + (float(f"0.{match.group(2)}") if match.group(2) else 0.0)
        if match.group(3):
            value *= 1000
        rest = text[match.end() :].lstrip()
        if rest.startswith(("mille", "mil ", "thousand")) or rest in ("mil",):
            value *= 1000
        return value
    words = re.findall(r"[a-zñ]+", text)
    for i, word in enumerate(words):
        if word in WORDS:
            return SMALL.get(words[i - 1], 1) * WORDS[word] if i else WORDS[word]
    return None
