"""The BSS adapter's store appointments (TMF674 stores, TMF646 appointments) against the sandbox, over real HTTP."""

import threading
from datetime import datetime, timedelta, timezone

import pytest
import requests

from clients import BackendError, BackendUnavailable
from clients.bss import BSSClient, new_idempotency_key

AWA = {"id": "IND-0001", "role": "customer", "name": "Awa Houngbédji", "@referredType": "Individual"}
JOHN = {"id": "IND-0005", "role": "customer", "name": "John Adebayo", "@referredType": "Individual"}


@pytest.fixture
def bss(operator):
    return BSSClient()


def book(bss, store_id, start, party=AWA, msisdn="+2290197000001"):
    return bss.book_appointment(store_id, start, party, msisdn, "SIM swap", new_idempotency_key())


def test_a_store_by_its_id_with_its_time_zone(bss):
    store = bss.store("BJ-PARAKOU")
    assert store.name == "Boutique Parakou" and store.city == "Parakou" and store.time_zone == "Africa/Porto-Novo"
    assert bss.store("GT-MIXCO").time_zone == "America/Guatemala"
    assert bss.store("NOPE") is None
    assert bss.store("../productInventory/v4/product/HG-100004") is None  # never a path of another resource


def test_free_slots_are_aware_sorted_thirty_minute_starts_in_the_next_seven_days(bss):
    slots = bss.free_slots("BJ-COT-GANHI")
    now = datetime.now(timezone.utc)
    assert len(slots) > 50 and slots == sorted(slots)
    assert all(s.tzinfo is not None and now < s <= now + timedelta(days=7) and s.minute in (0, 30) for s in slots)


def test_free_slots_within_a_window(bss):
    everything = bss.free_slots("GT-MIXCO")
    start, end = everything[2], everything[6]
    window = bss.free_slots("GT-MIXCO", start, end)
    assert window[0] == start and all(start <= s and s + timedelta(minutes=30) <= end for s in window)


def test_booking_then_listing_rescheduling_and_cancelling(bss):
    first, second = bss.free_slots("BJ-PORTO-NOVO")[:2]
    appointment = book(bss, "BJ-PORTO-NOVO", first)
    assert appointment.id.startswith("APT-") and appointment.status == "confirmed"
    assert appointment.store_id == "BJ-PORTO-NOVO" and appointment.store_name == "Boutique Porto-Novo"
    assert appointment.start == first
    assert first not in bss.free_slots("BJ-PORTO-NOVO")
    assert [a.id for a in bss.appointments("IND-0001")] == [appointment.id]
    assert bss.appointments("IND-0005") == []

    moved = bss.reschedule_appointment(appointment.id, second)
    assert moved.id == appointment.id and moved.start == second and moved.status == "confirmed"
    assert first in bss.free_slots("BJ-PORTO-NOVO") and second not in bss.free_slots("BJ-PORTO-NOVO")

    cancelled = bss.cancel_appointment(appointment.id)
    assert cancelled.status == "cancelled" and second in bss.free_slots("BJ-PORTO-NOVO")
    assert bss.appointments("IND-0001") == []
    with pytest.raises(BackendError) as refused:
        bss.cancel_appointment(appointment.id)
    assert refused.value.code == "ERR_NOT_MODIFIABLE" and refused.value.status == 409


def test_the_appointments_of_a_party_are_the_confirmed_future_ones_soonest_first(bss):
    slots = bss.free_slots("GT-GUA-ZONA10")
    later = book(bss, "GT-GUA-ZONA10", slots[5])
    sooner = book(bss, "BJ-PARAKOU", bss.free_slots("BJ-PARAKOU")[1])
    book(bss, "GT-GUA-ZONA10", slots[3], party=JOHN, msisdn="+2290196000005")
    bss.cancel_appointment(book(bss, "GT-GUA-ZONA10", slots[7]).id)
    mine = bss.appointments("IND-0001")
    assert {a.id for a in mine} == {later.id, sooner.id} and mine == sorted(mine, key=lambda a: a.start)
    assert bss.appointments("IND-0001", since=max(a.start for a in mine)) == [max(mine, key=lambda a: a.start)]


def test_a_taken_slot_and_a_slot_outside_the_agenda_are_refused(bss):
    slot = bss.free_slots("GT-MIXCO")[0]
    book(bss, "GT-MIXCO", slot)
    with pytest.raises(BackendError) as taken:
        book(bss, "GT-MIXCO", slot, party=JOHN)
    assert taken.value.code == "ERR_SLOT_TAKEN" and taken.value.status == 409
    with pytest.raises(BackendError) as invalid:
        book(bss, "GT-MIXCO", slot + timedelta(minutes=10))
    assert invalid.value.code == "ERR_INVALID_SLOT" and invalid.value.status == 400


def test_two_customers_booking_one_slot_at_once_exactly_one_wins(operator):
    clients = [BSSClient(), BSSClient()]
    slot = clients[0].free_slots("BJ-COT-CADJEHOUN")[0]
    barrier, results = threading.Barrier(2), {}

    def attempt(n, party):
        barrier.wait()
        try:
            results[n] = book(clients[n], "BJ-COT-CADJEHOUN", slot, party=party)
        except BackendError as error:
            results[n] = error

    threads = [threading.Thread(target=attempt, args=(n, party)) for n, party in enumerate((AWA, JOHN))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    booked = [r for r in results.values() if not isinstance(r, Exception)]
    refused = [r for r in results.values() if isinstance(r, BackendError)]
    assert len(booked) == 1 and len(refused) == 1 and refused[0].code == "ERR_SLOT_TAKEN"
    holders = clients[0].appointments("IND-0001") + clients[0].appointments("IND-0005")
    assert [a.id for a in holders] == [booked[0].id]


def test_an_unavailable_agenda_raises_backend_unavailable(bss, operator):
    requests.post(f"{operator}/_sandbox/faults", json={"service": "bss", "status": 503, "count": 10}, timeout=5)
    with pytest.raises(BackendUnavailable):
        bss.free_slots("BJ-PARAKOU")
