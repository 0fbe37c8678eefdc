"""Stores near a city or neighbourhood, with today's hours and whether they are open now (find_store).

No identity needed: where the stores are is public. The city comes from store_form (slot `city`).
"""

import re
import unicodedata
from datetime import datetime, time
from typing import Any, Dict, List, Optional, Text, Tuple

import pytz
from babel.dates import format_time
from babel.numbers import format_decimal
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backends import bss
from actions.formatting import BABEL_LOCALES
from actions.i18n import language_of, say
from clients import BackendError, BackendUnavailable
from clients.bss import Store
from common.clock import now
from common.i18n import render
from common.text import fold

MAX_STORES = 3
MAX_CITY_LENGTH = 60
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# the market whose stores come first in the list of cities, by language
HOME_MARKET = {"fr": "BJ", "es": "GT"}


def without_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def find(city: str) -> List[Store]:
    """Stores matching the city as given, else without its accents."""
    stores = bss().stores(city)
    plain = without_accents(city)
    if not stores and plain != city:
        stores = bss().stores(plain)
    return stores


def place_name(query: str, found: List[Store]) -> str:
    """The place as the operator spells it ("cotonou" -> "Cotonou", "zona 10" -> "Zona 10"), else as typed."""
    wanted = without_accents(query).casefold()
    for store in found:
        for name in (store.city, store.locality):
            if name and without_accents(name).casefold() == wanted:
                return name
    return query


def address(store: Store) -> str:
    street = " ".join(p for p in (store.street_name, store.street_nr) if p) if store.street_nr else store.street_name
    parts = [street, store.locality if store.locality != store.city else "", store.city]
    return ", ".join(p for p in parts if p)


def clock(value: str, language: str) -> str:
    """'08:00' as the language writes a time of day: 08:00, 8:00, 8:00 AM."""
    hours, minutes = (int(p) for p in value.split(":"))
    return format_time(time(hours, minutes), "short", locale=BABEL_LOCALES.get(language, "en"))


def store_row(store: Store, moment: datetime, language: str) -> str:
    local = moment.astimezone(pytz.timezone(store.time_zone or "UTC"))
    today = store.hours.get(DAYS[local.weekday()])
    if today is None or not today.open:
        return render("store_closed_today", language, name=store.name, address=address(store))["text"]
    hours = f"{clock(today.opens, language)}–{clock(today.closes, language)}"
    is_open = today.opens <= local.strftime("%H:%M") < today.closes
    key = "store_open_now" if is_open else "store_closed_now"
    return render(key, language, name=store.name, address=address(store), hours=hours)["text"]


def known_cities(language: str) -> List[str]:
    stores = bss().stores()
    first = HOME_MARKET.get(language)
    stores = sorted(stores, key=lambda s: s.market != first)  # stable: the gateway's order within a market
    cities: List[str] = []
    for store in stores:
        if store.city and store.city not in cities:
            cities.append(store.city)
    return cities


def shared_location(tracker: Tracker) -> Optional[Tuple[float, float]]:
    """(latitude, longitude) of a location the customer shared: the `location` entity "lat,lon" that the
    channel connectors (WhatsApp, Messenger) send, as in /find_store{"location": "6.3654,2.4183"}."""
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == "location":
            match = re.fullmatch(r"\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*", str(entity.get("value")))
            if match and abs(float(match.group(1))) <= 90 and abs(float(match.group(2))) <= 180:
                return float(match.group(1)), float(match.group(2))
    return None


class ActionFindStore(Action):
    def name(self) -> Text:
        return "action_find_store"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        language = language_of(tracker)
        city = (tracker.get_slot("city") or "").strip()
        events: List[EventType] = [SlotSet("city", None)]  # the next search asks again
        point = shared_location(tracker)
        if point:
            return events + self.near(dispatcher, tracker, point)
        if not city:
            say(dispatcher, tracker, "ask_city")
            return events
        try:
            stores = find(city)[:MAX_STORES]
            if not stores:
                buttons = [{"title": c, "payload": f'/find_store{{"city": "{c}"}}'} for c in known_cities(language)]
                dispatcher.utter_message(text=render("stores_none", language, city=city)["text"], buttons=buttons)
                return events
        except BackendUnavailable:
            say(dispatcher, tracker, "backend_unavailable")
            return events
        except BackendError:
            say(dispatcher, tracker, "backend_refused")
            return events
        moment = now()
        header = render("stores_header", language, city=place_name(city, stores))["text"]
        dispatcher.utter_message(text="\n".join([header] + [f"• {store_row(s, moment, language)}" for s in stores]))
        return events

    @staticmethod
    def near(dispatcher: CollectingDispatcher, tracker: Tracker, point: Tuple[float, float]) -> List[EventType]:
        language = language_of(tracker)
        try:
            stores = bss().stores_near(*point)[:MAX_STORES]
        except BackendUnavailable:
            say(dispatcher, tracker, "backend_unavailable")
            return []
        except BackendError:
            say(dispatcher, tracker, "backend_refused")
            return []
        if not stores:
            say(dispatcher, tracker, "ask_city")
            return []
        moment, locale = now(), BABEL_LOCALES.get(language, "en")
        rows = []
        for store in stores:
            name, _, hours = store_row(store, moment, language).partition("\n")
            distance = format_decimal(round(store.distance_km or 0, 1), locale=locale)
            rows.append(f"• {name} ({distance} km)" + (f"\n{hours}" if hours else ""))
        dispatcher.utter_message(text="\n".join([render("stores_near_header", language)["text"]] + rows))
        return []


class ActionAskCity(Action):
    def name(self) -> Text:
        return "action_ask_city"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        say(dispatcher, tracker, "ask_city")
        return []


def city_entity(tracker: Tracker) -> Optional[str]:
    return next(
        (
            str(e.get("value")).strip()
            for e in tracker.latest_message.get("entities") or []
            if e.get("entity") == "city" and e.get("value")
        ),
        None,
    )


def words_of(text: str) -> str:
    """Folded words separated by single spaces: "Porto-Novo" and "porto novo" read alike."""
    return re.sub(r"[^\w]+", " ", fold(text)).strip()


def place_in_text(text: str) -> Optional[str]:
    """A city or neighbourhood where the operator has a store, named anywhere in the message however it is written
    ("une boutique à cotonou stp", "tienda en xela"): the entity extractor misses names typed in lower case or
    without accents. The longest name wins ("Porto-Novo" over "Novo"); None if none is named or the gateway is away."""
    words = words_of(text)
    if not words:
        return None
    try:
        stores = bss().stores()
    except BackendError:
        return None
    places = {place: words_of(place) for store in stores for place in (store.city, store.locality) if place}
    named = [place for place, name in places.items() if name and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", words)]
    return max(named, key=len) if named else None


# Answers to "which city?" that name no place and mean something else: taking them as a place name would answer
# "we have no store in 'bye'".
NOT_A_PLACE = ("deny", "goodbye")


class ValidateStoreForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_store_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        # a shared location needs no city: the stores nearest to it are the answer
        return [] if shared_location(tracker) else domain_slots

    async def extract_city(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        entity = city_entity(tracker)
        text = (tracker.latest_message.get("text") or "").strip()
        if tracker.get_slot("requested_slot") != "city":
            # the question that opened the form may already name the city ("a store in Cotonou")
            if tracker.get_slot("city") or text.startswith("/"):
                return {}
            entity = entity or place_in_text(text)
            return {"city": entity[:MAX_CITY_LENGTH]} if entity else {}
        if text.startswith("/") and not entity:  # a button or shortcut without a city
            return {}
        entity = entity or place_in_text(text)
        if entity:
            return {"city": entity[:MAX_CITY_LENGTH]}
        if ((tracker.latest_message.get("intent") or {}).get("name")) in NOT_A_PLACE:
            return {}  # "non merci", "bon au revoir": the form is rejected, and the rules for them answer
        text = text[:MAX_CITY_LENGTH].strip()
        if not re.search(r"[^\W\d_]", text):  # must contain a letter
            return {}
        return {"city": text}
