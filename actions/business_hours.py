"""When agents answer, per market, in the market's own time zone (config.BUSINESS_HOURS, MARKET_TIME_ZONES).

"BJ:Mon-Fri 08:00-18:00,Sat 09:00-13:00;GT:Mon-Fri 08:00-20:00,Sat 08:00-14:00": days are Mon..Sun, a
range (Mon-Fri) or one day; a market without hours of its own uses CARE_DEFAULT_MARKET's. Public holidays
are not known here. Tests move the clock by patching `now`.
"""

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import lru_cache
from typing import Dict, List, Optional, Tuple

import pytz
from babel import Locale
from babel.dates import format_time, get_day_names

from actions.formatting import BABEL_LOCALES
from common import config
from common.clock import now
from common.i18n import render

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SPEC = re.compile(r"^(\w{3})(?:-(\w{3}))?\s+(\d{1,2}:\d{2})-(\d{1,2}:\d{2})$")


@dataclass(frozen=True)
class Opening:
    days: Tuple[int, ...]  # 0 = Monday
    start: time
    end: time


def _clock(text: str) -> time:
    hours, minutes = (int(p) for p in text.split(":"))
    return time(hours, minutes)


@lru_cache(maxsize=8)
def _parse(text: str) -> Dict[str, List[Opening]]:
    found: Dict[str, List[Opening]] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        market, _, specs = part.partition(":")
        for spec in filter(None, (s.strip() for s in specs.split(","))):
            match = SPEC.match(spec)
            if not match:
                raise ValueError(f"BUSINESS_HOURS: cannot read {spec!r} (e.g. 'Mon-Fri 08:00-18:00')")
            first, last, start, end = match.groups()
            first_day, last_day = DAYS.index(first.lower()), DAYS.index((last or first).lower())
            found.setdefault(market.strip(), []).append(
                Opening(tuple(range(first_day, last_day + 1)), _clock(start), _clock(end))
            )
    return found


def schedule(market: str) -> List[Opening]:
    table = _parse(config.BUSINESS_HOURS)
    return table.get(market) or table.get(config.CARE_DEFAULT_MARKET, [])


def time_zone(market: str):
    return pytz.timezone(
        config.MARKET_TIME_ZONES.get(market) or config.MARKET_TIME_ZONES.get(config.CARE_DEFAULT_MARKET, "UTC")
    )


def is_open(market: str, moment: Optional[datetime] = None) -> bool:
    local = (moment or now()).astimezone(time_zone(market))
    return any(
        local.weekday() in o.days and o.start <= local.time().replace(tzinfo=None) < o.end for o in schedule(market)
    )


def next_opening(market: str, moment: Optional[datetime] = None) -> Optional[datetime]:
    """The next time agents start answering, in the market's time zone (None: no hours configured)."""
    zone = time_zone(market)
    local = (moment or now()).astimezone(zone)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        starts = sorted(o.start for o in schedule(market) if day.weekday() in o.days)
        for start in starts:
            candidate = zone.localize(datetime.combine(day, start))
            if candidate > local:
                return candidate
    return None


# --- in the customer's words ----------------------------------------------------------------------


def _locale(language: str) -> str:
    return BABEL_LOCALES.get(language, "en")


# Opening hours as the markets publish them: 24-hour in French and Spanish ("8:00 a 20:00"), 8:00 AM in English.
CLOCK_PATTERNS = {"fr": "HH:mm", "es": "H:mm"}


def clock(value: time, language: str) -> str:
    return format_time(value, CLOCK_PATTERNS.get(language, "short"), locale=_locale(language))


def day_name(weekday: int, language: str) -> str:
    return get_day_names("wide", locale=_locale(language))[weekday]


def hours_text(market: str, language: str) -> str:
    """'du lundi au vendredi, de 08:00 à 18:00 ; le samedi, de 09:00 à 13:00'"""
    parts = []
    for o in schedule(market):
        values = {"start": clock(o.start, language), "end": clock(o.end, language)}
        if len(o.days) > 1:
            parts.append(
                render(
                    "hours_days_range",
                    language,
                    first=day_name(o.days[0], language),
                    last=day_name(o.days[-1], language),
                    **values,
                )["text"]
            )
        else:
            parts.append(render("hours_one_day", language, day=day_name(o.days[0], language), **values)["text"])
    return (" ; " if language == "fr" else "; ").join(parts)


def opening_text(market: str, language: str, moment: Optional[datetime] = None) -> str:
    """'demain à 08:00', 'el lunes a las 8:00', 'today at 9:00 AM'."""
    moment = moment or now()
    opening = next_opening(market, moment)
    if opening is None:
        return "—"
    days = (opening.date() - moment.astimezone(opening.tzinfo).date()).days
    key = "opening_today" if days == 0 else "opening_tomorrow" if days == 1 else "opening_day"
    return render(key, language, day=day_name(opening.weekday(), language), time=clock(opening.time(), language))[
        "text"
    ]


def country_name(market: str, language: str) -> str:
    """'Bénin', 'Benín', 'Benin': whose clock the hours are in."""
    return Locale.parse(_locale(language)).territories.get(market, market)
