"""The last 7 days of a mobile line (usage_history): calls, data and SMS with what they cost, and the
three items that took the most credit, from the line's rated usage records (TMF635)."""

from datetime import timedelta
from typing import List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backends import bss
from actions.dialogue.account import AccountAction
from actions.formatting import date, money, quantity
from actions.i18n import language_of, say
from clients.bss import Line, Usage
from common.clock import now
from common.i18n import render
from common.phone import display

WINDOW_DAYS = 7
TOP = 3


def duration(seconds: int, language: str) -> str:
    """'11 min 35 s', '3 min', '45 s'."""
    minutes, rest = divmod(int(seconds), 60)
    if not minutes:
        return quantity(rest, "s", language)
    if not rest:
        return quantity(minutes, "min", language)
    return f"{quantity(minutes, 'min', language)} {quantity(rest, 's', language)}"


def cost(amount: float, line: Line, language: str) -> str:
    return money(amount, line.currency, language) if amount > 0 else render("usage_included", language)["text"]


def number(e164: str) -> str:
    try:
        return display(e164)
    except Exception:  # a short code or a number phonenumbers cannot read: as the BSS wrote it
        return e164


def summary_rows(records: List[Usage], line: Line, language: str) -> List[str]:
    rows = []
    calls = [r for r in records if r.usage_type == "voice"]
    if calls:
        rows.append(
            render(
                "usage_calls",
                language,
                count=len(calls),
                duration=duration(sum(r.duration_s for r in calls), language),
                cost=cost(round(sum(r.cost for r in calls), 2), line, language),
            )["text"]
        )
    sessions = [r for r in records if r.usage_type == "data"]
    if sessions:
        rows.append(
            render(
                "usage_data",
                language,
                volume=quantity(sum(r.volume_mb for r in sessions), "MB", language),
                cost=cost(round(sum(r.cost for r in sessions), 2), line, language),
            )["text"]
        )
    messages = [r for r in records if r.usage_type == "sms"]
    if messages:
        rows.append(
            render(
                "usage_sms",
                language,
                count=sum(r.count for r in messages),
                cost=cost(round(sum(r.cost for r in messages), 2), line, language),
            )["text"]
        )
    return rows


def top_row(record: Usage, line: Line, language: str) -> str:
    values = dict(cost=money(record.cost, line.currency, language), date=date(record.used_at, line.time_zone, language))
    if record.usage_type == "voice":
        values.update(number=number(record.destination or ""), duration=duration(record.duration_s, language))
    elif record.usage_type == "sms":
        values.update(number=number(record.destination or ""))
    else:
        values.update(volume=quantity(record.volume_mb, "MB", language))
    return render(f"usage_top_{record.usage_type}", language, **values)["text"]


class ActionUsageHistory(AccountAction):
    intent = "usage_history"
    kinds = ("mobile",)

    def name(self) -> Text:
        return "action_usage_history"

    async def serve(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, line: Line
    ) -> List[EventType]:
        language = language_of(tracker)
        records = [
            r
            for r in bss().usage(line.msisdn, since=now() - timedelta(days=WINDOW_DAYS))
            if r.usage_type in ("voice", "data", "sms")
        ]
        if not records:
            say(dispatcher, tracker, "usage_none")
            return []
        lines = [render("usage_header", language)["text"]] + [
            f"• {row}" for row in summary_rows(records, line, language)
        ]
        charged = sorted((r for r in records if r.cost > 0), key=lambda r: (-r.cost, -r.used_at.timestamp()))[:TOP]
        if charged:
            lines.append(render("usage_top_header", language)["text"])
            lines += [f"• {top_row(r, line, language)}" for r in charged]
        else:
            key = "usage_all_included_postpaid" if line.payment_type == "postpaid" else "usage_all_included"
            lines.append(render(key, language)["text"])
        dispatcher.utter_message(text="\n".join(lines))
        return []
