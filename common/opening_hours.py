"""When agents answer, per market, in the market's own time zone (config.BUSINESS_HOURS, MARKET_TIME_ZONES): read by
the action server (actions/business_hours.py says it in words) and by the voice channel, which closes out of hours.

"BJ:Mon-Fri 08:00-18:00,Sat 09:00-13:00;GT:Mon-Fri 08:00-20:00,Sat 08:00-14:00": days are Mon..Sun, a
range (Mon-Fri) or one day; a market without hours of its own uses CARE_DEFAULT_MARKET's. Public holidays
are not known here.
"""

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import lru_cache
from typing import Dict, List, Optional, Tuple

import pytz

from common import config
from common.clock import now

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
