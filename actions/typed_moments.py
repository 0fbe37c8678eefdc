"""A day and time as customers type them, in fr, es and en ("demain à 10h", "el lunes a las 3", "tomorrow
morning", "vendredi vers 15h"): a moment, or a window, in a given time zone. Dates by `dateparser`; times of
day and parts of the day by the patterns below."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Optional, Tuple

import pytz
from dateparser.date import DateDataParser

from actions.dialogue.choices import normalised

# An exact time ("à 10h") stands for the half hour from it: a store's visit slot.
EXACT_TIME_WINDOW = timedelta(minutes=30)


# --- "demain à 10h", "el lunes a las 3", "tomorrow morning": a moment or a window in the store's zone ------
@dataclass(frozen=True)
class When:
    start: datetime  # aware, in the store's time zone
    end: datetime
    exact: bool  # a time of day was named: a free slot starting then is booked at once


AT = r"\b(?:a las|a la|las|vers|around|at|a)\s+"
CLOCK = re.compile(
    rf"(?:{AT})?\b(?P<hour>\d{{1,2}})(?:\s*(?:h|:|heures?|hrs?)\s*(?P<minute>\d{{2}})?\b"
    rf"|\s*(?P<half>[ap])\.?\s?m\b\.?)|{AT}(?P<bare>\d{{1,2}})\b"
)
AFTERNOON = re.compile(r"^\s*(?:de la (?:tarde|noche)|du soir|de l'apres[- ]?midi|in the (?:afternoon|evening)|pm)\b")
MORNING = re.compile(r"^\s*(?:de la manana|du matin|in the morning|am)\b")
NOON = re.compile(r"(?<!apres-)(?<!apres )\b(?:a |at )?(?:midi|mediodia|noon|midday)\b")
PARTS = (
    (re.compile(r"\b(?:(?:en|por|de) la manana|esta manana|temprano|matin(?:ee)?|morning)\b"), 8, 12),
    (re.compile(r"\b(?:(?:(?:en|por|de) la |esta )?tarde|apres[- ]?midi|aprem|afternoon)\b"), 12, 17),
    (re.compile(r"\b(?:(?:(?:en|por|de) la |esta )?noche|soir(?:ee)?|evening|tonight)\b"), 17, 21),
)
RELATIVE = (
    (re.compile(r"\b(?:apres[- ]?demain|pasado manana|(?:the )?day after tomorrow)\b"), 2),
    (re.compile(r"\b(?:demain|manana|tomorrow)\b"), 1),
    (re.compile(r"\b(?:aujourd'?hui|hoy|today)\b"), 0),
)
NEXT = re.compile(r"\b(?:next|prochaine?|proxim[oa]|que viene)\b")
FILLER = re.compile(
    r"\b(?:l'|le|la|les|el|los|las|the|on|this|ce|cet|cette|este|esta|next|prochaine?|proxim[oa]|que viene"
    r"|pour|para|for|a|au|at|de|del|du|en|in|por|vers|around|svp|stp|please|favor|rdv|rendez[- ]vous"
    r"|cita|appointment|un|une|una|an|dia|jour|day|ok|oui|si|yes|como|plutot|mejor)\b|[^\w\s/]"
)


def calendar_day(rest: str, language: str, zone: str, local_now: datetime):
    """dateparser's reading of the words left ("lundi", "15 mai", "the 15th"): the whole, else one word; in the
    conversation's language first, then in the other two."""
    settings = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": local_now.replace(tzinfo=None),
        "TIMEZONE": zone,
        "TO_TIMEZONE": zone,
        "RETURN_AS_TIMEZONE_AWARE": True,
        "RETURN_TIME_AS_PERIOD": True,
    }
    for languages in ([language], [other for other in ("fr", "es", "en") if other != language]):
        parser = DateDataParser(languages=languages, settings=settings)
        for words in [rest] + (rest.split() if " " in rest else []):
            parsed = parser.get_date_data(words)
            if parsed.date_obj is not None:
                return parsed
    return None


def parse_when(text: str, language: str, zone: str, moment: datetime) -> Optional[When]:
    """What a customer means by a day and time, in the store's zone `zone`, seen at `moment`; None if unreadable."""
    tz = pytz.timezone(zone)
    local_now = moment.astimezone(tz)
    rest = normalised(text).replace("’", "'")
    clock, hours, day = None, None, None
    found = CLOCK.search(rest)
    if found:
        hour, minute, half = int(found["hour"] or found["bare"]), int(found["minute"] or 0), found["half"]
        after = rest[found.end() :]
        if half == "p" or AFTERNOON.match(after) or (hour < 7 and half != "a" and not MORNING.match(after)):
            hour += 12 if hour < 12 else 0
        after = AFTERNOON.sub("", MORNING.sub("", after, count=1), count=1)
        rest = rest[: found.start()] + " " + after
        clock = time(hour % 24, minute % 60) if hour < 24 and minute < 60 else None
    elif NOON.search(rest):
        clock, rest = time(12), NOON.sub(" ", rest)
    for pattern, opens, closes in PARTS:
        if pattern.search(rest):
            hours, rest = (opens, closes), pattern.sub(" ", rest)
            break
    for pattern, offset in RELATIVE:
        if pattern.search(rest):
            day, rest = local_now.date() + timedelta(days=offset), pattern.sub(" ", rest)
            break
    rest = " ".join(FILLER.sub(" ", rest).split())
    if day is None and rest:
        parsed = calendar_day(rest, language, zone, local_now)
        if parsed is not None:
            day = parsed.date_obj.date()
            if parsed.period == "time" and clock is None:
                clock = parsed.date_obj.time().replace(second=0, microsecond=0)
        elif clock is None and hours is None:
            return None
    if clock is None and hours is None and day is None:
        return None
    explicit, today = day is not None, local_now.date()

    def window(on: date) -> Tuple[datetime, datetime]:
        if clock is not None:
            opens = tz.localize(datetime.combine(on, clock))
            return opens, opens + EXACT_TIME_WINDOW
        first, last = hours or (0, 24)
        return (
            tz.localize(datetime.combine(on, time(first))),
            tz.localize(datetime.combine(on + timedelta(days=last // 24), time(last % 24))),
        )

    def to_come(span: Tuple[datetime, datetime]) -> bool:  # a time must start later, a day or part end later
        return (span[0] if clock is not None else span[1]) > local_now

    start, end = window(day or today)
    if not explicit and not to_come((start, end)):  # "à 10h" said at 11:00: tomorrow
        start, end = window(today + timedelta(days=1))
    elif explicit and (day - today).days == 7 and not NEXT.search(normalised(text)) and to_come(window(today)):
        start, end = window(today)  # "mercredi" said on a Wednesday morning: today, not in a week
    return When(start, end, clock is not None)
