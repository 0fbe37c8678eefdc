"""TMF674 stores and TMF646 appointments on their shared 30-minute agenda."""

import threading
from datetime import timedelta, timezone

import pytest
from zoneinfo import ZoneInfo

from tests.clock import at_each_instant
from tests.sandbox.test_bss_helpers import (  # noqa: F401
    APPOINTMENT,
    AWA,
    SEARCH_SLOT,
    SITE,
    assert_tmf_error,
    bss,
    parse,
    utcnow,
)

pytestmark = at_each_instant()  # date-sensitive: each day of a week, a month end, around midnight

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def free_slots(bss, site_id, **window):
    body = {"relatedPlace": {"id": site_id, "@referredType": "GeographicSite"}}
    if window:
        body["requestedTimeSlot"] = [{"validFor": window}]
    answer = bss.post(SEARCH_SLOT, body, key=None)
    assert answer.status_code == 201, answer.text
    return [s["validFor"]["startDateTime"] for s in answer.json()["availableTimeSlot"]]


def book(bss, site_id, start):
    return bss.post(
        APPOINTMENT,
        {
            "relatedPlace": {"id": site_id},
            "validFor": {"startDateTime": start},
            "category": "storeVisit",
            "description": "SIM swap",
            "relatedParty": [{"id": AWA, "role": "customer", "name": "Awa"}],
        },
        key=None,
    )


@pytest.mark.parametrize(
    "market, zone, cities",
    [
        ("BJ", "Africa/Porto-Novo", {"Cotonou", "Parakou", "Porto-Novo"}),
        ("GT", "America/Guatemala", {"Guatemala", "Mixco", "Quetzaltenango"}),
    ],
)
def test_at_least_three_stores_per_market_with_address_point_and_hours(bss, market, zone, cities):
    stores = [s for s in bss.get(SITE).json() if s["place"][0]["countryCode"] == market]
    assert len(stores) >= 3 and {s["place"][0]["city"] for s in stores} == cities
    for store in stores:
        place = store["place"][0]
        assert place["streetName"] and place["geographicLocation"]["geoJson"]["type"] == "Point"
        lon, lat = place["geographicLocation"]["geoJson"]["coordinates"]
        assert (0 < lon < 4 and 6 < lat < 12) if market == "BJ" else (-92 < lon < -88 and 13 < lat < 18)
        assert {c["timeZone"] for c in store["calendar"]} == {zone}
        monday = store["calendar"][0]
        assert monday["day"] == "monday" and monday["status"] == "open" and monday["hourPeriod"][0]["startHour"]


def test_stores_by_city_neighbourhood_or_nickname(bss):
    assert {s["id"] for s in bss.get(SITE, city="cotonou").json()} == {"BJ-COT-GANHI", "BJ-COT-CADJEHOUN"}
    assert [s["id"] for s in bss.get(SITE, city="Cadjehoun").json()] == ["BJ-COT-CADJEHOUN"]
    assert [s["id"] for s in bss.get(SITE, city="zona 10").json()] == ["GT-GUA-ZONA10"]
    assert bss.get(SITE, city="zona 1").json() == []
    assert [s["id"] for s in bss.get(SITE, city="Xela").json()] == ["GT-QUETZALTENANGO"]


def test_nearest_store_first(bss):
    near_mixco = bss.get(SITE, lat="14.63", lon="-90.59").json()
    assert near_mixco[0]["id"] == "GT-MIXCO" and near_mixco[1]["id"] == "GT-GUA-ZONA10"
    assert near_mixco[0]["distance"]["units"] == "km" and near_mixco[0]["distance"]["amount"] < 2
    assert [d["distance"]["amount"] for d in near_mixco] == sorted(d["distance"]["amount"] for d in near_mixco)
    assert_tmf_error(bss.get(SITE, lat="14.6"), 400, "ERR_BAD_REQUEST")


def test_free_slots_are_thirty_minutes_within_opening_hours_for_seven_days(bss):
    store = bss.get(f"{SITE}/BJ-PARAKOU").json()
    hours = {c["day"]: c.get("hourPeriod", [None])[0] for c in store["calendar"]}
    slots = free_slots(bss, "BJ-PARAKOU")
    assert len(slots) > 50
    zone = ZoneInfo("Africa/Porto-Novo")
    for text in slots:
        start = parse(text)
        assert utcnow() < start <= utcnow() + timedelta(days=7)
        local = start.astimezone(zone)
        period = hours[DAYS[local.weekday()]]
        assert period is not None, f"{text} falls on a closed day"
        assert local.minute in (0, 30)
        assert period["startHour"] <= local.strftime("%H:%M")
        assert (local + timedelta(minutes=30)).strftime("%H:%M") <= period["endHour"]
    assert not any(parse(t).astimezone(zone).weekday() == 6 for t in slots)  # closed on Sunday


def test_booking_takes_the_slot_and_a_second_booking_is_refused(bss):
    slot = free_slots(bss, "GT-MIXCO")[3]
    booked = book(bss, "GT-MIXCO", slot)
    assert booked.status_code == 201, booked.text
    appointment = booked.json()
    assert appointment["status"] == "confirmed" and appointment["validFor"]["startDateTime"] == slot
    assert parse(appointment["validFor"]["endDateTime"]) - parse(slot) == timedelta(minutes=30)
    assert slot not in free_slots(bss, "GT-MIXCO")
    body = assert_tmf_error(book(bss, "GT-MIXCO", slot), 409, "ERR_SLOT_TAKEN")
    assert "Tienda Mixco" in body["message"]
    assert book(bss, "GT-QUETZALTENANGO", free_slots(bss, "GT-QUETZALTENANGO")[3]).status_code == 201
    mine = bss.get(APPOINTMENT, **{"relatedParty.id": AWA, "status": "confirmed"}).json()
    assert len(mine) == 2


def test_two_concurrent_bookings_of_one_slot_one_wins(bss):
    slot = free_slots(bss, "BJ-COT-GANHI")[0]
    results, start = [], threading.Barrier(2)

    def attempt():
        start.wait()
        results.append(book(bss, "BJ-COT-GANHI", slot))

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(r.status_code for r in results) == [201, 409]
    assert_tmf_error(next(r for r in results if r.status_code == 409), 409, "ERR_SLOT_TAKEN")
    assert (
        len(
            [
                a
                for a in bss.get(APPOINTMENT, **{"relatedPlace.id": "BJ-COT-GANHI"}).json()
                if a["status"] == "confirmed"
            ]
        )
        == 1
    )


def test_rescheduling_moves_the_appointment_and_frees_the_old_slot(bss):
    first, second, third = free_slots(bss, "BJ-PORTO-NOVO")[:3]
    appointment = book(bss, "BJ-PORTO-NOVO", first).json()
    other = book(bss, "BJ-PORTO-NOVO", third).json()
    moved = bss.patch(f"{APPOINTMENT}/{appointment['id']}", {"validFor": {"startDateTime": second}})
    assert moved.status_code == 200 and moved.json()["validFor"]["startDateTime"] == second
    assert first in free_slots(bss, "BJ-PORTO-NOVO") and second not in free_slots(bss, "BJ-PORTO-NOVO")
    clash = bss.patch(f"{APPOINTMENT}/{appointment['id']}", {"validFor": {"startDateTime": third}})
    assert_tmf_error(clash, 409, "ERR_SLOT_TAKEN")
    assert bss.get(f"{APPOINTMENT}/{appointment['id']}").json()["validFor"]["startDateTime"] == second
    assert other["validFor"]["startDateTime"] == third


def test_cancelling_frees_the_slot_for_someone_else(bss):
    slot = free_slots(bss, "GT-GUA-ZONA10")[0]
    appointment = book(bss, "GT-GUA-ZONA10", slot).json()
    cancelled = bss.patch(f"{APPOINTMENT}/{appointment['id']}", {"status": "cancelled"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert slot in free_slots(bss, "GT-GUA-ZONA10")
    assert book(bss, "GT-GUA-ZONA10", slot).status_code == 201
    assert_tmf_error(
        bss.patch(f"{APPOINTMENT}/{appointment['id']}", {"validFor": {"startDateTime": slot}}),
        409,
        "ERR_NOT_MODIFIABLE",
    )


def test_slots_outside_the_agenda_are_invalid(bss):
    slot = parse(free_slots(bss, "GT-MIXCO")[0])
    off_grid = (slot + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert_tmf_error(book(bss, "GT-MIXCO", off_grid), 400, "ERR_INVALID_SLOT")
    past = (utcnow() - timedelta(days=1)).replace(minute=0, second=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert_tmf_error(book(bss, "GT-MIXCO", past), 400, "ERR_INVALID_SLOT")
    local_3am = (
        (utcnow().astimezone(ZoneInfo("America/Guatemala")) + timedelta(days=2))
        .replace(hour=3, minute=0, second=0, microsecond=0)
        .astimezone(timezone.utc)
        .isoformat()
    )
    assert_tmf_error(book(bss, "GT-MIXCO", local_3am), 400, "ERR_INVALID_SLOT")
    assert_tmf_error(book(bss, "NOPE", off_grid), 404, "ERR_NOT_FOUND")
    assert_tmf_error(bss.post(APPOINTMENT, {"relatedPlace": {"id": "GT-MIXCO"}}, key=None), 400, "ERR_BAD_REQUEST")
    assert_tmf_error(bss.get(f"{APPOINTMENT}/APT-NOPE"), 404, "ERR_NOT_FOUND")


def test_search_within_a_window(bss):
    everything = free_slots(bss, "GT-MIXCO")
    start, end = everything[2], everything[5]
    window = free_slots(bss, "GT-MIXCO", startDateTime=start, endDateTime=end)
    assert window[0] == start and all(start <= s < end for s in window)
