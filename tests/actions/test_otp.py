"""One-time codes: hashed, 5-minute expiry, 3 tries then a 15-minute lock, throttled resends."""

from datetime import timedelta

import pytest

from actions.identity import otp
from common import config
from common.state.db import OtpChallenge, session
from tests.clock import at_each_instant

pytestmark = at_each_instant()  # date-sensitive: each day of a week, a month end, around midnight

NUMBER = "+2290197000001"


def test_the_code_is_stored_only_as_a_keyed_hash():
    code = otp.issue("conv", NUMBER)
    with session() as s:
        row = s.query(OtpChallenge).one()
    assert code not in row.code_hash and len(row.code_hash) == 64
    assert row.code_hash == otp.code_hash(NUMBER, code)


def test_the_right_code_verifies_once():
    code = otp.issue("conv", NUMBER)
    assert otp.check("conv", code).ok
    assert otp.check("conv", code).reason == "none"


def test_a_code_belongs_to_its_conversation():
    code = otp.issue("conv", NUMBER)
    assert otp.check("another-conversation", code).reason == "none"


def test_expired_after_five_minutes(clock):
    code = otp.issue("conv", NUMBER)
    clock.shift(timedelta(seconds=config.OTP_TTL_SECONDS + 1))
    assert otp.check("conv", code).reason == "expired"


def test_three_wrong_codes_lock_the_number_for_fifteen_minutes(clock):
    code = otp.issue("conv", NUMBER)
    wrong = "000000" if code != "000000" else "111111"
    assert otp.check("conv", wrong).attempts_left == 2
    assert otp.check("conv", wrong).attempts_left == 1
    assert otp.check("conv", wrong).reason == "locked"
    assert not otp.may_send(NUMBER).allowed and otp.may_send(NUMBER).reason == "locked"
    clock.shift(timedelta(minutes=config.OTP_LOCK_MINUTES, seconds=1))
    assert otp.may_send(NUMBER).allowed


def test_a_new_conversation_does_not_reset_the_count():
    for conversation in ("a", "b", "c"):
        otp.issue(conversation, NUMBER)
        result = otp.check(conversation, "999999x"[:6])
    assert result.reason == "locked"


def test_resending_is_throttled(clock):
    otp.issue("conv", NUMBER)
    decision = otp.may_send(NUMBER)
    assert not decision.allowed and decision.reason == "too_soon" and decision.wait_seconds <= config.OTP_RESEND_SECONDS
    clock.shift(timedelta(seconds=config.OTP_RESEND_SECONDS + 1))
    assert otp.may_send(NUMBER).allowed


def test_a_new_code_replaces_the_old_one(clock):
    first = otp.issue("conv", NUMBER)
    clock.shift(timedelta(seconds=61))
    second = otp.issue("conv", NUMBER)
    if first != second:
        assert otp.check("conv", first).reason == "wrong"
    assert otp.check("conv", second).ok
