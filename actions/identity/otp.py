"""One-time codes by SMS: 6 digits, 5 minutes, 3 tries then a 15-minute lock, throttled resends.

Codes are stored as an HMAC with a server secret (a leaked table gives nothing away: six digits
alone would be brute-forced from a plain hash) and compared in constant time.
"""

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from common import config
from common.clock import aware, now
from common.state.db import Lockout, OtpChallenge, session


def _seconds_until(moment: datetime) -> int:
    return max(1, math.ceil((moment - now()).total_seconds()))


def code_hash(msisdn: str, code: str) -> str:
    return hmac.new(config.OTP_SECRET.encode(), f"{msisdn}:{code}".encode(), hashlib.sha256).hexdigest()


@dataclass
class SendDecision:
    allowed: bool
    reason: str = ""  # locked, too_soon, too_many
    wait_seconds: int = 0


@dataclass
class CheckResult:
    ok: bool
    reason: str = ""  # wrong, expired, locked, none
    attempts_left: int = 0


def locked_until(key: str) -> Optional[datetime]:
    with session() as s:
        row = s.get(Lockout, key)
        until = aware(row.locked_until) if row else None
        return until if until and until > now() else None


def record_failure(key: str, max_failures: int, lock_minutes: int) -> int:
    """Counts one failure; answers how many tries are left (0: the key is now locked).

    Several action servers may count failures for one number at once: the row is created first if missing (the
    loser of that race just finds it), then counted under a row lock, so no failure is lost."""
    with session() as s:
        try:
            with s.begin():
                if s.get(Lockout, key) is None:
                    s.add(Lockout(key=key, failures=0))
        except IntegrityError:
            pass  # another action server created it
    with session() as s, s.begin():
        row = s.get(Lockout, key, with_for_update=True)
        row.failures += 1
        if row.failures >= max_failures:
            row.failures, row.locked_until = 0, now() + timedelta(minutes=lock_minutes)
            return 0
        return max_failures - row.failures


def clear_failures(key: str) -> None:
    with session() as s, s.begin():
        row = s.get(Lockout, key)
        if row:
            s.delete(row)


def may_send(msisdn: str) -> SendDecision:
    until = locked_until(f"otp:{msisdn}")
    if until:
        return SendDecision(False, "locked", _seconds_until(until))
    with session() as s:
        recent = s.scalars(
            select(OtpChallenge.sent_at).where(
                OtpChallenge.msisdn == msisdn, OtpChallenge.sent_at > now() - timedelta(hours=1)
            )
        ).all()
    recent = [aware(t) for t in recent]
    if len(recent) >= config.OTP_MAX_SENDS_PER_HOUR:
        return SendDecision(False, "too_many", _seconds_until(min(recent) + timedelta(hours=1)))
    if recent and max(recent) > now() - timedelta(seconds=config.OTP_RESEND_SECONDS):
        return SendDecision(
            False, "too_soon", _seconds_until(max(recent) + timedelta(seconds=config.OTP_RESEND_SECONDS))
        )
    return SendDecision(True)


def issue(conversation_id: str, msisdn: str, purpose: str = "login") -> str:
    """Creates a code for this conversation and number (earlier open codes stop working); returns it to send."""
    code = f"{secrets.randbelow(10**6):06d}"
    with session() as s, s.begin():
        for old in s.scalars(
            select(OtpChallenge).where(OtpChallenge.conversation_id == conversation_id, OtpChallenge.closed.is_(False))
        ):
            old.closed = True
        s.add(
            OtpChallenge(
                conversation_id=conversation_id,
                msisdn=msisdn,
                code_hash=code_hash(msisdn, code),
                purpose=purpose,
                sent_at=now(),
                expires_at=now() + timedelta(seconds=config.OTP_TTL_SECONDS),
            )
        )
    return code


def open_challenge(conversation_id: str) -> Optional[OtpChallenge]:
    with session() as s:
        return s.scalars(
            select(OtpChallenge)
            .where(OtpChallenge.conversation_id == conversation_id, OtpChallenge.closed.is_(False))
            .order_by(OtpChallenge.id.desc())
        ).first()


def check(conversation_id: str, typed: str) -> CheckResult:
    """Checks a typed code against this conversation's open challenge."""
    challenge = open_challenge(conversation_id)
    if challenge is None:
        return CheckResult(False, "none")
    lock_key = f"otp:{challenge.msisdn}"
    if locked_until(lock_key):
        return CheckResult(False, "locked")
    with session() as s, s.begin():
        row = s.get(OtpChallenge, challenge.id, with_for_update=True)  # one check at a time per code
        if row.closed:  # used or closed by a check that ran meanwhile
            return CheckResult(False, "none")
        if aware(row.expires_at) <= now():
            row.closed = True
            return CheckResult(False, "expired")
        ok = hmac.compare_digest(row.code_hash, code_hash(row.msisdn, typed.strip()))
        row.attempts += 1
        row.closed = ok
    if ok:
        clear_failures(lock_key)
        return CheckResult(True)
    # Failures count per number, across conversations: a new chat does not reset them.
    left = record_failure(lock_key, config.OTP_MAX_ATTEMPTS, config.OTP_LOCK_MINUTES)
    if left == 0:
        with session() as s, s.begin():
            s.get(OtpChallenge, challenge.id).closed = True
        return CheckResult(False, "locked")
    return CheckResult(False, "wrong", left)
