"""`python -m campaigns`: what an administrator does with a campaign, and the sender itself.

create --name N --kind K --fr TEXT --es TEXT --en TEXT [--starts-at ISO] [--rate PER_MINUTE]
upload ID FILE.csv|FILE.xlsx [--region BJ]    numbers normalised; bad rows and duplicates reported
audience ID --query bills-due --days 3        or: overdue | offer --offering ID [--top 3] | outage-area --city C
preview ID                                    the message in each language
start ID | pause ID
report ID                                     targeted, sent (per channel), skipped, failed, with reasons;
                                              delivered, read, replied, opted out, undelivered with reasons
send [--watch]                                sends what is due (--watch: until stopped)
"""

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

from campaigns import queries
from campaigns.audience import read_file
from campaigns.sender import Sender
from common import clock, config
from common.state import campaigns


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m campaigns", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create")
    create.add_argument("--name", required=True)
    create.add_argument("--kind", required=True, choices=campaigns.KINDS)
    for language in ("fr", "es", "en"):
        create.add_argument(f"--{language}", required=True, help=f"the message in {language} ({{name}}: the name)")
    create.add_argument("--starts-at", type=datetime.fromisoformat, help="ISO time with its offset (default: now)")
    create.add_argument("--rate", type=int, default=config.CAMPAIGN_DEFAULT_RATE, help="messages a minute")
    upload = commands.add_parser("upload")
    upload.add_argument("campaign")
    upload.add_argument("file", type=Path)
    upload.add_argument("--region", action="append", help="where national numbers belong (default PHONE_REGIONS)")
    audience = commands.add_parser("audience", help="add the lines a query of the operator's systems finds")
    audience.add_argument("campaign")
    audience.add_argument("--query", required=True, choices=queries.QUERIES)
    audience.add_argument("--days", type=int, default=0, help="bills-due: due within this many days")
    audience.add_argument("--offering", help="offer: the catalogue's offering id")
    audience.add_argument("--top", type=int, default=3, help="offer: among the line's best N offers")
    audience.add_argument("--city", help="outage-area: the area")
    for name in ("preview", "start", "pause", "report"):
        commands.add_parser(name).add_argument("campaign")
    send = commands.add_parser("send")
    send.add_argument("--watch", action="store_true")
    args = parser.parse_args(argv)

    if args.command == "create":
        starts = args.starts_at or clock.now()
        if starts.tzinfo is None:
            parser.error("--starts-at needs its UTC offset (2026-12-07T09:00+01:00)")
        made = campaigns.create(args.name, args.kind, {"fr": args.fr, "es": args.es, "en": args.en}, starts, args.rate)
        print(made.id)
        return 0
    if args.command == "send":
        sender = Sender()
        if args.watch:
            sender.watch()
        else:
            print(f"{sender.run_once()} messages handled")
        return 0
    campaign = campaigns.get(args.campaign)
    if campaign is None:
        print(f"no campaign {args.campaign}", file=sys.stderr)
        return 2
    if args.command == "upload":
        if campaign.status == campaigns.DONE:
            parser.error("this campaign is done: create another")
        audience = read_file(args.file, args.region)
        added = campaigns.add_recipients(campaign.id, audience.rows)
        print(f"{added} numbers added, {audience.duplicates + len(audience.rows) - added} duplicates")
        for bad in audience.rejected:
            print(f"  line {bad['line']}: {bad['value']!r}: {bad['reason']}")
        print(f"{len(audience.rejected)} rows rejected")
    elif args.command == "audience":
        if campaign.status == campaigns.DONE:
            parser.error("this campaign is done: create another")
        try:
            found = queries.run(args.query, days=args.days, offering=args.offering, top=args.top, city=args.city)
        except ValueError as error:
            parser.error(str(error))
        added = campaigns.add_recipients(campaign.id, found.rows)
        print(f"{added} numbers added, {len(found.rows) - added} already in the campaign")
        for left in found.left_out:
            print(f"  {left['what']}: {left['reason']}")
        print(f"{len(found.left_out)} left out")
    elif args.command == "preview":
        for language, text in campaign.messages.items():
            print(f"[{language}] {text}")
    elif args.command in ("start", "pause"):
        campaigns.set_status(campaign.id, campaigns.RUNNING if args.command == "start" else campaigns.PAUSED)
        print(f"{campaign.id}: {'running' if args.command == 'start' else 'paused'}")
    elif args.command == "report":
        print(json.dumps(campaigns.report(campaign.id), indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
