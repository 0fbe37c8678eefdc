"""`make kpi`: active users, conversation outcomes, deflection and NPS over a period.

Usage: python scripts/kpi.py [--from 2025-03-01] [--to 2025-03-31] [--by channel|language|market] [--json]
Default: the last 30 days, today included. Days are calendar days in KPI_TIME_ZONE (UTC by default).
Reads Rasa's tracker store (TRACKER_DB_URL: its `events` table) for users and conversations, and the
assistant's database (ASSISTANT_DB_URL) for outcomes and NPS answers. Definitions: README, "KPIs: definitions".
"""

import argparse
import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

import pytz
from sqlalchemy import create_engine, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actions.outcomes import ABANDONED, OUTCOMES, strongest  # noqa: E402
from common import clock, config  # noqa: E402
from common.state import campaigns, consent  # noqa: E402
from common.state.care_kpi import ConversationOutcome, NpsSurvey, session  # noqa: E402

IN_PROGRESS = "in_progress"
RESOLVED, ESCALATED = ("self_served", "help_centre"), ("ticket", "handoff")
MAU_DAYS = 30
# an outcome belongs to the session that started at its session_start (both Rasa's clock); a little slack
MATCH_SLACK_SECONDS = 1.0


@dataclass
class Conversation:
    """One conversation session of one sender (Rasa's SessionStarted to the next one) with user messages."""

    sender_id: str
    start: float
    first_message: Optional[float] = None
    last_event: float = 0.0
    channel: str = "unknown"
    language: Optional[str] = None
    outcomes: List[ConversationOutcome] = field(default_factory=list)
    followed: bool = False  # a later session of the same sender started: this one is over

    def outcome(self, now: float) -> str:
        best = strongest(o.outcome for o in self.outcomes)
        if best:
            return best
        idle = now - self.last_event >= config.CONVERSATION_IDLE_MINUTES * 60
        return ABANDONED if idle or self.followed else IN_PROGRESS

    def attribute(self, name: str) -> str:
        """channel, language or market: as recorded with the outcome, else as the tracker shows it."""
        recorded = [getattr(o, name) for o in self.outcomes if getattr(o, name) not in (None, "", "unknown")]
        if recorded:
            return recorded[-1]
        if name == "channel":
            return self.channel
        if name == "language":
            return self.language or "unknown"
        return config.LANGUAGE_REGIONS.get(self.language or "", "unknown")


def _data(row) -> Dict[str, Any]:
    try:
        return json.loads(row.data or "{}")
    except ValueError:
        return {}


def is_customer_message(row, data: Dict[str, Any]) -> bool:
    """A user event the customer sent: not one the system injected (trigger_intent, EXTERNAL_ intents)."""
    return (
        row.type_name == "user"
        and not (data.get("metadata") or {}).get("is_external")
        and not (row.intent_name or "").startswith("EXTERNAL_")
        and not (data.get("text") or "").startswith("EXTERNAL: ")
    )


def tracker_engine(url: str):
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).exists():
        raise SystemExit(f"no tracker store at {url}: no conversation yet, or set TRACKER_DB_URL")
    return create_engine(url, future=True)


def customer_messages(engine, start: float, end: float) -> List[tuple]:
    """(sender_id, timestamp) of every customer message in [start, end)."""
    with engine.connect() as c:
        rows = c.execute(
            text(
                "SELECT sender_id, type_name, timestamp, intent_name, data FROM events "
                "WHERE type_name = 'user' AND timestamp >= :a AND timestamp < :b"
            ),
            {"a": start, "b": end},
        )
        return [(r.sender_id, r.timestamp) for r in rows if is_customer_message(r, _data(r))]


def conversations(engine, senders: Iterable[str]) -> Dict[str, List[Conversation]]:
    """Every session of these senders, in order, from their events."""
    found: Dict[str, List[Conversation]] = defaultdict(list)
    with engine.connect() as c:
        for sender in sorted(set(senders)):
            rows = c.execute(
                text(
                    "SELECT sender_id, type_name, timestamp, intent_name, action_name, data "
                    "FROM events WHERE sender_id = :s ORDER BY id"
                ),
                {"s": sender},
            )
            for row in rows:
                if row.type_name == "action" and row.action_name == "action_session_start":
                    continue  # the next session's opening, logged just before its SessionStarted
                data, sessions = _data(row), found[sender]
                if row.type_name == "session_started" or not sessions:
                    sessions.append(Conversation(sender, start=row.timestamp or 0.0))
                current = sessions[-1]
                current.last_event = max(current.last_event, row.timestamp or 0.0)
                if row.type_name == "slot" and data.get("name") == "language" and data.get("value"):
                    current.language = data["value"]
                if is_customer_message(row, data) and current.first_message is None:
                    current.first_message = row.timestamp
                    current.channel = data.get("input_channel") or "unknown"
            for earlier in found[sender][:-1]:
                earlier.followed = True
    return found


def attach_outcomes(found: Dict[str, List[Conversation]]) -> None:
    """Each recorded outcome to the session of its sender that started at (or last before) its session_start."""
    with session() as s:
        for sender, sessions in found.items():
            for row in s.execute(
                select(ConversationOutcome)
                .where(ConversationOutcome.conversation_id == sender)
                .order_by(ConversationOutcome.id)
            ).scalars():
                moment = (
                    row.session_start
                    if row.session_start is not None
                    else row.recorded_at.replace(tzinfo=row.recorded_at.tzinfo or timezone.utc).timestamp()
                )
                candidates = [c for c in sessions if c.start <= moment + MATCH_SLACK_SECONDS]
                if candidates:
                    candidates[-1].outcomes.append(row)


def nps_answers(start: datetime, end: datetime) -> List[NpsSurvey]:
    with session() as s:
        rows = s.execute(select(NpsSurvey).where(NpsSurvey.score.is_not(None))).scalars().all()
    aware = [(r, r.answered_at.replace(tzinfo=r.answered_at.tzinfo or timezone.utc)) for r in rows if r.answered_at]
    return [r for r, at in aware if start <= at < end]


def rates(items: List[str]) -> Dict[str, Any]:
    counts = Counter(items)
    resolved, escalated = sum(counts[o] for o in RESOLVED), sum(counts[o] for o in ESCALATED)
    ended = resolved + escalated + counts[ABANDONED]
    return {
        "conversations": len(items),
        "outcomes": {o: counts[o] for o in OUTCOMES + (ABANDONED, IN_PROGRESS)},
        # resolved without a ticket or a person, among conversations whose outcome is known
        "deflection_rate": resolved / (resolved + escalated) if resolved + escalated else None,
        # not escalated, among every ended conversation (abandoned ones count as contained)
        "containment_rate": 1 - escalated / ended if ended else None,
    }


def nps(scores: List[int]) -> Dict[str, Any]:
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return {
        "responses": len(scores),
        "promoters": promoters,
        "passives": len(scores) - promoters - detractors,
        "detractors": detractors,
        "nps": 100 * (promoters - detractors) / len(scores) if scores else None,
    }


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


def percent(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def printable(report: Dict[str, Any]) -> str:
    users, p, score = report["active_users"], report["period"], report["nps"]
    lines = [
        f"KPIs from {p['from']} to {p['to']} ({p['time_zone']} days)",
        "",
        "Daily active users (senders with at least one message that day):",
    ]
    lines += [f"  {day}  {count}" for day, count in users["daily"].items()]
    lines += [
        f"  average {users['daily_average']:.2f}",
        f"Monthly active users ({users['monthly_window']['from']} to {users['monthly_window']['to']}): "
        f"{users['monthly']}",
    ]
    lines += [f"  calendar month {m} (days in the period): {n}" for m, n in users["by_calendar_month"].items()]
    lines += ["", f"Conversations started: {report['conversations']}"]
    lines += [f"  {name:<12} {count}" for name, count in report["outcomes"].items()]
    lines += [
        f"Deflection rate (self-served + help centre, over conversations with a known outcome): "
        f"{percent(report['deflection_rate'])}",
        f"Containment rate (no ticket or handoff, over ended conversations, abandoned included): "
        f"{percent(report['containment_rate'])}",
        "",
        f"NPS: {'n/a' if score['nps'] is None else format(score['nps'], '+.1f')} over {score['responses']} "
        f"responses ({score['promoters']} promoters, {score['passives']} passives, "
        f"{score['detractors']} detractors)",
    ]
    sent = report["campaigns"]["sent"]
    lines += ["", f"Campaigns that sent messages: {len(sent)}; lines that opted out: {report['campaigns']['opt_outs']}"]
    for c in sent:
        lines += [
            f"  {c['id']:<28} {c['kind']:<17} targeted {c['targeted']:>6}  sent {c['sent']:>6}  skipped {c['skipped']:>5}"
            f"  failed {c['failed']:>5}  unknown {c['unknown']:>3}",
            f"  {'':<28} {'':<17} delivered {c['delivered']:>5}  read {c['read']:>6}  replied {c['replied']:>5}"
            f"  opted out {c['opted_out']:>3}  undelivered {c['undelivered']:>5}",
        ]
        why = {**c["reasons"], **c["undelivered_reasons"]}
        lines += [f"  {'':<28} {count:>6} × {reason or '(no reason)'}" for reason, count in sorted(why.items())]
    if "by" in report:
        lines += [
            "",
            f"By {report['by']['dimension']}:",
            f"  {'':<10} {'conv.':>6} {'self':>5} {'help':>5} {'ticket':>6} {'handoff':>7} {'aband.':>6} "
            f"{'deflection':>10} {'NPS':>7} {'resp.':>5}",
        ]
        for key, g in report["by"]["groups"].items():
            o, n = g["outcomes"], g["nps"]
            lines.append(
                f"  {key:<10} {g['conversations']:>6} {o['self_served']:>5} {o['help_centre']:>5} "
                f"{o['ticket']:>6} {o['handoff']:>7} {o['abandoned']:>6} {percent(g['deflection_rate']):>10} "
                f"{'n/a' if n['nps'] is None else format(n['nps'], '+.1f'):>7} {n['responses']:>5}"
            )
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="first", type=date.fromisoformat, help="first day, YYYY-MM-DD")
    parser.add_argument("--to", dest="last", type=date.fromisoformat, help="last day (included), YYYY-MM-DD")
    parser.add_argument("--by", choices=("channel", "language", "market"), help="split by this")
    parser.add_argument("--tz", default=None, help="time zone of the days (default KPI_TIME_ZONE)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    last = args.last or clock.now().astimezone(pytz.timezone(args.tz or config.KPI_TIME_ZONE)).date()
    first = args.first or last - timedelta(days=MAU_DAYS - 1)
    if first > last:
        parser.error("--from is after --to")
    report = compute(first, last, time_zone=args.tz, by=args.by)
    print(json.dumps(report, indent=2) if args.json else printable(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
