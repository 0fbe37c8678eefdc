"""Housekeeping: deletes the rows that only served to de-duplicate deliveries or route the next message, once
they cannot serve any more. Run daily (`make prune`, `python -m common.state.retention`, or the CronJob in
deploy/); safe to run from several replicas at once (each delete is one SQL statement).

Kept on purpose: pending_operation (the record of every money move and its idempotency key), nps_survey and
conversation_outcome (the KPIs), channel_link and language_preference (the customer across channels), the
campaigns and what became of their messages (campaign_recipient, campaign_delivery: their reports).
The conversation history itself is Rasa's tracker store; its retention is the operator's policy (README).
"""

import argparse
from datetime import timedelta
from typing import Dict

from sqlalchemy import and_, delete, or_

from common import clock, config
from common.state import care, db, operators, voice_calls
from common.state.channel_pace import LIMIT_WINDOW, WhatsAppLimitUse
from common.state.channel_state import OfferedChoices
from common.state.claims import InboundClaim
from common.state.messaging import ButtonPayload, MessagingWindow


def prune() -> Dict[str, int]:
    """Deletes what has expired; answers how many rows left each table."""
    now = clock.now()
    dedup = now - timedelta(days=config.DEDUP_RETENTION_DAYS)
    day_ago = now - timedelta(days=1)
    outbox = now - timedelta(days=config.TICKET_OUTBOX_RETENTION_DAYS)
    window = now - timedelta(hours=config.META_WINDOW_HOURS) - timedelta(days=config.DEDUP_RETENTION_DAYS)
    statements = {
        # platforms stop redelivering after a few days; an unfinished claim is kept (it is being handled)
        "inbound_claim": delete(InboundClaim).where(
            InboundClaim.completed_at.is_not(None), InboundClaim.completed_at < dedup
        ),
        # a button on a message that old is no longer tapped (the 24-hour window closed long ago)
        "meta_button_payload": delete(ButtonPayload).where(ButtonPayload.created_at < dedup),
        "meta_messaging_window": delete(MessagingWindow).where(MessagingWindow.last_inbound_at < window),
        "offered_choices": delete(OfferedChoices).where(OfferedChoices.offered_at < day_ago),
        # WhatsApp's messaging limit counts the last 24 hours only
        "whatsapp_limit_use": delete(WhatsAppLimitUse).where(WhatsAppLimitUse.started_at < now - LIMIT_WINDOW),
        # used, superseded or expired codes: only their keyed hash was ever kept
        "otp_challenge": delete(db.OtpChallenge).where(db.OtpChallenge.expires_at < day_ago),
        "lockout": delete(db.Lockout).where(
            or_(db.Lockout.locked_until.is_(None), db.Lockout.locked_until < day_ago), db.Lockout.failures == 0
        ),
        "verified_identity": delete(db.VerifiedIdentity).where(db.VerifiedIdentity.last_seen_at < day_ago),
        # a call's IVR state serves between two of its webhooks; calls last minutes
        "voice_call": delete(voice_calls.VoiceCall).where(voice_calls.VoiceCall.updated_at < day_ago),
        # operator console sessions past their idle or maximum age (a request would end them anyway)
        "console_session": delete(operators.ConsoleSession).where(
            or_(
                operators.ConsoleSession.last_seen_at < now - timedelta(minutes=config.CONSOLE_SESSION_IDLE_MINUTES),
                operators.ConsoleSession.created_at < now - timedelta(hours=config.CONSOLE_SESSION_MAX_HOURS),
            )
        ),
        # a ticket Zendesk took (or refused for good) lives in Zendesk; pending ones are never deleted
        "ticket_outbox": delete(care.TicketOutbox).where(
            and_(care.TicketOutbox.status != care.PENDING, care.TicketOutbox.updated_at < outbox)
        ),
    }
    removed = {}
    with db.session() as s, s.begin():
        for table, statement in statements.items():
            removed[table] = s.execute(statement.execution_options(synchronize_session=False)).rowcount
    return removed


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    for table, count in prune().items():
        print(f"{table:24} {count:>8} rows deleted")


if __name__ == "__main__":
    main()
