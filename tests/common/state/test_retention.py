"""Housekeeping deletes what can no longer serve, and nothing a customer, a payment or a KPI still needs."""

from datetime import timedelta

import pytest

from common import clock as project_clock
from common.state import care, channel_state, claims, db, messaging, retention, voice_calls
from tests.clock import at_each_instant


def ticket(reference: str) -> dict:
    return {"subject": "s", "external_id": reference}


@at_each_instant()
def test_expired_rows_go_and_live_ones_stay(clock):
    # old: everything done and forgotten by every platform
    claims.claim("whatsapp", "wamid.old", "c", 120)
    claims.complete("whatsapp", "wamid.old")
    claims.claim("sunco", "open-old", "c", 120)  # never completed: still being handled, never pruned
    old_key = messaging.key_for("/old_payload")
    reused_key = messaging.key_for("/reused_payload")
    messaging.note_inbound("whatsapp", "22990000001", project_clock.now())
    channel_state.offer_choices("c-old", [("one", "/one")])
    sent, _ = care.enqueue("c-old", "ticket", "fp-sent", ticket, 10)
    care.mark_created(sent.reference, 17)
    waiting, _ = care.enqueue("c-old", "ticket", "fp-waiting", ticket, 10)  # Zendesk down for weeks
    voice_calls.save(voice_calls.Call("CAold", "+22990000001", "fr", voice_calls.ENDED))
    with db.session() as s, s.begin():
        moment = project_clock.now()
        s.add(
            db.OtpChallenge(
                conversation_id="c",
                msisdn="+22990000001",
                code_hash="h",
                sent_at=moment,
                expires_at=moment + timedelta(minutes=5),
            )
        )
        s.add(db.Lockout(key="otp:+22990000001", failures=0, locked_until=moment + timedelta(minutes=15)))
        s.add(db.Lockout(key="otp:+22990000002", failures=2, locked_until=None))  # counting: kept
        s.add(
            db.VerifiedIdentity(
                conversation_id="c-old",
                subject="line:+22990000001",
                method="otp",
                verified_at=moment,
                last_seen_at=moment,
            )
        )

    clock.shift(timedelta(days=40))
    assert messaging.key_for("/reused_payload") == reused_key  # sent again today
    claims.claim("whatsapp", "wamid.new", "c", 120)
    claims.complete("whatsapp", "wamid.new")
    channel_state.offer_choices("c-new", [("two", "/two")])
    voice_calls.save(voice_calls.Call("CAnew", "+22990000001", "fr", voice_calls.TALKING))

    removed = retention.prune()

    assert removed["inbound_claim"] == 1
    assert claims.claim("whatsapp", "wamid.old", "c", 120) == "claimed"  # a delivery this late is new
    assert claims.claim("whatsapp", "wamid.new", "c", 120) == "done"
    assert claims.claim("sunco", "open-old", "c", 86400 * 365) == "busy"
    assert messaging.payload_for(old_key) is None
    assert messaging.payload_for(reused_key) == "/reused_payload"
    assert messaging.last_inbound("whatsapp", "22990000001") is None
    assert channel_state.offered_choices("c-old") == []
    assert channel_state.offered_choices("c-new") == [("two", "/two")]
    assert removed["otp_challenge"] == removed["verified_identity"] == removed["lockout"] == 1
    assert removed["voice_call"] == 1 and voice_calls.find("CAold") is None and voice_calls.find("CAnew") is not None
    assert waiting.reference in care.due(10)
    with db.session() as s:
        assert s.get(care.TicketOutbox, sent.reference) is None
        assert s.get(care.TicketOutbox, waiting.reference).status == care.PENDING
        assert s.get(db.Lockout, "otp:+22990000002").failures == 2


def test_a_second_run_deletes_nothing_more(clock):
    claims.claim("payments", "evt_1", "c", 120)
    claims.complete("payments", "evt_1")
    clock.shift(timedelta(days=8))
    assert retention.prune()["inbound_claim"] == 1
    assert set(retention.prune().values()) == {0}


@pytest.mark.parametrize("days, gone", [(6, 0), (8, 1)])
def test_claims_are_kept_as_long_as_a_platform_may_redeliver(clock, days, gone):
    claims.claim("messenger", "mid.1", "c", 120)
    claims.complete("messenger", "mid.1")
    clock.shift(timedelta(days=days))
    assert retention.prune()["inbound_claim"] == gone


def test_whatsapps_limit_forgets_conversations_started_over_a_day_ago(clock):
    from common.state import channel_pace

    channel_pace.take("whatsapp", 600, "22990000001", limit=5)
    clock.shift(timedelta(hours=23))
    channel_pace.take("whatsapp", 600, "22990000002", limit=5)
    clock.shift(timedelta(hours=2))
    assert retention.prune()["whatsapp_limit_use"] == 1  # the one started 25 hours ago
    with db.session() as s:
        assert [row.wa_id for row in s.query(channel_pace.WhatsAppLimitUse)] == ["22990000002"]
