"""Units left: data, minutes and SMS per pack or plan, with what each started at and until when (check_quota).

Mobile: the line's allowance buckets (TMF654) that are active and not yet expired, plus the allowances a
postpaid plan marks "unlimited". Home: the contract's data quota if its plan has one, else "unlimited".
"""

from datetime import datetime, timezone
from typing import List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backends import bss
from actions.dialogue.account import AccountAction
from actions.formatting import date, quantity
from actions.i18n import language_of, say
from clients.bss import Bucket, Line, allowances_of
from common.clock import now
from common.i18n import render

KINDS = ("data", "voice", "sms")  # the order rows are shown in


def live_buckets(buckets: List[Bucket], moment: datetime) -> List[Bucket]:
    """Allowance buckets that still count: active and not past their end, soonest to expire first per kind."""
    live = [
        b
        for b in buckets
        if b.bucket_type in KINDS and b.status == "active" and (b.expires_at is None or b.expires_at > moment)
    ]
    far = datetime.max.replace(tzinfo=timezone.utc)
    return sorted(live, key=lambda b: (KINDS.index(b.bucket_type), b.expires_at or far, b.name))


def bucket_row(bucket: Bucket, line: Line, language: str) -> str:
    left = quantity(max(bucket.amount, 0), bucket.units, language)
    amount = left
    if bucket.initial_amount:
        amount = render(
            "quota_of", language, left=left, initial=quantity(bucket.initial_amount, bucket.units, language)
        )["text"]
    kind = render(f"quota_kind_{bucket.bucket_type}", language)["text"]
    if bucket.expires_at is None:
        return render("quota_row", language, kind=kind, name=bucket.name, amount=amount)["text"]
    return render(
        "quota_row_until",
        language,
        kind=kind,
        name=bucket.name,
        amount=amount,
        until=date(bucket.expires_at, line.time_zone, language),
    )["text"]


def bulleted(header: str, rows: List[str]) -> str:
    return "\n".join([header] + [f"• {row}" for row in rows])


class ActionCheckQuota(AccountAction):
    intent = "check_quota"
    kinds = ("mobile", "home")

    def name(self) -> Text:
        return "action_check_quota"

    async def serve(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, line: Line
    ) -> List[EventType]:
        if line.kind == "home":
            return self.home(dispatcher, tracker, line)
        language = language_of(tracker)
        buckets = live_buckets(bss().buckets(line.msisdn), now())
        allowances = allowances_of(line.characteristics) if line.payment_type == "postpaid" else {}
        rows = []
        for kind in KINDS:
            allowance = allowances.get(kind)
            if allowance is not None and allowance.unlimited:
                rows.append(render(f"quota_unlimited_{kind}", language, plan=line.plan_name)["text"])
                continue  # nothing to count down
            rows += [bucket_row(b, line, language) for b in buckets if b.bucket_type == kind]
        unlimited = any(a.unlimited for a in allowances.values())
        if not unlimited and not any(b.amount > 0 for b in buckets):
            say(dispatcher, tracker, "quota_nothing_left")
            return []
        dispatcher.utter_message(text=bulleted(render("quota_header", language)["text"], rows))
        counted = [b for b in buckets if not (allowances.get(b.bucket_type) and allowances[b.bucket_type].unlimited)]
        if any(b.amount <= 0 for b in counted):
            say(dispatcher, tracker, "quota_buy_more")
        return []

    @staticmethod
    def home(dispatcher: CollectingDispatcher, tracker: Tracker, line: Line) -> List[EventType]:
        language = language_of(tracker)
        allowance = allowances_of(line.characteristics).get("data")
        if allowance is None or allowance.unlimited:
            say(dispatcher, tracker, "quota_home_unlimited", plan=line.plan_name)
            return []
        buckets = (
            [b for b in live_buckets(bss().account_buckets(line.billing_account), now()) if b.bucket_type == "data"]
            if line.billing_account
            else []
        )
        if not buckets:
            say(
                dispatcher,
                tracker,
                "quota_home_allowance",
                plan=line.plan_name,
                allowance=quantity(allowance.amount, allowance.units, language),
            )
            return []
        rows = [bucket_row(b, line, language) for b in buckets]
        dispatcher.utter_message(
            text=bulleted(render("quota_home_header", language, plan=line.plan_name)["text"], rows)
        )
        return []
