"""The assistant's texts written for the ear (the voice channel): what a chat shows but a voice cannot say is left
out (emoji, links, markdown, bullets), and numbers, money and units are written the way a text-to-speech voice reads
them right in each language: "2 500 FCFA" -> "2500 francs CFA", "Q35.50" -> "35.50 quetzales", "1,5 GB" ->
"1,5 gigaoctets"."""

import re
import unicodedata

from common.i18n import render

URL = re.compile(r"(?:https?://|www\.)\S+", re.I)
MARKUP = re.compile(r"[*_~`#>|]+")
BULLET = re.compile(r"^\s*(?:[-•·▪◦]|\d+[.)])\s+", re.M)
# A thousands separator between digit groups ("2 500", "2,500" in English, "2.500"); not a decimal part.
THOUSANDS = {
    "fr": re.compile(r"(?<=\d)[\u00a0\u202f ](?=\d{3}(?!\d))"),
    "es": re.compile(r"(?<=\d),(?=\d{3}(?!\d))"),
    "en": re.compile(r"(?<=\d),(?=\d{3}(?!\d))"),
}
QUETZALES = re.compile(r"\bQ\s?(\d[\d.,]*)")
CURRENCY_WORDS = {
    "FCFA": {"fr": "francs CFA", "es": "francos CFA", "en": "CFA francs"},
    "quetzales": {"fr": "quetzales", "es": "quetzales", "en": "quetzales"},
}
UNIT_WORDS = {
    "GB": {"fr": "gigaoctets", "es": "gigabytes", "en": "gigabytes"},
    "MB": {"fr": "mégaoctets", "es": "megabytes", "en": "megabytes"},
    "Go": {"fr": "gigaoctets", "es": "gigabytes", "en": "gigabytes"},
    "Mo": {"fr": "mégaoctets", "es": "megabytes", "en": "megabytes"},
    "min": {"fr": "minutes", "es": "minutos", "en": "minutes"},
    "s": {"fr": "secondes", "es": "segundos", "en": "seconds"},
    "SMS": {"fr": "SMS", "es": "SMS", "en": "text messages"},
}
MASKED_NUMBER = re.compile(r"(\+\d{1,3})\s(?:•+\s?)+(\d[\d ]*\d)")
UNIT = re.compile(r"(?<=\d)\s?(GB|MB|Go|Mo|min|s)\b")


def without_symbols(text: str) -> str:
    """Emoji and pictographs out (a voice would read their names or stumble); letters and punctuation kept."""
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category in ("So", "Sk", "Cs", "Co") or char in "\ufe0f\u200d":
            continue
        kept.append(char)
    return "".join(kept)


def for_the_ear(text: str, language: str) -> str:
    """One chat message as a sentence a voice can say."""
    text = URL.sub("", text or "")
    text = MASKED_NUMBER.sub(
        lambda m: render("voice_masked_number", language, country=m.group(1), last=m.group(2))["text"], text
    )
    text = without_symbols(BULLET.sub("", text))
    text = MARKUP.sub("", text).replace(" · ", ", ")
    separator = THOUSANDS.get(language)
    if separator:
        text = separator.sub("", text)
    text = QUETZALES.sub(lambda m: f"{m.group(1).rstrip('.,')} quetzales", text)
    text = re.sub(r"(\d)[.,]00\b", r"\1", text)  # 35.00 quetzales -> 35 quetzales
    text = re.sub(r"\bFCFA\b", CURRENCY_WORDS["FCFA"].get(language, "FCFA"), text)
    text = UNIT.sub(lambda m: " " + UNIT_WORDS[m.group(1)].get(language, m.group(1)), text)
    text = re.sub(r"\(\s*\)", "", text)
    lines = [line.strip(" :;,") for line in text.splitlines() if line.strip(" :;,")]
    sentences = [line if line[-1:] in ".!?" else line + "." for line in lines]
    return re.sub(r"\s{2,}", " ", " ".join(sentences)).strip()
