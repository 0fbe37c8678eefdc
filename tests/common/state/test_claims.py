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


def test_pruning_forgets_only_completed_claims_older_than_asked(clock):
    for item in ("old-done", "old-open"):
        claims.claim("sunco", item, "c", 120)
    claims.complete("sunco", "old-done")
    clock.shift(timedelta(days=8))
    claims.claim("sunco", "new", "c", 120)
    claims.complete("sunco", "new")
    assert claims.prune(timedelta(days=7)) == 1
    assert claims.claim("sunco", "old-done", "c", 120) == "claimed"  # forgotten: a delivery this late is new
    assert claims.claim("sunco", "new", "c", 120) == "done"
    assert claims.claim("sunco", "old-open", "c", 86400 * 30) == "busy"  # never pruned while not completed
