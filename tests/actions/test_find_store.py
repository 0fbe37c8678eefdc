"""find_store against the sandbox: stores with today's hours and open/closed in their time zone, no identity."""

from datetime import datetime, timezone

import pytest
import requests

from actions.journeys import find_store
from actions.journeys.find_store import ActionAskCity, ActionFindStore, ValidateStoreForm
from tests.conftest import make_tracker, user_event


def plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


def at(year, month, day, hour, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=timezone.utc)


async def find(dispatcher, domain, city, language):
    events = await ActionFindStore().run(
        dispatcher, make_tracker([], slots={"language": language, "city": city}), domain
    )
    return events, plain("\n".join(m.get("text") or "" for m in dispatcher.messages))


def test_names():
    assert ActionFindStore().name() == "action_find_store"
    assert ActionAskCity().name() == "action_ask_city"
    assert ValidateStoreForm().name() == "validate_store_form"


async def test_cotonou_in_french_on_a_weekday_morning(operator, dispatcher, domain, monkeypatch, clock):
    clock.move_to(at(2025, 5, 7, 9))  # Wednesday 10:00 in Cotonou (UTC+1)
    events, text = await find(dispatcher, domain, "cotonou", "fr")
    assert text.splitlines() == [
        "Nos boutiques à Cotonou :",
        "• Boutique Cotonou Cadjèhoun, Boulevard de France, Cadjèhoun, Cotonou",
        "  Aujourd'hui 08:00–19:00 · ouvert en ce moment",
        "• Boutique Cotonou Ganhi, Avenue Clozel, Ganhi, Cotonou",
        "  Aujourd'hui 08:00–18:00 · ouvert en ce moment",
    ]
    assert {"event": "slot", "timestamp": None, "name": "city", "value": None} in events


async def test_the_clock_is_the_stores_own_time_zone(operator, dispatcher, domain, monkeypatch, clock):
    # 17:30 UTC is 18:30 in Cotonou: Ganhi (until 18:00) is closed, Cadjèhoun (until 19:00) still open
    clock.move_to(at(2025, 5, 7, 17, 30))
    _, text = await find(dispatcher, domain, "Cotonou", "en")
    lines = text.splitlines()
    assert lines[0] == "Our stores in Cotonou:"
    assert lines[2] == "  Today 8:00 AM–7:00 PM · open now"  # Cadjèhoun
    assert lines[4] == "  Today 8:00 AM–6:00 PM · closed now"  # Ganhi


async def test_a_sunday_closure(operator, dispatcher, domain, monkeypatch, clock):
    clock.move_to(at(2025, 5, 11, 12))  # Sunday
    _, text = await find(dispatcher, domain, "Cotonou", "fr")
    assert text.count("Fermé aujourd'hui") == 2


async def test_a_guatemala_zone_in_spanish(operator, dispatcher, domain, monkeypatch, clock):
    clock.move_to(at(2025, 5, 10, 20))  # Saturday 14:00 in Guatemala (UTC-6)
    _, text = await find(dispatcher, domain, "zona 10", "es")
    assert text.splitlines() == [
        "Nuestras tiendas en Zona 10:",
        "• Tienda Zona 10, 6a Avenida 12-45, Zona 10, Guatemala",
        "  Hoy 9:00 a. m.–5:00 p. m. · abierta ahora",  # as Guatemala writes times (Babel es_GT)
    ]


async def test_accents_are_not_needed(operator, dispatcher, domain, monkeypatch, clock):
    clock.move_to(at(2025, 5, 7, 9))
    _, text = await find(dispatcher, domain, "CADJEHOUN", "fr")
    assert "Boutique Cotonou Cadjèhoun" in text and "Ganhi" not in text


async def test_an_unknown_city_lists_the_cities_with_stores(operator, dispatcher, domain):
    _, text = await find(dispatcher, domain, "Lagos", "fr")
    assert text == "Nous n'avons pas de boutique à Lagos. Nous en avons dans ces villes :"
    buttons = dispatcher.messages[-1]["buttons"]
    titles = [b["title"] for b in buttons]
    assert titles[:3] == ["Cotonou", "Parakou", "Porto-Novo"]  # Benin first in French
    assert set(titles) == {"Cotonou", "Porto-Novo", "Parakou", "Guatemala", "Mixco", "Quetzaltenango"}
    assert buttons[0]["payload"] == '/find_store{"city": "Cotonou"}'


async def test_an_unknown_city_in_spanish_lists_guatemala_first(operator, dispatcher, domain):
    _, text = await find(dispatcher, domain, "Madrid", "es")
    assert text.startswith("No tenemos tienda en Madrid.")
    assert dispatcher.messages[-1]["buttons"][0]["title"] == "Guatemala"


async def test_bss_down(operator, dispatcher, domain):
    requests.post(f"{operator}/_sandbox/faults", json={"service": "bss", "status": 503, "count": 20}, timeout=5)
    events, text = await find(dispatcher, domain, "Cotonou", "en")
    assert "Our systems aren't responding" in text
    assert events[0]["name"] == "city" and events[0]["value"] is None


@pytest.mark.parametrize(
    "language, question",
    [
        ("fr", "Dans quelle ville ou quel quartier ?"),
        ("es", "¿En qué ciudad o zona?"),
        ("en", "In which city or neighbourhood?"),
    ],
)
async def test_ask_city(dispatcher, domain, language, question):
    await ActionAskCity().run(dispatcher, make_tracker([], slots={"language": language}), domain)
    assert dispatcher.messages[-1]["text"] == question


def form_tracker(text, entities=None, requested="city"):
    return make_tracker([user_event(text, "inform", entities)], slots={"requested_slot": requested})


async def test_extract_city_prefers_the_entity(dispatcher, domain):
    tracker = form_tracker("à Cotonou svp", [{"entity": "city", "value": "Cotonou"}])
    assert await ValidateStoreForm().extract_city(dispatcher, tracker, domain) == {"city": "Cotonou"}


async def test_extract_city_takes_the_whole_answer(dispatcher, domain):
    assert await ValidateStoreForm().extract_city(dispatcher, form_tracker("  Zona 10 "), domain) == {"city": "Zona 10"}
    long = await ValidateStoreForm().extract_city(dispatcher, form_tracker("x" * 100), domain)
    assert long == {"city": "x" * 60}


async def test_extract_city_refuses_an_answer_without_letters(dispatcher, domain):
    assert await ValidateStoreForm().extract_city(dispatcher, form_tracker("12345"), domain) == {}
    assert await ValidateStoreForm().extract_city(dispatcher, form_tracker("/find_store"), domain) == {}


@pytest.mark.parametrize(
    "text, intent", [("bon ok merci au revoir", "goodbye"), ("non merci", "deny"), ("nada", "deny")]
)
async def test_a_no_or_a_goodbye_is_not_a_place(operator, dispatcher, domain, text, intent):
    """The form is rejected, so the rules for a no or a goodbye answer (data/rules/find_store.yml, conversation.yml)."""
    tracker = make_tracker([user_event(text, intent)], slots={"requested_slot": "city"})
    assert await ValidateStoreForm().extract_city(dispatcher, tracker, domain) == {}
    named = make_tracker([user_event("non, à Cotonou", "deny")], slots={"requested_slot": "city"})
    assert await ValidateStoreForm().extract_city(dispatcher, named, domain) == {"city": "Cotonou"}


async def test_extract_city_ignores_text_when_not_asking(dispatcher, domain):
    assert await ValidateStoreForm().extract_city(dispatcher, form_tracker("bonjour", requested=None), domain) == {}


@pytest.mark.parametrize(
    "language, header",
    [
        ("fr", "Les agences les plus proches de vous :"),
        ("es", "Las tiendas más cercanas a usted:"),
        ("en", "The stores nearest to you:"),
    ],
)
async def test_a_shared_location_lists_the_nearest_stores_with_their_distance(
    operator, dispatcher, domain, language, header
):
    shared = user_event(
        '/find_store{"location": "6.3600,2.4100"}',
        "find_store",  # central Cotonou
        [{"entity": "location", "value": "6.3600,2.4100"}],
    )
    tracker = make_tracker([shared], slots={"language": language})
    assert await ValidateStoreForm().required_slots(["city"], dispatcher, tracker, domain) == []
    await ActionFindStore().run(dispatcher, tracker, domain)
    lines = plain(dispatcher.messages[0]["text"]).splitlines()
    assert lines[0] == header
    assert "Cotonou" in lines[1] and lines[1].endswith(" km)")


async def test_a_nonsense_location_is_ignored(operator, dispatcher, domain):
    tracker = make_tracker([user_event("x", "find_store", [{"entity": "location", "value": "999,abc"}])])
    assert await ValidateStoreForm().required_slots(["city"], dispatcher, tracker, domain) == ["city"]


@pytest.mark.parametrize(
    "text, city",
    [
        ("where is the nearest store in cotonou", "Cotonou"),  # lower case: the entity extractor misses it
        ("boutique la plus proche à porto novo stp", "Porto-Novo"),
        ("une agence vers cadjehoun", "Cadjèhoun"),  # no accent typed: the neighbourhood as the gateway names it
        ("dónde hay una tienda en guatemala", "Guatemala"),
    ],
)
async def test_the_question_that_opens_the_form_names_the_place_however_it_is_written(
    operator, dispatcher, domain, text, city
):
    tracker = form_tracker(text, requested=None)
    assert await ValidateStoreForm().extract_city(dispatcher, tracker, domain) == {"city": city}


async def test_an_answer_that_names_a_known_place_among_other_words_gives_the_place(operator, dispatcher, domain):
    extracted = await ValidateStoreForm().extract_city(dispatcher, form_tracker("euh à cotonou svp"), domain)
    assert extracted == {"city": "Cotonou"}
    # no known place named: the whole answer, which the gateway may still know (an alias, a landmark)
    extracted = await ValidateStoreForm().extract_city(dispatcher, form_tracker("Xela"), domain)
    assert extracted == {"city": "Xela"}


async def test_a_question_naming_no_place_leaves_the_form_to_ask(operator, dispatcher, domain):
    tracker = form_tracker("où trouver une boutique", requested=None)
    assert await ValidateStoreForm().extract_city(dispatcher, tracker, domain) == {}
