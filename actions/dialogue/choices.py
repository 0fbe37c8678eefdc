"""Which offered option a typed answer names: its position ("the second one", "n° 2", "2") or its title,
whatever the accents, case and spacing."""

import re
import unicodedata
from typing import Optional, Sequence


def normalised(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text or "")
    return re.sub(r"\s+", " ", "".join(c for c in decomposed if not unicodedata.combining(c)).lower()).strip()


# "le deuxième", "la segunda opción", "the second one", "number 3", "n° 2", "2": a position in a list.
ORDINALS = {
    1: ("premier", "premiere", "1er", "1ere", "primero", "primera", "primer", "first", "1st"),
    2: ("deuxieme", "second", "seconde", "2e", "2eme", "segundo", "segunda", "2nd"),
    3: ("troisieme", "3e", "3eme", "tercero", "tercera", "tercer", "third", "3rd"),
    4: ("quatrieme", "4e", "cuarto", "cuarta", "fourth", "4th"),
    5: ("cinquieme", "5e", "quinto", "quinta", "fifth", "5th"),
}
LAST = ("dernier", "derniere", "ultimo", "ultima", "last")


def ordinal(typed: str) -> Optional[int]:
    """The position a typed answer names, or None; -1 for "the last one" is not supported (None)."""
    number = re.fullmatch(r"(?:(?:n(?:o|°|um(?:ero|ber)?)\.?|number|numero|option|opcion|choix)\s*)?(\d{1,2})", typed)
    if number:
        return int(number.group(1))
    words = set(re.findall(r"[a-z0-9]+", typed))
    if len(words) > 5:
        return None
    found = [n for n, names in ORDINALS.items() if words & set(names)]
    return found[0] if len(found) == 1 else None


def match_option(options: Sequence[Sequence[str]], text: str) -> Optional[str]:
    """The value of the offered option a typed answer names: its number in the list, or its title."""
    typed = normalised(text)
    if not typed or not options:
        return None
    position = ordinal(typed)
    if position is not None and 1 <= position <= len(options):
        return options[position - 1][0]
    exact = [value for value, *names in options if any(normalised(n) == typed for n in names)]
    if len(exact) == 1:
        return exact[0]
    inside = [
        value
        for value, *names in options
        if any(len(typed) >= 3 and (typed in normalised(n) or normalised(n) in typed) for n in names)
    ]
    return inside[0] if len(set(inside)) == 1 else None
