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

from actions import formatting
from actions.backends import bss
from actions.dialogue import state
from actions.dialogue.choices import normalised
from actions.dialogue.state import end_journey
from actions.dialogue.steps import StepJourney
from actions.i18n import language_of, say
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


class ActionBookAppointment(StepJourney):
    intent = "book_appointment"
    kinds = ("mobile", "home")
    collects = ("city", "date", "option")

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
        step, word = values.get("step"), normalised(text).strip(" .!")
        if step == "confirm":  # "oui", "no", "yes" to "cancel it?"
            yes = word in YES or (intent == "affirm" and word not in NO)
            return {"option": "yes"} if yes else {"option": "no"} if word in NO or intent == "deny" else {}
        if asking == "city" or step == "store":  # a city typed instead of picking a store
            return {"city": text, "store": None} if re.search(r"[^\W\d_]", text) else {}
        return {"date": text, "slot": None} if step == "slot" else {}

    def question(self, dispatcher, tracker, draft, values, step: str, key: str, options=(), entity="option", **shown):
        """Asks with self.ask, remembering which step the answer is for."""
        kept = {k: v for k, v in values.items() if v not in (None, "")}
        return self.ask(dispatcher, tracker, {**draft, "values": {**kept, "step": step}}, entity, key, options, **shown)

    async def advance(self, dispatcher, tracker, line: Line, draft: Dict[str, Any]):
        values = {k: v for k, v in (draft.get("values") or {}).items() if v not in (None, "")}
        take_option(values)
        language, mode, current = language_of(tracker), values.get("mode"), None
        if mode != "new":
            mine = bss().appointments(party_of(line)["id"])  # checked again every turn: never trust the draft's id
            if mode in MODES:
                current = next((a for a in mine if a.id == values.get("appointment")), None)
                if current is None:
                    say(dispatcher, tracker, "appointment_gone")
                    return end_journey()
            elif mine:  # the upcoming one first: move it, cancel it, or book another
                store = bss().store(mine[0].store_id)
                buttons = [(m, render(f"appointment_button_{m}", language)["text"]) for m in MODES]
                return self.question(
                    dispatcher,
                    tracker,
                    draft,
                    {**values, "appointment": mine[0].id},
                    "menu",
                    "appointment_existing",
                    buttons,
                    store=mine[0].store_name,
                    address=address(store) if store else "",
                    **moment_of(mine[0].start, store.time_zone if store else line.time_zone, language),
                )
            else:
                values["mode"] = mode = "new"
        if mode == "cancel":
            return self.cancel(dispatcher, tracker, draft, values, line, current)
        if current:
            store, asked = bss().store(current.store_id), None
        else:
            store, asked = self.choose_store(dispatcher, tracker, draft, values, line)
        if asked:
            return asked
        if store is None:  # the appointment's store is gone from the gateway
            say(dispatcher, tracker, "backend_refused")
            return end_journey()
        return self.choose_slot(dispatcher, tracker, draft, values, line, store, current)

    def choose_store(self, dispatcher, tracker, draft, values, line: Line):
        """(the store, None), or (None, the events of the question asked)."""
        if values.get("store") and (values.get("city") or "") == (values.get("store_city") or ""):
            store = bss().store(values["store"])
            if store is not None:
                return store, None
        values.pop("store", None)
        city = values.get("city") or line.characteristics.get("city")  # the line's own city: only a suggestion
        found = find(city)[:MAX_STORES] if city else []
        if not found and not values.get("city"):
            return None, self.question(
                dispatcher, tracker, draft, values, "city", "appointment_ask_city", entity="city"
            )
        if not found:
            cities = [(c, c) for c in known_cities(language_of(tracker))]
            return None, self.question(
                dispatcher,
                tracker,
                draft,
                {**values, "city": None},
                "city",
                "appointment_no_store",
                cities,
                entity="city",
                city=city,
            )
        values["store_city"] = values.get("city")  # a store chosen for another city is dropped when the city changes
        if len(found) == 1 and values.get("city"):
            values["store"] = found[0].id
            return found[0], None
        listing = "\n".join(f"{n}. {s.name}, {address(s)}" for n, s in enumerate(found, 1))
        key = "appointment_pick_store" if values.get("city") else "appointment_suggest_store"
        return None, self.question(
            dispatcher,
            tracker,
            draft,
            values,
            "store",
            key,
            [(s.id, s.name) for s in found],
            city=place_name(city, found),
            stores=listing,
        )

    def choose_slot(self, dispatcher, tracker, draft, values, line: Line, store: Store, current: Optional[Appointment]):
        language, chosen = language_of(tracker), parse_slot(values.pop("slot", None) or "")
        if chosen is None:
            free, wished = bss().free_slots(store.id), values.pop("date", None)
            when = parse_when(str(wished), language, store.time_zone, now()) if wished else None
            if wished and when is None:
                return self.offer(
                    dispatcher, tracker, draft, values, store, current, free, key="appointment_date_unclear"
                )
            if when is None or not (when.exact and when.start in free):
                return self.offer(dispatcher, tracker, draft, values, store, current, free, when)
            chosen = when.start  # the very slot asked for is free: book it
        try:
            if current:
                appointment = bss().reschedule_appointment(current.id, chosen)
            else:
                appointment = bss().book_appointment(
                    store.id,
                    chosen,
                    party_of(line),
                    line.msisdn,
                    DESCRIPTION,
                    values.get("key") or new_idempotency_key(),
                )
        except BackendUnavailable:
            raise
        except BackendError as error:
            appointment = (
                self.own_booking(line, store, chosen) if error.code == "ERR_SLOT_TAKEN" and not current else None
            )
            if appointment is None and error.code in ("ERR_SLOT_TAKEN", "ERR_INVALID_SLOT"):
                key = "appointment_slot_taken" if error.code == "ERR_SLOT_TAKEN" else "appointment_slot_invalid"
                return self.offer(
                    dispatcher, tracker, draft, values, store, current, bss().free_slots(store.id), key=key
                )
            if appointment is None and current and error.code in ("ERR_NOT_MODIFIABLE", "ERR_NOT_FOUND"):
                say(dispatcher, tracker, "appointment_gone")
                return end_journey()
            if appointment is None:
                raise
        kind = "rescheduled" if current else "booked"
        details = dict(
            moment_of(appointment.start, store.time_zone, language),
            store=store.name,
            address=address(store),
            reference=appointment.id,
        )
        self.confirm(dispatcher, line, language, f"appointment_{kind}", f"appointment_sms_{kind}", details)
        return end_journey()

    @staticmethod
    def own_booking(line: Line, store: Store, start: datetime) -> Optional[Appointment]:
        """ "Taken" by this very customer: an earlier attempt that got through (a retry after a timeout)."""
        return next(
            (a for a in bss().appointments(party_of(line)["id"]) if a.store_id == store.id and a.start == start), None
        )

    def offer(
        self, dispatcher, tracker, draft, values, store: Store, current, free, when: Optional[When] = None, key=None
    ):
        """Shows up to 8 free slots as buttons (or, if there is none, says so)."""
        language = language_of(tracker)
        if not free and current:
            say(
                dispatcher,
                tracker,
                "appointment_no_slots_keep",
                store=store.name,
                **moment_of(current.start, store.time_zone, language),
            )
            return end_journey()
        if not free:
            return self.question(
                dispatcher,
                tracker,
                draft,
                {**values, "store": None, "city": None},
                "city",
                "appointment_no_slots",
                entity="city",
                store=store.name,
            )
        offered, met = nearest(free, when)
        wish = ""
        if when:
            asked = moment_of(when.start, store.time_zone, language)
            wish = f"{asked['date']}, {asked['time']}" if when.exact else asked["date"]
        key = key or ("appointment_pick_slot" if met else "appointment_slot_near")
        return self.question(
            dispatcher,
            tracker,
            draft,
            {**values, "key": new_idempotency_key()},
            "slot",
            key,
            slot_options(offered, store.time_zone, language),
            store=store.name,
            wish=wish,
        )

    def cancel(self, dispatcher, tracker, draft, values, line: Line, current: Appointment):
        language, store = language_of(tracker), bss().store(current.store_id)
        details = dict(
            moment_of(current.start, store.time_zone if store else line.time_zone, language), store=current.store_name
        )
        if values.get("confirm") not in ("yes", "no"):
            buttons = [
                ("yes", render("appointment_button_yes_cancel", language)["text"]),
                ("no", render("appointment_button_keep", language)["text"]),
            ]
            return self.question(
                dispatcher, tracker, draft, values, "confirm", "appointment_cancel_confirm", buttons, **details
            )
        if values["confirm"] == "no":
            say(dispatcher, tracker, "appointment_kept", **details)
            return end_journey()
        try:
            bss().cancel_appointment(current.id)
        except BackendUnavailable:
            raise
        except BackendError as error:
            if error.code not in ("ERR_NOT_MODIFIABLE", "ERR_NOT_FOUND"):
                raise
            say(dispatcher, tracker, "appointment_gone")
            return end_journey()
        self.confirm(dispatcher, line, language, "appointment_cancelled", "appointment_sms_cancelled", details)
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
