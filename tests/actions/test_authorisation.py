"""Account actions trust only the server-side identity: forged slots and typed shortcuts get nothing."""

from datetime import timedelta

from actions.identity import otp, sessions
from actions.journeys.check_balance import ActionCheckBalance
from common import config
from tests.actions.chat import disclosed
from tests.conftest import make_tracker, user_event


async def test_a_typed_shortcut_with_someone_elses_number_gets_no_balance(operator, dispatcher, domain):
    forged = user_event(
        '/check_balance{"phone_number":"+50255500002"}',
        "check_balance",
        [{"entity": "phone_number", "value": "+50255500002"}],
    )
    tracker = make_tracker([forged], slots={"phone_number": "+50255500002", "identified": True, "language": "es"})
    events = await ActionCheckBalance().run(dispatcher, tracker, domain)
    assert "Q35.50" not in disclosed(dispatcher)
    assert any(e["event"] == "followup" and e["name"] == "identify_form" for e in events)


async def test_holding_one_line_never_opens_another(operator, dispatcher, domain):
    sessions.verify("test-user", "line:+2290197000001", "otp")
    assert sessions.authorise("test-user", "line:+50255500002") is None
    tracker = make_tracker(
        [user_event("saldo", "check_balance")], slots={"phone_number": "+50255500002", "language": "es"}
    )
    await ActionCheckBalance().run(dispatcher, tracker, domain)
    text = disclosed(dispatcher)
    assert "Q35.50" not in text and "2.500 FCFA" in text.replace(",", ".").replace("\u202f", ".").replace("\xa0", ".")


async def test_an_idle_identity_expires(operator, dispatcher, domain, monkeypatch, clock):
    sessions.verify("test-user", "line:+2290197000001", "otp")
    later = otp.now() + timedelta(minutes=config.IDENTITY_IDLE_MINUTES + 1)
    clock.move_to(later)
    assert sessions.authorise("test-user") is None
    await ActionCheckBalance().run(dispatcher, make_tracker([], slots={"identified": True, "language": "fr"}), domain)
    assert "session a expiré" in disclosed(dispatcher)


async def test_a_suspended_line_is_refused_politely(operator, dispatcher, domain):
    sessions.verify("test-user", "line:+50255500007", "otp")
    await ActionCheckBalance().run(dispatcher, make_tracker([], slots={"language": "es"}), domain)
    assert "suspendida" in disclosed(dispatcher)
    assert dispatcher.messages[-1]["buttons"][0]["payload"] == "/human_handoff"


async def test_a_bss_outage_gives_a_clear_answer(operator, dispatcher, domain):
    import requests

    sessions.verify("test-user", "line:+2290197000001", "otp")
    requests.post(f"{operator}/_sandbox/faults", json={"service": "bss", "status": 503, "count": 20}, timeout=5)
    await ActionCheckBalance().run(dispatcher, make_tracker([], slots={"language": "en"}), domain)
    assert "Our systems aren't responding" in disclosed(dispatcher)


def whatsapp_tracker(sender, language="es"):
    event = user_event("saldo", "check_balance")
    event["input_channel"] = "whatsapp"
    return make_tracker([event], slots={"language": language}, sender_id=sender)


async def test_whatsapp_proves_the_senders_own_number(operator, dispatcher, domain):
    await ActionCheckBalance().run(dispatcher, whatsapp_tracker("50255500002"), domain)
    assert "Q35.50" in disclosed(dispatcher)
    assert sessions.authorise("50255500002").method == "channel"


async def test_another_channel_id_that_looks_like_a_number_proves_nothing(operator, dispatcher, domain):
    tracker = make_tracker([user_event("saldo", "check_balance")], slots={"language": "es"}, sender_id="50255500002")
    await ActionCheckBalance().run(dispatcher, tracker, domain)
    assert "Q35.50" not in disclosed(dispatcher)


async def test_reidentifying_after_expiry_starts_from_scratch(operator, dispatcher, domain):
    tracker = make_tracker(
        [],
        slots={
            "identified": True,
            "language": "en",
            "phone_number": "+2290197000001",
            "otp_code": "verified",
            "identify_status": "verified",
        },
    )
    events = await ActionCheckBalance().run(dispatcher, tracker, domain)
    cleared = {e["name"] for e in events if e["event"] == "slot" and e["value"] is None}
    assert {"phone_number", "otp_code", "identify_status"} <= cleared
