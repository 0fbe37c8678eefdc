"""Money, dates and times as the customer's market and language write them (Babel)."""

from datetime import datetime
from typing import Optional

import pytz
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal

BABEL_LOCALES = {"fr": "fr_BJ", "es": "es_GT", "en": "en"}
DATE_PATTERNS = {"fr": "EEEE d MMMM", "es": "EEEE d 'de' MMMM", "en": "EEEE, MMMM d"}
SHORT_DATE_PATTERNS = {"fr": "d MMM", "es": "d MMM", "en": "MMM d"}


def money(amount: float, currency: str, language: str) -> str:
    """2 500 FCFA, 2,500 FCFA; Q35.50 (Guatemala writes quetzales that way in any language)."""
    locale = BABEL_LOCALES.get(language, "en")
    if currency == "XOF":  # no minor unit; FCFA is what customers read on their receipts
        return f"{format_decimal(round(amount), locale=locale)} FCFA"
    if currency == "GTQ":
        return format_currency(amount, "GTQ", locale="es_GT")
    return format_currency(amount, currency, locale=locale)


# French writes octets: "1,5 Go", "300 Mo", as the operator's own pack names do ("Pass Internet 2 Go").
UNIT_NAMES = {"fr": {"GB": "Go", "MB": "Mo"}}


def quantity(amount: float, units: str, language: str) -> str:
    """Data above 1 GB in GB (1 GB = 1024 MB, as the operator counts), else as given; units as the language writes
    them."""
    locale = BABEL_LOCALES.get(language, "en")
    if units == "MB" and amount >= 1024:
        amount, units = amount / 1024, "GB"
    return f"{format_decimal(round(amount, 2), locale=locale)} {UNIT_NAMES.get(language, {}).get(units, units)}"


def date(moment: datetime, time_zone: str, language: str) -> str:
    """'jeudi 26 novembre', 'jueves, 26 de noviembre', 'Thursday, November 26' in the market's time zone."""
    local = moment.astimezone(pytz.timezone(time_zone or "UTC"))
    return format_date(
        local.date(), DATE_PATTERNS.get(language, "EEEE, MMMM d"), locale=BABEL_LOCALES.get(language, "en")
    )


def short_date(moment: datetime, time_zone: str, language: str) -> str:
    """'19 oct.', '19 oct.', 'Oct 19': for periods, where weekdays would only add length."""
    local = moment.astimezone(pytz.timezone(time_zone or "UTC"))
    return format_date(
        local.date(), SHORT_DATE_PATTERNS.get(language, "MMM d"), locale=BABEL_LOCALES.get(language, "en")
    )


def date_time(moment: datetime, time_zone: str, language: str) -> str:
    return format_datetime(
        moment, "medium", tzinfo=pytz.timezone(time_zone or "UTC"), locale=BABEL_LOCALES.get(language, "en")
    )


def days_left(moment: Optional[datetime], now: datetime) -> Optional[int]:
    return None if moment is None else max(0, (moment - now).days)
