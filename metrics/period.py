"""Every figure of `make kpi` for one period, computed from the raw events (README "KPIs: definitions")."""

from collections import defaultdict
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Dict, List, Optional

import pytz

from common import clock, config
from common.state import campaigns, consent
from metrics.conversations import (
    MAU_DAYS,
    attach_outcomes,
    conversations,
    customer_messages,
    nps,
    nps_answers,
    rates,
    tracker_engine,
)


def compute(
    first: date,
    last: date,
    tracker_url: str = None,
    time_zone: str = None,
    by: Optional[str] = None,
    now: Optional[datetime] = None,
) -> Dict[str, Any]:
    """Every figure for the days first..last (inclusive), as a dict (what --json prints)."""
    zone = pytz.timezone(time_zone or config.KPI_TIME_ZONE)
    moment = (now or clock.now()).timestamp()

    def day_start(day: date) -> float:
        return zone.localize(datetime.combine(day, time())).timestamp()

    def day_of(timestamp: float) -> date:
        return datetime.fromtimestamp(timestamp, zone).date()

    start, end = day_start(first), day_start(last + timedelta(days=1))
    mau_first = last - timedelta(days=MAU_DAYS - 1)
    engine = tracker_engine(tracker_url or config.TRACKER_DB_URL)
    messages = customer_messages(engine, min(start, day_start(mau_first)), end)
    in_period = [(sender, ts) for sender, ts in messages if start <= ts < end]

    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    daily = {d.isoformat(): set() for d in days}
    months: Dict[str, set] = defaultdict(set)
    for sender, ts in in_period:
        daily[day_of(ts).isoformat()].add(sender)
        months[day_of(ts).strftime("%Y-%m")].add(sender)
    trailing = {sender for sender, ts in messages if day_start(mau_first) <= ts < end}

    found = conversations(engine, {sender for sender, _ in in_period})
    attach_outcomes(found)
    period = [
        c
        for sessions in found.values()
        for c in sessions
        if c.first_message is not None and start <= c.first_message < end
    ]
    window = (datetime.fromtimestamp(start, timezone.utc), datetime.fromtimestamp(end, timezone.utc))
    answers = nps_answers(*window)

    report = {
        "period": {"from": first.isoformat(), "to": last.isoformat(), "time_zone": zone.zone},
        "active_users": {
            "daily": {d: len(users) for d, users in daily.items()},
            "daily_average": sum(len(u) for u in daily.values()) / len(days),
            "monthly": len(trailing),
            "monthly_window": {"from": mau_first.isoformat(), "to": last.isoformat()},
            "by_calendar_month": {m: len(users) for m, users in sorted(months.items())},
        },
        **rates([c.outcome(moment) for c in period]),
        "nps": nps([a.score for a in answers]),
        "campaigns": {
            "sent": campaigns.figures(*window),
            "opt_outs": consent.opt_outs_between(*window),
        },
    }
    if by:
        groups: Dict[str, List[str]] = defaultdict(list)
        for c in period:
            groups[c.attribute(by)].append(c.outcome(moment))
        scores: Dict[str, List[int]] = defaultdict(list)
        for a in answers:
            scores[getattr(a, by) or "unknown"].append(a.score)
        report["by"] = {
            "dimension": by,
            "groups": {
                key: {**rates(groups.get(key, [])), "nps": nps(scores.get(key, []))}
                for key in sorted(set(groups) | set(scores))
            },
        }
    return report
