"""One claim protocol for every inbound webhook (payments, WhatsApp, Messenger, Zendesk messaging)."""

from datetime import timedelta

from common.state import claims


def test_a_claim_is_taken_once_and_taken_over_only_when_it_went_stale(clock):
    assert claims.claim("payments", "evt_9", "c", 120) == "claimed"
    assert claims.claim("payments", "evt_9", "c", 120) == "busy"
    clock.shift(timedelta(minutes=5))  # the first handler died
    assert claims.claim("payments", "evt_9", "c", 120) == "claimed"
    assert claims.claim("payments", "evt_9", "c", 120) == "busy"
    claims.complete("payments", "evt_9")
    assert claims.claim("payments", "evt_9", "c", 120) == "done"
    claims.release("payments", "evt_9")  # a completed item is never released
    assert claims.claim("payments", "evt_9", "c", 120) == "done"


def test_a_released_claim_can_be_taken_again():
    assert claims.claim("whatsapp", "wamid.8", "c", 120) == "claimed"
    claims.release("whatsapp", "wamid.8")
    assert claims.claim("whatsapp", "wamid.8", "c", 120) == "claimed"


def test_the_same_id_from_two_sources_is_two_items():
    assert claims.claim("whatsapp", "1", "c", 120) == "claimed"
    assert claims.claim("messenger", "1", "c", 120) == "claimed"
