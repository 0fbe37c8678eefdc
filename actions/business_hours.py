"""When agents answer, in the customer's words (the hours themselves: common/opening_hours.py).
Tests move the clock by freezing common/clock.py.
"""

from datetime import datetime, time
from typing import Optional

from babel import Locale
from babel.dates import format_time, get_day_names

from actions.formatting import BABEL_LOCALES
from common.clock import now
from common.i18n import render
from common.opening_hours import is_open, next_opening, schedule, time_zone  # noqa: F401  (the journeys' names)

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
