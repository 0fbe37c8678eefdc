"""The daily aggregate (common/state/kpi_daily.py), rolled up from Rasa's tracker store with the functions of
`make kpi` (metrics/conversations.py), so the dashboard adds up a few rows a day instead of reading every event.

A day is rolled up again while its conversations may still change (until the end of the next day: a conversation
started at 23:50 can end after midnight); after that it is final and never read from the events again. The console
rolls up days it has never seen when the dashboard asks for them, and refreshes the unfinished ones every
KPI_REFRESH_MINUTES (`python -m metrics.daily` does the same by hand or from cron).
"""

import argparse
import logging
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from typing import Dict, List, Optional, Tuple

import pytz

from common import clock, config
from common.state import kpi_daily
from metrics.conversations import (
    FALLBACK_INTENT,
    MAU_DAYS,
    Conversation,
    attach_outcomes,
    conversations,
    customer_messages,
    journeys,
    nps_answers,
    tracker_engine,
)

logger = logging.getLogger(__name__)
Group = Tuple[str, str, str]  # channel, language, market


def zone():
    return pytz.timezone(config.KPI_TIME_ZONE)


def day_bounds(day: date) -> Tuple[datetime, datetime]:
    start = zone().localize(datetime.combine(day, time()))
    return start, zone().localize(datetime.combine(day + timedelta(days=1), time()))


def today() -> date:
    return clock.now().astimezone(zone()).date()


def group_of(conversation: Conversation) -> Group:
    return tuple(conversation.attribute(name) for name in kpi_daily.GROUP)


def roll_up(day: date, engine, now: Optional[datetime] = None) -> None:
    """Computes one day from the events and replaces it in the aggregate."""
    now = now or clock.now()
    start, end = (moment.timestamp() for moment in day_bounds(day))
    messages = customer_messages(engine, start, end)
    found = conversations(engine, {sender for sender, _ in messages})
    attach_outcomes(found)
    figures: Dict[Group, Counter] = defaultdict(Counter)
    counts: Dict[Tuple[Group, str, str], int] = Counter()

    # active users: each sender in the group of the conversation of their last message that day
    users = {}
    for sender, sessions in found.items():
        today_sessions = [c for c in sessions if any(start <= m < end for m in c.messages)]
        if today_sessions:
            users[sender] = group_of(today_sessions[-1])
            figures[users[sender]]["active_users"] += 1
    for group, count in monthly_active_users(day, users).items():
        figures[group]["monthly_active_users"] += count

    names = journeys()
    for sessions in found.values():
        for c in sessions:
            if c.first_message is None or not start <= c.first_message < end:
                continue
            group, outcome = group_of(c), c.outcome(now.timestamp())
            figures[group]["conversations"] += 1
            figures[group][outcome] += 1
            figures[group]["customer_messages"] += len(c.messages)
            figures[group]["fallbacks"] += c.intents.count(FALLBACK_INTENT)
            for intent in c.intents:
                counts[group, "intent", intent] += 1
            for journey in c.journeys_started(names):
                counts[group, "journey_started", journey] += 1
            for journey in c.journeys_completed(names):
                counts[group, "journey_completed", journey] += 1
            if c.reason():
                counts[group, f"{outcome}_reason", c.reason()] += 1

    for answer in nps_answers(*day_bounds(day)):
        group = tuple(getattr(answer, name) or "unknown" for name in kpi_daily.GROUP)
        kind = "promoters" if answer.score >= 9 else "detractors" if answer.score <= 6 else "passives"
        figures[group][kind] += 1

    kpi_daily.replace_day(
        day,
        figures=[
            {**dict(zip(kpi_daily.GROUP, g)), **{name: values[name] for name in kpi_daily.FIGURES}}
            for g, values in figures.items()
        ],
        counts=[
            {**dict(zip(kpi_daily.GROUP, g)), "kind": kind, "name": name[:64], "count": n}
            for (g, kind, name), n in counts.items()
        ],
        users=[{"sender_id": s, **dict(zip(kpi_daily.GROUP, g))} for s, g in users.items()],
        rolled_at=now,
        final=now >= day_bounds(day + timedelta(days=1))[1],
    )


def monthly_active_users(day: date, today_users: Dict[str, Group]) -> Counter:
    """Senders who wrote in the 30 days ending on `day`, each in the group of their last day (so groups add up)."""
    latest: Dict[str, Tuple[date, Group]] = {}
    for row in kpi_daily.active_users(day - timedelta(days=MAU_DAYS - 1), day - timedelta(days=1)):
        if row.sender_id not in latest or latest[row.sender_id][0] < row.day:
            latest[row.sender_id] = (row.day, (row.channel, row.language, row.market))
    for sender, group in today_users.items():
        latest[sender] = (day, group)
    return Counter(group for _, group in latest.values())


def refresh(first: date, last: date, tracker_url: Optional[str] = None, stale_minutes: Optional[float] = None) -> int:
    """Rolls up, in order, the days of [first, last] (up to today) never rolled up, the unfinished ones rolled up
    more than `stale_minutes` ago (default KPI_REFRESH_MINUTES), and the 29 days after a day never rolled up (their
    monthly active users count it). Answers how many days were rolled up."""
    now = clock.now()
    last = min(last, today())
    stale = timedelta(minutes=config.KPI_REFRESH_MINUTES if stale_minutes is None else stale_minutes)
    rolled = kpi_daily.rolled_days(first, last)
    every = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    missing = [d for d in every if d not in rolled]
    days: List[date] = [
        d
        for d in every
        if d not in rolled
        or (not rolled[d].final and now - clock.aware(rolled[d].rolled_at) >= stale)
        # its monthly active users count the 29 days before it: one of them is new
        or any(timedelta(0) < d - m < timedelta(days=MAU_DAYS) for m in missing)
    ]
    if not days:
        return 0
    try:
        engine = tracker_engine(tracker_url or config.TRACKER_DB_URL)
    except SystemExit as missing:  # no conversation yet
        logger.info("%s", missing)
        return 0
    for day in days:
        roll_up(day, engine, now)
    return len(days)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m metrics.daily", description="roll up the dashboard's days")
    parser.add_argument("--from", dest="first", type=date.fromisoformat, help="first day (default: 30 days ago)")
    parser.add_argument("--to", dest="last", type=date.fromisoformat, help="last day (default: today)")
    args = parser.parse_args(argv)
    last = args.last or today()
    print(f"{refresh(args.first or last - timedelta(days=MAU_DAYS - 1), last, stale_minutes=0)} days rolled up")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
