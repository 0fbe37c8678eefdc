"""Store appointments (book_appointment): a visit at a store, on the store's shared agenda of 30-minute slots.

The customer picks a store (the city they name, else their line's city as a suggestion), then a free slot:
a button, or a day and time typed in their language ("demain à 10h", "el lunes a las 3", "tomorrow
morning"). The store's agenda decides between two customers who take the same slot at once (409
ERR_SLOT_TAKEN: the slower one sees the slots still free). An upcoming appointment can be moved or
cancelled. Confirmed in chat and by SMS, in the store's time zone. No money moves: no yes/no step.
"""

import logging
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Sequence, Text, Tuple

import pytz
from babel.dates import format_date, format_time
from rasa_sdk.events import EventType

from actions import formatting
from actions.backends import bss
from actions.dialogue import state
from actions.dialogue.choices import normalised
from actions.dialogue.state import end_journey
from actions.dialogue.steps import MISSING, Missing, Options, Question, Step, StepJourney, Stop, Turn, step_named
from actions.identity import dialogue
from actions.journeys.find_store import address, find, known_cities, place_name
from actions.typed_moments import When, parse_when
from clients import BackendError, BackendUnavailable
from clients.bss import Appointment, Line, Store, new_idempotency_key
from common import phone
from common.clock import now
from common.i18n import render

logger = logging.getLogger(__name__)
MAX_STORES, MAX_SLOTS, MAX_TEXT = 5, 8, 60
MODES = ("reschedule", "cancel", "new")
YES, NO = {"oui", "yes", "si", "ok", "d'accord", "claro", "yeah"}, {"non", "no", "nope"}
SLOT = timedelta(minutes=30)
DESCRIPTION = "Store visit booked with the assistant"


def nearest(free: Sequence[datetime], when: Optional[When]) -> Tuple[List[datetime], bool]:
    """Up to 8 free slots to offer, soonest first, and whether they are within what was asked."""
    if when is None:
        return list(free[:MAX_SLOTS]), True
    inside = [s for s in free if when.start <= s < when.end]
    if inside and not when.exact:
        return inside[:MAX_SLOTS], True
    return sorted(sorted(free, key=lambda s: abs(s - when.start))[:MAX_SLOTS]), False


def slot_options(slots: Sequence[datetime], zone: str, language: str) -> List[Tuple[str, str]]:
    """(ISO start, "lun. 14:00" / "Mon 2:00 PM"); with the day of month when a weekday comes twice."""
    locale, tz = formatting.BABEL_LOCALES.get(language, "en"), pytz.timezone(zone)
    local = [s.astimezone(tz) for s in slots]
    pattern = "EEE d" if len({t.date() for t in local}) > len({t.weekday() for t in local}) else "EEE"
    return [
        (
            s.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            f"{format_date(at, pattern, locale=locale)} {format_time(at, 'short', locale=locale)}",
        )
        for s, at in zip(slots, local)
    ]


def moment_of(start: datetime, zone: str, language: str) -> Dict[str, str]:
    """{date, time} of a moment as the customer's language writes them, in the store's zone."""
    local = start.astimezone(pytz.timezone(zone))
    return {
        "date": formatting.date(start, zone, language),
        "time": format_time(local, "short", locale=formatting.BABEL_LOCALES.get(language, "en")),
    }


def parse_slot(value: Any) -> Optional[datetime]:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def party_of(line: Line) -> Dict[str, str]:
    return {
        "id": line.party_id or line.msisdn or line.product_id,
        "role": "customer",
        "name": line.customer_name,
        "@referredType": "Individual",
    }


def take_option(values: Dict[str, Any]) -> None:
    """A button's (or a typed title's) value, told apart by its shape: a choice, yes/no, a slot or a store."""
    option = str(values.pop("option", "") or "")
    if option in MODES:
        values.update(mode=option, confirm=None)
    elif option in ("yes", "no"):
        values["confirm"] = option
    elif parse_slot(option) is not None:
        values["slot"] = option
    elif option:
        values["store"] = option


def option_question(key: str, options: Options = (), entity: str = "option", **values: Any) -> Question:
    """This journey's buttons all fill `option` (take_option tells them apart) or `city`."""
    return Question(key, options, values, entity=entity)


def details_of(turn: Turn, appointment: Appointment) -> Dict[str, Any]:
    """Where and when an appointment is, as its messages show it."""
    store = bss().store(appointment.store_id)
    moment = moment_of(appointment.start, store.time_zone if store else turn.line.time_zone, turn.language)
    return {**moment, "store": appointment.store_name, "address": address(store) if store else ""}


def mode_chosen(turn: Turn, mode: Any) -> Any:
    """new, or reschedule / cancel the upcoming appointment (checked again every turn: never trust the draft's id)."""
    turn.notes["current"] = None
    if mode == "new":
        return mode
    mine = bss().appointments(party_of(turn.line)["id"])
    if mode in MODES:
        turn.notes["current"] = next((a for a in mine if a.id == turn.values.get("appointment")), None)
        return mode if turn.notes["current"] else Stop("appointment_gone")
    if mine:  # the upcoming one first: move it, cancel it, or book another
        turn.values["appointment"], turn.notes["upcoming"] = mine[0].id, mine[0]
        return MISSING
    turn.values["mode"] = "new"
    return "new"


def menu(turn: Turn) -> Question:
    upcoming, language = turn.notes["upcoming"], turn.language
    buttons = [(m, render(f"appointment_button_{m}", language)["text"]) for m in MODES]
    return option_question("appointment_existing", buttons, **details_of(turn, upcoming))


def confirmed(turn: Turn, answer: Any) -> Any:
    return answer if answer in ("yes", "no") else MISSING


def cancel_question(turn: Turn) -> Question:
    buttons = [("yes", turn.text("appointment_button_yes_cancel")), ("no", turn.text("appointment_button_keep"))]
    details = details_of(turn, turn.notes["current"])
    return option_question("appointment_cancel_confirm", buttons, **{k: details[k] for k in ("date", "time", "store")})


def store_chosen(turn: Turn, chosen: Any) -> Any:
    """The store: the appointment's own, the one picked, or the only one of the city named."""
    values, current = turn.values, turn.notes["current"]
    if current:
        store = bss().store(current.store_id)
        return store if store is not None else Stop("backend_refused")  # gone from the gateway
    if chosen and (values.get("city") or "") == (values.get("store_city") or ""):
        store = bss().store(chosen)
        if store is not None:
            return store
    city = values.get("city") or turn.line.characteristics.get("city")  # the line's own city: only a suggestion
    found = find(city)[:MAX_STORES] if city else []
    if not found and not values.get("city"):
        return Missing(question=option_question("appointment_ask_city", entity="city"))
    if not found:
        cities = [(c, c) for c in known_cities(turn.language)]
        return Missing(
            question=option_question("appointment_no_store", cities, entity="city", city=city), forget=("city",)
        )
    values["store_city"] = values.get("city")  # a store chosen for another city is dropped when the city changes
    if len(found) == 1 and values.get("city"):
        values["store"] = found[0].id
        return found[0]
    listing = "\n".join(f"{n}. {s.name}, {address(s)}" for n, s in enumerate(found, 1))
    key = "appointment_pick_store" if values.get("city") else "appointment_suggest_store"
    return Missing(
        question=option_question(key, [(s.id, s.name) for s in found], city=place_name(city, found), stores=listing)
    )


def slot_chosen(turn: Turn, slot: Any) -> Any:
    """The slot picked, or the very one asked for ("tomorrow at 10") when it is free; else the free ones offered."""
    chosen = parse_slot(slot or "")
    if chosen is not None:
        return chosen
    store = turn.held["store"]
    free, wished = bss().free_slots(store.id), turn.values.pop("date", None)
    when = parse_when(str(wished), turn.language, store.time_zone, now()) if wished else None
    if wished and when is None:
        return offer(turn, free, key="appointment_date_unclear")
    if when is None or not (when.exact and when.start in free):
        return offer(turn, free, when)
    return when.start


def offer(turn: Turn, free: Sequence[datetime], when: Optional[When] = None, key: str = "") -> Any:
    """Up to 8 free slots as buttons (or, if there is none, says so)."""
    store, current, language = turn.held["store"], turn.notes["current"], turn.language
    if not free and current:
        moment = moment_of(current.start, store.time_zone, language)
        return Stop("appointment_no_slots_keep", {"store": store.name, **moment})
    if not free:
        question = option_question("appointment_no_slots", entity="city", store=store.name)
        return Missing(question=question, forget=("store", "city"))
    offered, met = nearest(free, when)
    wish = ""
    if when:
        asked = moment_of(when.start, store.time_zone, language)
        wish = f"{asked['date']}, {asked['time']}" if when.exact else asked["date"]
    turn.values["key"] = new_idempotency_key()
    key = key or ("appointment_pick_slot" if met else "appointment_slot_near")
    slots = slot_options(offered, store.time_zone, language)
    return Missing(question=option_question(key, slots, store=store.name, wish=wish))


def not_cancelling(turn: Turn) -> bool:
    return turn.held["mode"] != "cancel"


class ActionBookAppointment(StepJourney):
    intent = "book_appointment"
    kinds = ("mobile", "home")
    collects = ("city", "date", "option")
    steps = (
        Step("mode", check=mode_chosen, question=menu),
        Step("confirm", check=confirmed, question=cancel_question, applies=lambda turn: not not_cancelling(turn)),
        Step(
            "store", check=store_chosen, question=lambda turn: store_chosen(turn, None).question, applies=not_cancelling
        ),
        Step("slot", check=slot_chosen, applies=not_cancelling),
    )

    def name(self) -> Text:
        return "action_book_appointment"

    def read(self, tracker, values: Dict[str, Any], asking: Optional[str]) -> Dict[str, Any]:
        message = tracker.latest_message or {}
        text, intent = (message.get("text") or "").strip()[:MAX_TEXT], (message.get("intent") or {}).get("name")
        answering = state.waiting_journey(tracker) == self.intent
        if intent == self.intent and not text.startswith("/") and not answering:  # a new request: start from it
            said = {
                e["entity"]: e.get("value")
                for e in message.get("entities") or []
                if e.get("entity") in ("city", "date")
            }
            return {key: said.get(key) for key in set(values) | set(said)}
        if not asking or text.startswith("/") or not re.search(r"[^\W_]", text):
            return {}
        step, word = state.draft_of(tracker).get("step"), normalised(text).strip(" .!")
        if step == "confirm":  # "oui", "no", "yes" to "cancel it?"
            yes = word in YES or (intent == "affirm" and word not in NO)
            return {"option": "yes"} if yes else {"option": "no"} if word in NO or intent == "deny" else {}
        if asking == "city" or step == "store":  # a city typed instead of picking a store
            return {"city": text, "store": None} if re.search(r"[^\W\d_]", text) else {}
        return {"date": text, "slot": None} if step == "slot" else {}

    def start(self, turn: Turn) -> Optional[Stop]:
        """A button's value told apart by its shape."""
        turn.draft["values"] = {k: v for k, v in turn.values.items() if v not in (None, "")}
        take_option(turn.values)
        return None

    def finish(self, turn: Turn) -> List[EventType]:
        """Cancels (after the yes), or books / moves to the slot, which the store's agenda may refuse."""
        if turn.held["mode"] == "cancel":
            return self.cancel(turn)
        line, store, chosen, current = turn.line, turn.held["store"], turn.held["slot"], turn.notes["current"]
        try:
            if current:
                appointment = bss().reschedule_appointment(current.id, chosen)
            else:
                key = turn.values.get("key") or new_idempotency_key()
                appointment = bss().book_appointment(store.id, chosen, party_of(line), line.msisdn, DESCRIPTION, key)
        except BackendUnavailable:
            raise
        except BackendError as error:
            appointment = (
                self.own_booking(line, store, chosen) if error.code == "ERR_SLOT_TAKEN" and not current else None
            )
            if appointment is None and error.code in ("ERR_SLOT_TAKEN", "ERR_INVALID_SLOT"):
                key = "appointment_slot_taken" if error.code == "ERR_SLOT_TAKEN" else "appointment_slot_invalid"
                return self.not_held(turn, step_named(self, "slot"), offer(turn, bss().free_slots(store.id), key=key))
            if appointment is None and current and error.code in ("ERR_NOT_MODIFIABLE", "ERR_NOT_FOUND"):
                turn.say("appointment_gone")
                return end_journey()
            if appointment is None:
                raise
        kind = "rescheduled" if current else "booked"
        details = dict(
            moment_of(appointment.start, store.time_zone, turn.language),
            store=store.name,
            address=address(store),
            reference=appointment.id,
        )
        self.confirm(turn.dispatcher, line, turn.language, f"appointment_{kind}", f"appointment_sms_{kind}", details)
        return end_journey()

    @staticmethod
    def own_booking(line: Line, store: Store, start: datetime) -> Optional[Appointment]:
        """ "Taken" by this very customer: an earlier attempt that got through (a retry after a timeout)."""
        return next(
            (a for a in bss().appointments(party_of(line)["id"]) if a.store_id == store.id and a.start == start), None
        )

    def cancel(self, turn: Turn) -> List[EventType]:
        current = turn.notes["current"]
        details = {k: v for k, v in details_of(turn, current).items() if k in ("date", "time", "store")}
        if turn.held["confirm"] == "no":
            turn.say("appointment_kept", **details)
            return end_journey()
        try:
            bss().cancel_appointment(current.id)
        except BackendUnavailable:
            raise
        except BackendError as error:
            if error.code not in ("ERR_NOT_MODIFIABLE", "ERR_NOT_FOUND"):
                raise
            turn.say("appointment_gone")
            return end_journey()
        self.confirm(
            turn.dispatcher, turn.line, turn.language, "appointment_cancelled", "appointment_sms_cancelled", details
        )
        return end_journey()

    @staticmethod
    def confirm(dispatcher, line: Line, language: str, chat_key: str, sms_key: str, details: Dict[str, Any]) -> None:
        """Says it in chat and texts it to the line (a home contract without a number gets no SMS)."""
        lines = [render(chat_key, language, **details)["text"]]
        if line.msisdn:
            try:
                dialogue.sms().send(line.msisdn, render(sms_key, language, **details)["text"])
                lines.append(render("appointment_sms_note", language, phone=phone.masked(line.msisdn))["text"])
            except BackendError as error:
                logger.warning("appointment SMS not sent: %s", error.code)
                lines.append(render("appointment_sms_failed", language)["text"])
        dispatcher.utter_message(text="\n".join(lines))
