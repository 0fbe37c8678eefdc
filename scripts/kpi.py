"""`make kpi`: active users, conversation outcomes, deflection and NPS over a period.

Usage: python scripts/kpi.py [--from 2025-03-01] [--to 2025-03-31] [--by channel|language|market] [--json]
Default: the last 30 days, today included. Days are calendar days in KPI_TIME_ZONE (UTC by default).
Reads Rasa's tracker store (TRACKER_DB_URL: its `events` table) for users and conversations, and the
assistant's database (ASSISTANT_DB_URL) for outcomes and NPS answers. Definitions: README, "KPIs: definitions".
The figures are computed in metrics/, the same functions the operator console's dashboard uses.
"""

import argparse
import json
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytz

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import clock, config  # noqa: E402
from metrics.conversations import MAU_DAYS  # noqa: E402
from metrics.period import compute  # noqa: E402

__all__ = ["compute", "printable", "main"]


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
