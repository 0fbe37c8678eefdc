"""book_appointment against the sandbox: store, free slots, booking, rescheduling, cancelling, SMS, in fr/es/en."""

import dataclasses
import json
from datetime import datetime, time, timedelta, timezone

import pytest
import pytz
import requests
from rasa_sdk.executor import CollectingDispatcher

from actions.identity import sessions
from actions.journeys.book_appointment import ActionBookAppointment, slot_options
from actions.typed_moments import parse_when
from clients.bss import BSSClient, new_idempotency_key
from tests.clock import at_each_instant
from tests.conftest import make_tracker, sms_to, user_event

pytestmark = at_each_instant()  # date-sensitive: each day of a week, a month end, around midnight

AWA, JOHN, CARLOS = "+2290197000001", "+2290196000005", "+50255500002"
BENIN, GUATEMALA = "Africa/Porto-Novo", "America/Guatemala"


def plain(text: str) -> str:
    """Babel's (narrow) no-break spaces as plain spaces."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


class Chat:
    """One customer's conversation with the journey: each turn runs the action on the slots it left."""

    def __init__(self, domain, subject: str, language: str, sender: str = "test-user"):
        self.domain, self.sender = domain, sender
        self.slots = {"language": language}
        self.events, self.messages = [], []
        if subject:
            sessions.verify(sender, subject, "otp")

    async def say(self, text: str, intent: str = "inform", **entities) -> str:
        event = user_event(text, intent, [{"entity": k, "value": v} for k, v in entities.items()])
        dispatcher = CollectingDispatcher()
        tracker = make_tracker([event], slots=dict(self.slots), sender_id=self.sender)
        self.events = await ActionBookAppointment().run(dispatcher, tracker, self.domain)
        for e in self.events:
            if e["event"] == "slot":
                self.slots[e["name"]] = e["value"]
        self.messages = dispatcher.messages
        return self.text

    async def press(self, title: str = None, index: int = None) -> str:
        """Presses a button of the last message, by its title or its position."""
        buttons = self.buttons
        button = buttons[index] if index is not None else next(b for b in buttons if plain(b["title"]) == title)
        intent, _, entities = button["payload"].lstrip("/").partition("{")
        return await self.say(button["payload"], intent, **json.loads("{" + entities))

    @property
    def text(self) -> str:
        return plain("\n".join(m.get("text") or "" for m in self.messages))

    @property
    def buttons(self):
        return [b for m in self.messages for b in m.get("buttons") or []]

    @property
    def values(self):
        """What each button answers (a store id, a slot's ISO start...)."""
        return [next(iter(json.loads("{" + b["payload"].partition("{")[2]).values())) for b in self.buttons]

    @property
    def ended(self) -> bool:
        return {"event": "slot", "timestamp": None, "name": "journey_draft", "value": None} in self.events


def start(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def local(value: str, zone: str) -> datetime:
    return start(value).astimezone(pytz.timezone(zone))


@pytest.fixture
def bss(operator):
    return BSSClient()


def test_names():
    assert ActionBookAppointment().name() == "action_book_appointment"
    assert ActionBookAppointment.intent == "book_appointment"
    assert ActionBookAppointment.collects == ("city", "date", "option")


# --- the date parser -----------------------------------------------------------------------------
WEDNESDAY_10_IN_COTONOU = datetime(2025, 5, 7, 9, 0, tzinfo=timezone.utc)  # 03:00 in Guatemala


@pytest.mark.parametrize(
    "language, zone, text, start, end, exact",
    [
        ("fr", BENIN, "demain à 10h", "2025-05-08 10:00", "2025-05-08 10:30", True),
        ("fr", BENIN, "lundi à 15h", "2025-05-12 15:00", "2025-05-12 15:30", True),
        ("fr", BENIN, "après-demain 9h30", "2025-05-09 09:30", "2025-05-09 10:00", True),
        ("fr", BENIN, "samedi matin", "2025-05-10 08:00", "2025-05-10 12:00", False),
        ("fr", BENIN, "cet après-midi", "2025-05-07 12:00", "2025-05-07 17:00", False),
        ("fr", BENIN, "le 15", "2025-05-15 00:00", "2025-05-16 00:00", False),
        ("fr", BENIN, "à 9h", "2025-05-08 09:00", "2025-05-08 09:30", True),  # 9:00 has passed today
        ("fr", BENIN, "mercredi à 16h", "2025-05-07 16:00", "2025-05-07 16:30", True),  # today, not in a week
        ("fr", BENIN, "mercredi prochain", "2025-05-14 00:00", "2025-05-15 00:00", False),
        ("es", GUATEMALA, "el lunes a las 3", "2025-05-12 15:00", "2025-05-12 15:30", True),
        ("es", GUATEMALA, "mañana", "2025-05-08 00:00", "2025-05-09 00:00", False),
        ("es", GUATEMALA, "mañana en la mañana", "2025-05-08 08:00", "2025-05-08 12:00", False),
        ("es", GUATEMALA, "pasado mañana a las 9:30", "2025-05-09 09:30", "2025-05-09 10:00", True),
        ("es", GUATEMALA, "el viernes a las 3 de la tarde", "2025-05-09 15:00", "2025-05-09 15:30", True),
        ("es", GUATEMALA, "el sábado", "2025-05-10 00:00", "2025-05-11 00:00", False),
        ("es", GUATEMALA, "hoy a las 10", "2025-05-07 10:00", "2025-05-07 10:30", True),  # 03:00 there: still today
        ("en", BENIN, "tomorrow morning", "2025-05-08 08:00", "2025-05-08 12:00", False),
        ("en", BENIN, "monday 2pm", "2025-05-12 14:00", "2025-05-12 14:30", True),
        ("en", BENIN, "tomorrow at 10", "2025-05-08 10:00", "2025-05-08 10:30", True),
        ("en", BENIN, "on friday", "2025-05-09 00:00", "2025-05-10 00:00", False),
        ("en", BENIN, "next monday at noon", "2025-05-12 12:00", "2025-05-12 12:30", True),
        ("fr", BENIN, "demain aprem", "2025-05-08 12:00", "2025-05-08 17:00", False),
        ("es", GUATEMALA, "esta tarde", "2025-05-07 12:00", "2025-05-07 17:00", False),
        ("es", GUATEMALA, "el jueves como a las 11", "2025-05-08 11:00", "2025-05-08 11:30", True),
        ("es", GUATEMALA, "las 3 de la tarde", "2025-05-07 15:00", "2025-05-07 15:30", True),
        ("en", BENIN, "lundi 10h", "2025-05-12 10:00", "2025-05-12 10:30", True),  # another language still read
    ],
)
def test_days_and_times_in_three_languages(language, zone, text, start, end, exact):
    when = parse_when(text, language, zone, WEDNESDAY_10_IN_COTONOU)
    assert when.start.strftime("%Y-%m-%d %H:%M") == start and when.end.strftime("%Y-%m-%d %H:%M") == end
    assert when.exact is exact and str(when.start.tzinfo) == zone


@pytest.mark.parametrize("language, text", [("fr", "n'importe quoi"), ("es", "no sé"), ("en", "whenever"), ("en", "")])
def test_what_is_not_a_day_is_none(language, text):
    assert parse_when(text, language, BENIN, WEDNESDAY_10_IN_COTONOU) is None


def test_slot_titles_are_short_and_in_the_language():
    slots = [datetime(2025, 5, 12, 13, tzinfo=timezone.utc), datetime(2025, 5, 12, 13, 30, tzinfo=timezone.utc)]
    assert [plain(t) for _, t in slot_options(slots, BENIN, "fr")] == ["lun. 14:00", "lun. 14:30"]
    assert [plain(t) for _, t in slot_options(slots, BENIN, "en")] == ["Mon 2:00 PM", "Mon 2:30 PM"]
    assert [v for v, _ in slot_options(slots, BENIN, "en")] == ["2025-05-12T13:00:00Z", "2025-05-12T13:30:00Z"]
    # the same weekday twice (today and in a week): the day of the month tells them apart
    week = [slots[0], slots[0] + timedelta(days=7)]
    assert [plain(t) for _, t in slot_options(week, GUATEMALA, "es")] == ["lun 12 7:00 a. m.", "lun 19 7:00 a. m."]
    assert all(len(t) <= 20 for _, t in slot_options(week, GUATEMALA, "es"))


# --- the journey -----------------------------------------------------------------------------------


async def test_ask_city_list_stores_pick_one_book_and_get_an_sms(operator, domain, bss, monkeypatch):
    # a line without a city on record: the journey asks where
    line_of = ActionBookAppointment.line_of
    monkeypatch.setattr(
        ActionBookAppointment,
        "line_of",
        staticmethod(lambda identity: dataclasses.replace(line_of(identity), characteristics={})),
    )
    chat = Chat(domain, f"line:{JOHN}", "en")
    assert await chat.say("book an appointment", "book_appointment") == "In which city or neighbourhood?"
    text = await chat.say("Cotonou")
    assert text.splitlines() == [
        "Our stores in Cotonou:",
        "1. Boutique Cotonou Cadjèhoun, Boulevard de France, Cadjèhoun, Cotonou",
        "2. Boutique Cotonou Ganhi, Avenue Clozel, Ganhi, Cotonou",
        "Which one?",
    ]
    assert chat.values == ["BJ-COT-CADJEHOUN", "BJ-COT-GANHI"]
    text = await chat.press("Boutique Cotonou Ganhi")
    assert text.startswith("Boutique Cotonou Ganhi: pick a time")
    free = [s.strftime("%Y-%m-%dT%H:%M:%SZ") for s in bss.free_slots("BJ-COT-GANHI")]
    assert chat.values == free[:8]  # the earliest ones
    assert all(len(b["title"]) <= 20 for b in chat.buttons)

    chosen = chat.values[2]
    text = await chat.press(index=2)
    when = local(chosen, BENIN)
    assert text.startswith("Booked ✅")
    assert f"{when:%A}, {when:%B} {when.day} at {when.strftime('%I:%M %p').lstrip('0')}" in text
    assert "Boutique Cotonou Ganhi, Avenue Clozel, Ganhi, Cotonou" in text
    assert "Confirmation sent by SMS to +229 •• •• •• 00 05." in text and chat.ended

    mine = bss.appointments("IND-0005")
    assert len(mine) == 1 and mine[0].store_id == "BJ-COT-GANHI" and mine[0].start == start(chosen)
    assert f"Ref. {mine[0].id}" in text
    sms = sms_to(operator, JOHN)[-1]["text"]
    assert sms.startswith("Appointment confirmed on") and mine[0].id in sms and "Boutique Cotonou Ganhi" in sms


async def test_the_line_city_is_a_suggestion_and_a_number_picks_a_store(operator, domain, bss):
    chat = Chat(domain, f"line:{AWA}", "fr")
    text = await chat.say("je veux un rendez-vous", "book_appointment")
    assert text.startswith("Près de chez vous, à Cotonou :") and text.endswith("ou écrivez une autre ville.")
    text = await chat.say("2")  # the second store of the list, typed
    assert text.startswith("Boutique Cotonou Ganhi : choisissez une heure")
    text = await chat.say("Parakou")  # another city typed instead of a time: not a day...
    assert "Je n'ai pas compris le jour" in text


async def test_another_city_typed_instead_of_a_suggested_store(operator, domain):
    chat = Chat(domain, f"line:{AWA}", "fr")
    await chat.say("rdv", "book_appointment")
    text = await chat.say("Parakou")  # a single store there: chosen at once
    assert text.startswith("Boutique Parakou : choisissez une heure") and len(chat.buttons) == 8


WEEKDAYS = {
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}


def open_day(zone: str):
    """The first weekday at least two days ahead in `zone`: stores keep their weekday hours (from 08:00) then,
    not Saturday's shorter ones or Sunday's closing, whatever day the test runs."""
    day = datetime.now(timezone.utc).astimezone(pytz.timezone(zone)).date() + timedelta(days=2)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


@pytest.mark.parametrize(
    "subject, party, language, words, city, zone, hour, shown, sms_start",
    [
        (f"line:{AWA}", "IND-0001", "fr", "{day} à 10h", "Cadjèhoun", BENIN, 10, "10:00", "RDV confirmé le {day}"),
        (
            f"line:{CARLOS}",
            "IND-0002",
            "es",
            "el {day} a las 3",
            "zona 10",
            GUATEMALA,
            15,
            "3:00 p. m.",
            "Cita confirmada el {day}",
        ),
        (
            f"line:{JOHN}",
            "IND-0005",
            "en",
            "{day} at 11am",
            "Ganhi",
            BENIN,
            11,
            "11:00 AM",
            "Appointment confirmed on {day}",
        ),
    ],
)
async def test_a_typed_day_and_time_books_that_slot(
    operator, domain, bss, subject, party, language, words, city, zone, hour, shown, sms_start
):
    day = open_day(zone)
    name = WEEKDAYS[language][day.weekday()]
    chat = Chat(domain, subject, language)
    text = await chat.say(
        f"appointment {city} {words.format(day=name)}", "book_appointment", city=city, date=words.format(day=name)
    )
    assert text.startswith(("C'est réservé", "Listo", "Booked")) and chat.ended
    assert name in text and f" {shown}\n" in text
    [booked] = bss.appointments(party)
    assert booked.start.astimezone(pytz.timezone(zone)).replace(tzinfo=None) == datetime.combine(day, time(hour))
    assert sms_to(operator, subject.split(":")[1])[-1]["text"].startswith(sms_start.format(day=name))


@pytest.mark.parametrize(
    "language, words, header, morning",
    [
        ("es", "mañana", "Tienda Zona 10: elija una hora", False),
        ("en", "tomorrow morning", "Tienda Zona 10: pick a time", True),
        ("fr", "demain matin", "Tienda Zona 10 : choisissez une heure", True),
    ],
)
async def test_a_typed_day_offers_the_free_times_of_that_day(operator, domain, language, words, header, morning):
    chat = Chat(domain, f"line:{CARLOS}", language)
    await chat.say("cita", "book_appointment", city="zona 10")  # one store there: chosen at once
    text = await chat.say(words)  # typed while the slots are shown
    assert text.startswith(header)
    tomorrow = (datetime.now(timezone.utc).astimezone(pytz.timezone(GUATEMALA)) + timedelta(days=1)).date()
    offered = [local(v, GUATEMALA) for v in chat.values]
    assert offered and all(o.date() == tomorrow for o in offered)
    assert all(o.hour < 12 for o in offered) or not morning


async def test_a_day_typed_as_a_new_request_while_the_slots_are_shown_answers_them(operator, domain, bss):
    chat = Chat(domain, f"line:{CARLOS}", "es")
    await chat.say("cita", "book_appointment", city="zona 10")
    # NLU may take "cita mañana a las 10" for the request itself: it still answers the question asked
    text = await chat.say("cita mañana a las 10", "book_appointment", date="mañana a las 10")
    assert text.startswith("Listo, su cita está reservada ✅") and " a las 10:00 a. m.\n" in text
    tomorrow = datetime.now(timezone.utc).astimezone(pytz.timezone(GUATEMALA)).date() + timedelta(days=1)
    [booked] = bss.appointments("IND-0002")
    assert booked.store_id == "GT-GUA-ZONA10"
    assert booked.start.astimezone(pytz.timezone(GUATEMALA)).replace(tzinfo=None) == datetime.combine(
        tomorrow, time(10)
    )


async def test_a_time_that_is_not_free_offers_the_nearest(operator, domain):
    day = open_day(BENIN)
    name = WEEKDAYS["fr"][day.weekday()]
    chat = Chat(domain, f"line:{AWA}", "fr")
    text = await chat.say(f"rdv à Cadjèhoun {name} à 7h", "book_appointment", city="Cadjèhoun", date=f"{name} à 7h")
    assert text.startswith(f"Pas de place libre le {name} ") and ", 07:00. Les heures les plus proches" in text
    offered = [local(v, BENIN) for v in chat.values]  # the store opens at 8:00
    assert [o.strftime("%H:%M") for o in offered] == [
        "08:00",
        "08:30",
        "09:00",
        "09:30",
        "10:00",
        "10:30",
        "11:00",
        "11:30",
    ]
    assert all(o.date() == day for o in offered) and not chat.ended


async def test_reschedule_an_upcoming_appointment(operator, domain, bss):
    first = bss.free_slots("BJ-PORTO-NOVO")[0]
    booked = bss.book_appointment(
        "BJ-PORTO-NOVO", first, {"id": "IND-0001", "role": "customer"}, AWA, "SIM", new_idempotency_key()
    )
    chat = Chat(domain, f"line:{AWA}", "fr")
    text = await chat.say("je veux un rendez-vous", "book_appointment")
    assert text.startswith("Vous avez déjà un rendez-vous le ") and "Boutique Porto-Novo, Avenue Jean-Paul II" in text
    assert [plain(b["title"]) for b in chat.buttons] == ["Changer l'heure", "Annuler le RDV", "Un autre RDV"]
    text = await chat.press("Changer l'heure")
    assert text.startswith("Boutique Porto-Novo : choisissez une heure") and start(chat.values[0]) != first
    new = chat.values[3]
    text = await chat.press(index=3)
    assert text.startswith("C'est changé ✅") and f"Réf. {booked.id}" in text and chat.ended
    assert [(a.id, a.start) for a in bss.appointments("IND-0001")] == [(booked.id, start(new))]
    assert first in bss.free_slots("BJ-PORTO-NOVO")
    assert sms_to(operator, AWA)[-1]["text"].startswith("RDV déplacé au ")


async def test_cancel_an_upcoming_appointment_after_a_yes(operator, domain, bss):
    slot = bss.free_slots("GT-GUA-ZONA10")[0]
    bss.book_appointment(
        "GT-GUA-ZONA10", slot, {"id": "IND-0002", "role": "customer"}, CARLOS, "SIM", new_idempotency_key()
    )
    chat = Chat(domain, f"line:{CARLOS}", "es")
    assert (await chat.say("quiero una cita", "book_appointment")).startswith("Ya tiene una cita el ")
    text = await chat.say("cancelar")  # the button's title, typed
    assert text.startswith("¿Cancelar su cita del ") and "(Tienda Zona 10)" in text
    assert [plain(b["title"]) for b in chat.buttons] == ["Sí, cancelarla", "No, mantenerla"]
    text = await chat.press("Sí, cancelarla")
    assert text.startswith("Su cita del ") and "quedó cancelada" in text and chat.ended
    assert bss.appointments("IND-0002") == [] and slot in bss.free_slots("GT-GUA-ZONA10")
    assert "fue cancelada" in sms_to(operator, CARLOS)[-1]["text"]


async def test_keep_the_appointment_when_the_customer_says_no(operator, domain, bss):
    slot = bss.free_slots("BJ-PARAKOU")[0]
    bss.book_appointment("BJ-PARAKOU", slot, {"id": "IND-0005", "role": "customer"}, JOHN, "SIM", new_idempotency_key())
    chat = Chat(domain, f"line:{JOHN}", "en")
    await chat.say("appointment", "book_appointment")
    await chat.press("Cancel it")
    text = await chat.say("no")
    assert text.startswith("OK, your appointment stays on") and chat.ended
    assert len(bss.appointments("IND-0005")) == 1


async def test_two_customers_pick_the_same_slot_the_second_hears_it_was_taken(operator, domain, bss):
    awa, john = Chat(domain, f"line:{AWA}", "fr", sender="awa"), Chat(domain, f"line:{JOHN}", "en", sender="john")
    for chat in (awa, john):
        await chat.say("appointment", "book_appointment", city="Ganhi")
    assert awa.values == john.values
    slot = john.values[0]
    assert (await awa.press(index=0)).startswith("C'est réservé ✅")
    text = await john.press(index=0)
    assert text.startswith("Sorry, someone else just took that time. Still free at Boutique Cotonou Ganhi:")
    assert slot not in john.values and john.values == [
        s.strftime("%Y-%m-%dT%H:%M:%SZ") for s in bss.free_slots("BJ-COT-GANHI")[:8]
    ]
    assert not john.ended and bss.appointments("IND-0005") == []
    assert (await john.press(index=0)).startswith("Booked ✅")


async def test_a_slot_already_held_by_the_same_customer_is_their_booking(operator, domain, bss):
    # the first attempt got through but its answer was lost: pressing the slot again confirms it, once
    chat = Chat(domain, f"line:{JOHN}", "en")
    await chat.say("appointment", "book_appointment", city="Parakou")
    slot = start(chat.values[1])
    first = bss.book_appointment(
        "BJ-PARAKOU", slot, {"id": "IND-0005", "role": "customer"}, JOHN, "SIM", new_idempotency_key()
    )
    text = await chat.press(index=1)
    assert text.startswith("Booked ✅") and f"Ref. {first.id}" in text
    assert [a.id for a in bss.appointments("IND-0005")] == [first.id]


async def test_a_time_outside_the_agenda_is_refused_with_the_free_ones(operator, domain):
    chat = Chat(domain, f"line:{JOHN}", "en")
    await chat.say("appointment", "book_appointment", city="Parakou")
    night = (start(chat.values[0]) + timedelta(days=1)).replace(hour=2, minute=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = await chat.say(f'/book_appointment{{"option": "{night}"}}', "book_appointment", option=night)
    assert text.startswith("That time isn't offered at Boutique Parakou. Pick a free time:")
    assert len(chat.values) == 8 and not chat.ended


async def test_an_unknown_city_is_said_and_asked_again(operator, domain):
    chat = Chat(domain, f"line:{AWA}", "fr")
    text = await chat.say("rdv à Lagos", "book_appointment", city="Lagos")
    assert text == "Nous n'avons pas de boutique à Lagos. Choisissez une ville ou écrivez un autre quartier :"
    titles = [b["title"] for b in chat.buttons]  # Benin's cities first for a French conversation
    assert set(titles[:3]) == {"Cotonou", "Porto-Novo", "Parakou"} and "Guatemala" in titles[3:]
    text = await chat.press("Parakou")
    assert text.startswith("Boutique Parakou : choisissez une heure")


async def test_a_home_contract_books_without_sms(operator, domain, bss):
    chat = Chat(domain, "contract:HG-100004", "es")
    text = await chat.say("cita", "book_appointment")
    assert text.startswith("Cerca de usted, en Mixco:")
    await chat.press("Tienda Mixco")
    text = await chat.press(index=0)
    assert text.startswith("Listo, su cita está reservada ✅") and "SMS" not in text and chat.ended
    assert len(bss.appointments("IND-0004")) == 1


async def test_a_forged_appointment_id_is_not_cancelled(operator, domain, bss):
    slot = bss.free_slots("BJ-PARAKOU")[0]
    other = bss.book_appointment(
        "BJ-PARAKOU", slot, {"id": "IND-0005", "role": "customer"}, JOHN, "SIM", new_idempotency_key()
    )
    chat = Chat(domain, f"line:{AWA}", "en")
    chat.slots["journey_draft"] = {
        "journey": "book_appointment",
        "at": datetime.now(timezone.utc).timestamp(),
        "values": {"mode": "cancel", "appointment": other.id, "confirm": "yes"},
    }
    text = await chat.say('/book_appointment{"option": "yes"}', "book_appointment", option="yes")
    assert text == "That appointment no longer exists or was already cancelled."
    assert [a.id for a in bss.appointments("IND-0005")] == [other.id]


async def test_the_sandbox_down_gives_the_backend_unavailable_message(operator, domain):
    requests.post(f"{operator}/_sandbox/faults", json={"service": "bss", "status": 503, "count": 20}, timeout=5)
    chat = Chat(domain, f"line:{JOHN}", "en")
    text = await chat.say("appointment", "book_appointment")
    assert text.startswith("Our systems aren't responding")


async def test_not_identified_is_sent_to_identification(operator, domain):
    chat = Chat(domain, None, "fr")
    await chat.say("rdv à Cotonou demain", "book_appointment", city="Cotonou", date="demain")
    assert any(e["event"] == "followup" and e["name"] == "identify_form" for e in chat.events)
    assert chat.slots["pending_journey"] == "book_appointment"
    assert chat.slots["journey_draft"]["values"] == {"city": "Cotonou", "date": "demain"}  # kept for afterwards
    assert chat.messages == []
