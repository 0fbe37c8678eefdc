"""Buying from the catalogue, shared by buy_pack and buy_subscription: an offer the customer names
(find_offering, also used by cancel_subscription, request_loan and show_offers), how it reads, and the
purchase itself (Purchase), paid from the main balance or the mobile money wallet after an explicit yes;
short on funds, a top-up or a loan instead.

The catalogue is the operator's (TMF620), for the customer's market and payment type; the order is
placed with the pending operation's id as Idempotency-Key (actions/dialogue/operations.py).
"""

import re
from abc import abstractmethod
from typing import Any, Dict, List, Optional, Sequence, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.backends import bss
from actions.dialogue.choices import match_option, normalised
from actions.dialogue.operations import executor, propose
from actions.dialogue.steps import MISSING, Missing, Options, Step, StepJourney, Stop, Turn, asks
from actions.formatting import money, quantity
from actions.i18n import language_of
from actions.journeys.top_up import main_balance, wallet_balance
from clients.bss import Line, Offering
from common.i18n import render

MAX_CHOICES = 10  # a list message on WhatsApp holds 10 rows
# Words customers use for a kind of offer, in the three languages -> the catalogue's kind.
KIND_WORDS = {
    "data": ("internet", "data", "datos", "megas", "navegar", "navegacion"),
    "voice": ("appel", "appels", "minutes", "llamada", "llamadas", "minutos", "call", "calls", "voice"),
    "sms": ("sms", "message", "messages", "mensajes", "texts"),
    "combo": ("mixte", "combo", "mixto", "todo incluido"),
    "roaming": ("roaming", "itinerance", "itinerancia", "etranger", "extranjero", "abroad"),
    "music": ("musique", "musica", "music"),
    "tv": ("tv", "tele", "television"),
    "social": ("whatsapp", "facebook", "reseaux sociaux", "redes sociales", "social"),
    "callerTune": ("melodie", "tono", "caller tune", "ringback"),
}
SIZE = re.compile(r"(\d+(?:[.,]\d+)?)\s*(go|gb|giga|gigas|mo|mb|megas|min|minutes|minutos|sms)\b")


def offer_title(offer: Offering, language: str) -> str:
    return f"{offer.name} · {money(offer.price, offer.currency, language)}"


def offer_details(offer: Offering, language: str) -> str:
    """'2 GB, 7 days' in the customer's language."""
    parts = [quantity(a.amount, a.units, language) for a in offer.allowances.values() if a.amount is not None]
    if offer.validity_days:
        parts.append(render("validity_days", language, days=offer.validity_days)["text"])
    return ", ".join(parts)


def find_offering(wanted: Any, catalogue: Sequence[Offering]) -> Tuple[Optional[Offering], List[Offering]]:
    """The offer the customer named (id, name, size or kind), else None and the offers that fit what they said."""
    if not wanted:
        return None, list(catalogue)
    text = normalised(str(wanted))
    by_id = [o for o in catalogue if o.id.lower() == text]
    if by_id:
        return by_id[0], by_id
    named = match_option([[o.id, o.name] for o in catalogue], text)
    if named:
        return next(o for o in catalogue if o.id == named), []
    fitting = list(catalogue)
    size = SIZE.search(text)
    if size:
        amount, unit = float(size.group(1).replace(",", ".")), size.group(2)
        usage, factor = (
            ("data", 1024)
            if unit in ("go", "gb", "giga", "gigas")
            else ("data", 1)
            if unit in ("mo", "mb", "megas")
            else ("voice", 1)
            if unit.startswith("min")
            else ("sms", 1)
        )
        sized = [o for o in catalogue if usage in o.allowances and o.allowances[usage].amount == amount * factor]
        if sized:
            return (sized[0], sized) if len(sized) == 1 else (None, sized)
    kinds = {kind for kind, words in KIND_WORDS.items() if any(re.search(rf"\b{w}\b", text) for w in words)}
    if kinds:
        fitting = [o for o in catalogue if o.kind in kinds] or fitting
    return None, fitting


def offer_named(turn: Turn, option: Any) -> Any:
    """The offer of the journey's catalogue the customer named (by id, name, size or kind)."""
    catalogue = turn.notes["catalogue"]
    wanted = option or turn.values.get("pack")
    offer, fitting = find_offering(wanted, catalogue)
    turn.notes["fitting"] = (fitting or catalogue)[:MAX_CHOICES]
    if offer is None:
        return Missing("offer_not_found", {"wanted": str(turn.values.get("pack") or wanted)}) if wanted else MISSING
    turn.values["option"] = offer.id
    return offer


def offer_options(turn: Turn) -> Options:
    return [(o.id, offer_title(o, turn.language)) for o in turn.notes["fitting"]]


class Purchase(StepJourney):
    """Choose an offer of one catalogue category, choose what pays, confirm, order."""

    category = "pack"
    collects = ("pack", "option", "payment_method")
    ask_key = "pack_ask_choice"
    none_key = "pack_none_available"

    @abstractmethod
    def name(self) -> Text:
        """Each purchase journey has its own action (and this base none)."""

    @property
    def steps(self) -> Tuple[Step, ...]:  # a property: the question's message depends on the category
        return (
            Step("option", check=offer_named, question=asks(self.ask_key, options=offer_options), forget=("pack",)),
        )

    def catalogue(self, line: Line) -> List[Offering]:
        return bss().offerings(self.category, line.market, line.payment_type)

    def read(self, tracker: Tracker, values: Dict[str, Any], asking: Optional[str]) -> Dict[str, Any]:
        """A size typed in the message ("the 5 GB one") when no entity named the offer."""
        if values.get("option") or SIZE.search(normalised(str(values.get("pack") or ""))):
            return {}
        size = SIZE.search(normalised((tracker.latest_message or {}).get("text") or ""))
        return {"pack": size.group(0)} if size else {}  # the entity ("data pack") said less than the text

    def start(self, turn: Turn) -> Optional[Stop]:
        turn.notes["catalogue"] = self.catalogue(turn.line)
        return None if turn.notes["catalogue"] else Stop(self.none_key)

    def finish(self, turn: Turn) -> List[EventType]:
        """Pays with the customer's choice, else the main balance, else the wallet, and proposes."""
        line, offer = turn.line, turn.held["option"]
        balances = {
            "airtime": main_balance(line.msisdn) if line.payment_type == "prepaid" else None,
            "wallet": wallet_balance(line.msisdn),
        }
        titles = {
            method: turn.text(f"pay_from_{method}", balance=turn.money(balance))
            for method, balance in balances.items()
            if balance is not None
        }
        method = turn.values.get("payment_method")
        if method not in titles:
            method = next((m for m, b in balances.items() if b is not None and b >= offer.price), None)
        if method is None:
            turn.say("refused_insufficient_funds_for", name=offer.name, price=turn.money(offer.price))
            return []
        alternatives = [self.button("payment_method", m, t) for m, t in titles.items() if m != method]
        params = {
            "msisdn": line.msisdn,
            "offering": offer.id,
            "payment": method,
            "name": offer.name,
            "price": offer.price,
            "currency": line.currency,
            "category": offer.category,
        }
        return propose(
            turn.dispatcher,
            turn.tracker,
            line,
            self.intent,
            "order",
            params,
            f"{self.category}_summary",
            turn.draft,
            alternatives=alternatives,
            name=offer.name,
            details=offer_details(offer, turn.language),
            price=turn.money(offer.price),
            source=titles[method],
        )


@executor("order")
def place_order(
    dispatcher: CollectingDispatcher, tracker: Tracker, line: Line, params: Dict[str, Any], key: str
) -> Dict[str, Any]:
    """Buys the pack or add-on and gives the receipt."""
    language = language_of(tracker)
    done = bss().order(params["msisdn"], params["offering"], params["payment"], key)
    rows = [
        render(
            f"{params['category']}_done",
            language,
            name=params["name"],
            price=money(done.charged or params["price"], params["currency"], language),
        )["text"]
    ]
    if done.balance_after is not None:
        rows.append(
            render(
                f"balance_after_{done.payment_method or params['payment']}",
                language,
                balance=money(done.balance_after, params["currency"], language),
            )["text"]
        )
    if params["category"] == "pack":
        rows.append(render("pack_see_quota", language)["text"])
    rows.append(render("receipt_reference", language, reference=key[:8].upper())["text"])
    dispatcher.utter_message(text="\n".join(rows))
    return {"product": done.product_id}
