"""Text helpers that the channels, the NLU components and the actions share: one of each."""

import re
import unicodedata
from typing import List


def without_accents(text: str) -> str:
    """ "Crédito" -> "Credito": customers often type without accents, and catalogues are not consistent."""
    return "".join(c for c in unicodedata.normalize("NFKD", text or "") if not unicodedata.combining(c))


def fold(text: str) -> str:
    """Lower case and without accents: how two spellings of the same words are compared."""
    return without_accents((text or "").lower())


def split_text(text: str, limit: int) -> List[str]:
    """Pieces of at most `limit` characters, cut at a paragraph, a line or a space when there is one
    (a platform's message length limit)."""
    text, pieces = (text or "").strip(), []
    while len(text) > limit:
        cut = max(text.rfind(separator, 0, limit + 1) for separator in ("\n\n", "\n", " "))
        cut = cut if cut > limit // 2 else limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return pieces + ([text] if text else [])


def squash_repeats(text: str) -> str:
    """ "nooon" -> "non", "merciiii" -> "merci": a letter typed three times or more in a row is one letter
    (no French, Spanish or English word has a letter three times in a row; digits are left alone)."""
    return re.sub(r"([^\W\d_])\1{2,}", r"\1", text or "")
