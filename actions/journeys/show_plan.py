"""The customer's plan (show_plan): a prepaid tariff, or a postpaid or home plan with its monthly price,
allowances (data, voice, SMS; speeds for home) and renewal date, from the product (TMF637) and its
catalogue offering (TMF620)."""

from typing import List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backends import bss
from actions.dialogue.account import AccountAction
from actions.formatting import date, money, quantity
from actions.i18n import language_of
from clients.bss import Line, Plan
from common.i18n import render

KINDS = ("data", "voice", "sms")


def allowance_rows(plan: Plan, line: Line, language: str) -> List[str]:
    rows = []
    for kind in KINDS:
        allowance = plan.allowances.get(kind)
        if allowance is None and kind == "data" and line.kind == "home":
            rows.append(render("plan_data_unlimited", language)["text"])  # a home plan without a quota
        elif allowance is not None and allowance.unlimited:
            rows.append(render(f"plan_{kind}_unlimited", language)["text"])
        elif allowance is not None:
            rows.append(
                render(f"plan_{kind}", language, amount=quantity(allowance.amount, allowance.units, language))["text"]
            )
    return rows


class ActionShowPlan(AccountAction):
    intent = "show_plan"
    kinds = ("mobile", "home")

    def name(self) -> Text:
        return "action_show_plan"

    async def serve(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, line: Line
    ) -> List[EventType]:
        language = language_of(tracker)
        plan = bss().plan(line)
        rows = []
        if plan.payment_type == "prepaid":
            header = render("plan_prepaid_header", language, plan=plan.name)["text"]
            if not plan.monthly_price:  # prepaid tariffs carry a zero recurring price, or none
                rows.append(render("plan_prepaid_no_fee", language)["text"])
            if plan.description:
                rows.append(plan.description)  # the rates, as the operator's catalogue words them
        else:
            header = render("plan_header", language, plan=plan.name)["text"]
        if plan.monthly_price:
            rows.append(
                render("plan_price", language, price=money(plan.monthly_price, plan.currency, language))["text"]
            )
        rows += allowance_rows(plan, line, language)
        if plan.download_speed and plan.upload_speed:
            rows.append(render("plan_speed", language, down=plan.download_speed, up=plan.upload_speed)["text"])
        elif plan.download_speed:
            rows.append(render("plan_speed_down", language, down=plan.download_speed)["text"])
        if plan.renewal_at is not None:
            rows.append(render("plan_renewal", language, date=date(plan.renewal_at, line.time_zone, language))["text"])
        dispatcher.utter_message(text="\n".join([header] + [f"• {row}" for row in rows]))
        return []
