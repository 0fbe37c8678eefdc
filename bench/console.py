"""`make bench-console`: the console's dashboard over one year of 10 000 conversations a day, timed.

    .venv/bin/python bench/console.py [--per-day 10000] [--days 365] [--keep DIR]

What it generates, honestly: the year before today straight into the daily aggregate the dashboard reads
(common/state/kpi_daily.py: per-day figures and named counts per channel/language/market, and one active-user row
per sender and day), not as raw tracker events, which would take hours to write and then to roll up. Today, though,
is written as raw events (Rasa's `events` table schema, 10 000 conversations) and rolled up with metrics/daily.py,
the way the running console keeps the aggregate up to date, so that step is timed too. Then `python -m console
serve` runs on a free port and the whole year's dashboard is fetched (signed in) several times, with and without a
filter. Numbers go to stdout; nothing is kept unless --keep.
"""

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import clock, config  # noqa: E402
from common.state import db  # noqa: E402

CHANNELS = {"whatsapp": 0.45, "messenger": 0.2, "socketio": 0.2, "rest": 0.05, "zendesk": 0.1}
LANGUAGES = {"fr": 0.55, "es": 0.35, "en": 0.1}
MARKETS = {"fr": "BJ", "es": "GT", "en": "unknown"}
OUTCOMES = {"self_served": 0.5, "help_centre": 0.12, "ticket": 0.08, "handoff": 0.1, "abandoned": 0.2}
INTENTS = [
    "greet",
    "thank",
    "affirm",
    "deny",
    "inform",
    "nlu_fallback",
    "check_balance",
    "top_up",
    "buy_pack",
    "pay_invoice",
    "report_outage",
    "ask_faq",
    "create_ticket",
    "human_handoff",
    "check_quota",
    "show_offers",
]
REASONS = ["billing", "network", "no_service", "sim_swap", "refund", "other", "callback"]
PASSWORD = "bench password 123"


def split(total: int, weights: dict, rng: random.Random) -> Counter:
    return Counter(rng.choices(list(weights), weights=list(weights.values()), k=total))


def generate_year(per_day: int, days: int, today, rng: random.Random) -> None:
    """The aggregate of `days` days before today, as metrics/daily.py would have written it."""
    from common.state.kpi_daily import FIGURES, KpiActiveUser, KpiDay, KpiDayCount, KpiRolledDay
    from metrics.conversations import journeys

    names = journeys()
    population = [f"sender-{n}" for n in range(per_day * 15)]
    home = {
        s: (
            rng.choices(list(CHANNELS), list(CHANNELS.values()))[0],
            rng.choices(list(LANGUAGES), list(LANGUAGES.values()))[0],
        )
        for s in population
    }
    last_seen = {}  # sender -> (day index, group): the 30-day monthly active users, rolled day by day
    by_last = defaultdict(Counter)  # day index -> group -> senders whose last day it is
    engine = db.engine()
    for index in range(days):
        day = today - timedelta(days=days - index)
        figures = defaultdict(Counter)
        counts = Counter()
        active = rng.sample(population, int(per_day * 0.85))  # some write twice a day
        users = []
        for sender in active:
            channel, language = home[sender]
            group = (channel, language, MARKETS[language])
            users.append(
                {"day": day, "sender_id": sender, "channel": channel, "language": language, "market": group[2]}
            )
            figures[group]["active_users"] += 1
            if sender in last_seen:
                by_last[last_seen[sender][0]][last_seen[sender][1]] -= 1
            last_seen[sender] = (index, group)
            by_last[index][group] += 1
        for back in range(max(0, index - 29), index + 1):
            for group, n in by_last[back].items():
                figures[group]["monthly_active_users"] += n
        for _ in range(per_day):
            channel, language = home[rng.choice(active)]
            group = (channel, language, MARKETS[language])
            outcome = rng.choices(list(OUTCOMES), list(OUTCOMES.values()))[0]
            figures[group]["conversations"] += 1
            figures[group][outcome] += 1
            intents = rng.choices(INTENTS, k=rng.randint(1, 5))
            figures[group]["customer_messages"] += len(intents)
            figures[group]["fallbacks"] += intents.count("nlu_fallback")
            for intent in intents:
                counts[group, "intent", intent] += 1
            for journey in set(intents) & set(names):
                counts[group, "journey_started", journey] += 1
                if outcome != "abandoned" and rng.random() < 0.8:
                    counts[group, "journey_completed", journey] += 1
            if outcome in ("ticket", "handoff"):
                counts[group, f"{outcome}_reason", rng.choice(REASONS)] += 1
            if rng.random() < 0.05:
                score = rng.randint(0, 10)
                figures[group]["promoters" if score >= 9 else "detractors" if score <= 6 else "passives"] += 1
        group_keys = ("channel", "language", "market")
        with engine.begin() as c:
            c.execute(
                KpiDay.__table__.insert(),
                [{"day": day, **dict(zip(group_keys, g)), **{f: v[f] for f in FIGURES}} for g, v in figures.items()],
            )
            c.execute(
                KpiDayCount.__table__.insert(),
                [
                    {"day": day, **dict(zip(group_keys, g)), "kind": kind, "name": name, "count": n}
                    for (g, kind, name), n in counts.items()
                ],
            )
            c.execute(KpiActiveUser.__table__.insert(), users)
            c.execute(KpiRolledDay.__table__.insert(), [{"day": day, "rolled_at": clock.now(), "final": True}])
        if index % 30 == 0:
            print(f"  day {index + 1}/{days}", flush=True)
    with engine.begin() as c:  # nothing before the year: those days are over and empty, not missing
        c.execute(
            KpiRolledDay.__table__.insert(),
            [{"day": today - timedelta(days=days + n), "rolled_at": clock.now(), "final": True} for n in range(1, 61)],
        )


def generate_raw_day(path: Path, per_day: int, day_start: float, rng: random.Random) -> None:
    """Today's conversations as Rasa's SQL tracker store writes them (its `events` table)."""
    import sqlite3

    con = sqlite3.connect(path)
    con.execute(
        "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, sender_id VARCHAR(255) NOT NULL, "
        "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
        "action_name VARCHAR(255), data TEXT)"
    )
    con.execute("CREATE INDEX ix_events_sender_id ON events (sender_id)")
    rows = []
    for n in range(per_day):
        sender, start = f"today-{n}", day_start + rng.uniform(0, 86_000 * 0.6)
        channel, language = rng.choice(list(CHANNELS)), rng.choice(list(LANGUAGES))
        rows += [
            (sender, "session_started", start, None, None, json.dumps({"event": "session_started"})),
            (sender, "slot", start, None, None, json.dumps({"event": "slot", "name": "language", "value": language})),
        ]
        for k, intent in enumerate(rng.choices(INTENTS, k=rng.randint(1, 5))):
            moment = start + 10 + 30 * k
            rows += [
                (
                    sender,
                    "user",
                    moment,
                    intent,
                    None,
                    json.dumps(
                        {
                            "event": "user",
                            "text": "a message",
                            "input_channel": channel,
                            "parse_data": {"intent": {"name": intent}},
                        }
                    ),
                ),
                (sender, "bot", moment + 1, None, None, json.dumps({"event": "bot", "text": "a reply"})),
                (sender, "action", moment + 1, None, "action_listen", json.dumps({"event": "action"})),
            ]
    con.executemany(
        "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
    con.commit()
    con.close()


def timed_get(session: requests.Session, url: str) -> float:
    began = time.perf_counter()
    answer = session.get(url, timeout=120)
    answer.raise_for_status()
    assert "KPI dashboard" in answer.text
    return time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-day", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="keep the databases in this folder")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-console-"))
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["ASSISTANT_DB_URL"] = config.ASSISTANT_DB_URL = f"sqlite:///{folder / 'assistant.db'}"
    os.environ["TRACKER_DB_URL"] = config.TRACKER_DB_URL = f"sqlite:///{folder / 'rasa_tracker.db'}"
    os.environ["KPI_TIME_ZONE"] = config.KPI_TIME_ZONE = "UTC"
    from console import auth
    from metrics import daily
    from metrics.conversations import tracker_engine

    rng = random.Random(7)
    today = daily.today()
    began = time.perf_counter()
    print(f"generating {args.days} days x {args.per_day} conversations into the daily aggregate ({folder})")
    generate_year(args.per_day, args.days, today, rng)
    print(f"  generated in {time.perf_counter() - began:.0f} s")
    began = time.perf_counter()
    generate_raw_day(folder / "rasa_tracker.db", args.per_day, daily.day_bounds(today)[0].timestamp(), rng)
    print(f"today's {args.per_day} conversations as raw events in {time.perf_counter() - began:.1f} s")
    began = time.perf_counter()
    daily.roll_up(today, tracker_engine(config.TRACKER_DB_URL))
    print(f"today rolled up from the raw events (metrics/daily.py) in {time.perf_counter() - began:.1f} s")
    auth.add_user("bench", "viewer", PASSWORD)

    port = int(os.environ.get("BENCH_CONSOLE_PORT", "7290"))
    server = subprocess.Popen(
        [sys.executable, "-m", "console", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, "CONSOLE_SECURE_COOKIES": "false"},
        stdout=(folder / "console.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if requests.get(f"{url}/health", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        session = requests.Session()
        page = session.get(f"{url}/login", timeout=10).text
        token = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        session.post(f"{url}/login", data={"csrf": token, "name": "bench", "password": PASSWORD}, timeout=30)
        year = f"from={(today - timedelta(days=args.days)).isoformat()}&to={today.isoformat()}"
        for label, query in (
            (f"all {args.days} days", year),
            (f"all {args.days} days, WhatsApp in Spanish", year + "&channel=whatsapp&language=es"),
            ("last 30 days", ""),
        ):
            times = [timed_get(session, f"{url}/?{query}") for _ in range(args.rounds)]
            print(
                f"dashboard, {label}: median {statistics.median(times):.2f} s, max {max(times):.2f} s "
                f"({args.rounds} requests)"
            )
    finally:
        server.terminate()
        server.wait(timeout=10)
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
