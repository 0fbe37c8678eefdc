"""What became of each campaign message once it left: the platform's id for it, and what the platform reported.

One row per message handed to a platform (a text long enough to go in two pieces has two rows):
- SMS: written before Kannel gets the message, with a random token (kept hashed) that the delivery-report URL
  carries: Kannel does not sign its callbacks, so the token is what proves a report is about our message;
- WhatsApp, Messenger: written by the connector (connectors/graph_api.py) when the assistant says a campaign
  message (actions/campaign_message.py passes the campaign and recipient along with the text), with the id the
  Graph API answered (wamid.…, m_…). A refusal is written too (`throttled`, `refused`): the sender then knows the
  message did not leave, and backs off or fails it, instead of counting it sent.
Reports find their message by that id (WhatsApp statuses, SMS reports, Messenger deliveries listing `mids`). A
Messenger read carries only a watermark (everything sent before it was read), so reads go by conversation and
time. Linking every update by conversation and time would be wrong: the assistant's own answers in the same
conversation get statuses too. A reply is the customer's first message in that conversation within
REPLY_HOURS of the campaign message (the campaign_id slot carries over sessions, so it alone would count a
message weeks later as a reply).
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Dict, Optional, Tuple
from urllib.parse import urlencode

from sqlalchemy import Boolean, Column, DateTime, Integer, String, func, select, update

from common import config
from common.clock import now
from common.state import db
from common.state.db import Base

ACCEPTING, SENT, THROTTLED, REFUSED = "accepting", "sent", "throttled", "refused"
DELIVERED, READ, FAILED = "delivered", "read", "failed"
REPLY_HOURS = 24
# Kannel's dlr-mask bits (userguide, "Delivery reports")
DLR_DELIVERED, DLR_UNDELIVERED, DLR_SMSC_REJECTED = 1, 2, 16
DLR_MASK = DLR_DELIVERED | DLR_UNDELIVERED | DLR_SMSC_REJECTED  # final outcomes only


class CampaignDelivery(Base):
    __tablename__ = "campaign_delivery"
    id = Column(Integer, primary_key=True, autoincrement=True)
    recipient_id = Column(Integer, nullable=False, index=True)  # campaign_recipient.id
    campaign_id = Column(String(40), nullable=False, index=True)
    channel = Column(String(16), nullable=False)  # sms, whatsapp, messenger
    conversation_id = Column(String(64), nullable=False, index=True)  # wa_id, PSID, or the E.164 number
    platform_id = Column(String(160), nullable=True, index=True)  # wamid.…, m_…; none for SMS
    status = Column(String(12), nullable=False)  # accepting, sent, throttled, refused
    outside_window = Column(Boolean, nullable=False, default=False)  # a template or a tag: business-initiated
    token_hash = Column(String(64), nullable=True)  # SMS: sha256 of the delivery-report token
    retry_after = Column(Integer, nullable=True)  # throttled: seconds the platform asked us to wait
    reason = Column(String(200), nullable=True)  # refused, or why it was not delivered
    sent_at = Column(DateTime(timezone=True), nullable=False)
    delivered_at = Column(DateTime(timezone=True), nullable=True)
    read_at = Column(DateTime(timezone=True), nullable=True)
    failed_at = Column(DateTime(timezone=True), nullable=True)
    replied_at = Column(DateTime(timezone=True), nullable=True)


@dataclass
class Attempt:
    """What the connector recorded of the latest try to say a campaign message in a chat."""

    status: str  # sent, throttled, refused
    retry_after: Optional[int] = None
    reason: Optional[str] = None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _add(**values) -> int:
    row = CampaignDelivery(sent_at=now(), **values)
    with db.session() as s, s.begin():
        s.add(row)
    return row.id


# --- SMS ------------------------------------------------------------------------------------------------


def begin_sms(recipient_id: int, campaign_id: str, msisdn: str) -> Tuple[int, str]:
    """A row for the SMS about to go, before Kannel has it (its report may come back at once); (id, token)."""
    token = secrets.token_urlsafe(24)
    delivery_id = _add(
        recipient_id=recipient_id,
        campaign_id=campaign_id,
        channel="sms",
        conversation_id=msisdn,
        status=ACCEPTING,
        token_hash=_hash(token),
    )
    return delivery_id, token


def report_url(delivery_id: int, token: str) -> str:
    """The `dlr-url` for one SMS (connectors/sms_delivery.py): Kannel replaces %d and %A when it calls back."""
    return f"{config.SMS_DLR_URL}?{urlencode({'id': delivery_id, 'token': token})}&status=%d&reply=%A"


def sms_accepted(delivery_id: int) -> None:
    _set(delivery_id, status=SENT, sent_at=now())


def sms_not_accepted(delivery_id: int) -> None:
    with db.session() as s, s.begin():
        row = s.get(CampaignDelivery, delivery_id)
        if row is not None and row.status == ACCEPTING:
            s.delete(row)


def sms_report(delivery_id: str, token: str, value: int, smsc_reply: str) -> bool:
    """Kannel's delivery report (%d, %A) for the SMS `delivery_id`; False when the token is not that SMS's."""
    if not str(delivery_id).isdigit() or not token:
        return False
    with db.session() as s, s.begin():
        row = s.get(CampaignDelivery, int(delivery_id))
        if row is None or row.token_hash is None or not hmac.compare_digest(row.token_hash, _hash(token)):
            return False
        moment = now()
        if row.status == ACCEPTING:  # its sender died before writing down Kannel's 202: the report proves it
            row.status = SENT
        if value & DLR_DELIVERED and row.delivered_at is None:
            row.delivered_at, row.failed_at, row.reason = moment, None, None
        elif value & (DLR_UNDELIVERED | DLR_SMSC_REJECTED) and row.delivered_at is None:
            where = "the phone" if value & DLR_UNDELIVERED else "the SMS centre"
            row.failed_at, row.reason = moment, f"not delivered to {where}: {smsc_status(smsc_reply)}"[:200]
    return True


def smsc_status(smsc_reply: str) -> str:
    """`id:… stat:UNDELIV err:001` → `UNDELIV err 001`; anything else as it came."""
    fields = dict(part.split(":", 1) for part in (smsc_reply or "").split() if ":" in part)
    if "stat" in fields:
        return fields["stat"] + (f" err {fields['err']}" if fields.get("err") not in (None, "000") else "")
    return (smsc_reply or "no reason given").strip()


# --- chat (the connectors) ------------------------------------------------------------------------------


def chat_sent(
    recipient_id: int, campaign_id: str, channel: str, conversation_id: str, platform_id: str, outside_window: bool
) -> None:
    _add(
        recipient_id=recipient_id,
        campaign_id=campaign_id,
        channel=channel,
        conversation_id=conversation_id,
        platform_id=platform_id or None,
        status=SENT,
        outside_window=outside_window,
    )


def chat_refused(
    recipient_id: int, campaign_id: str, channel: str, conversation_id: str, reason: str, retry_after: Optional[int]
) -> None:
    """The platform did not take it: `throttled` (429, try again after `retry_after`) or `refused`."""
    _add(
        recipient_id=recipient_id,
        campaign_id=campaign_id,
        channel=channel,
        conversation_id=conversation_id,
        status=THROTTLED if retry_after is not None else REFUSED,
        retry_after=retry_after,
        reason=reason[:200],
    )


def forget_attempts(recipient_id: int) -> None:
    """Before a new try: what earlier tries were refused is no longer news."""
    with db.session() as s, s.begin():
        s.query(CampaignDelivery).filter(
            CampaignDelivery.recipient_id == recipient_id, CampaignDelivery.status.in_((THROTTLED, REFUSED))
        ).delete(synchronize_session=False)


def attempt_of(recipient_id: int) -> Optional[Attempt]:
    """sent when any piece left; else throttled, else refused; None when the connector recorded nothing."""
    with db.session() as s:
        rows = list(s.execute(select(CampaignDelivery).where(CampaignDelivery.recipient_id == recipient_id)).scalars())
    for status in (SENT, THROTTLED, REFUSED):
        found = [row for row in rows if row.status == status]
        if found:
            return Attempt(status, max((r.retry_after or 0 for r in found), default=None), found[-1].reason)
    return None


def chat_update(channel: str, platform_id: str, status: str, at: datetime, reason: Optional[str] = None) -> int:
    """A status (delivered, read, failed) for one message, by the platform's id; answers how many rows matched."""
    return _updates(
        select(CampaignDelivery).where(
            CampaignDelivery.channel == channel, CampaignDelivery.platform_id == platform_id
        ),
        status,
        at,
        reason,
    )


def chat_update_until(channel: str, conversation_id: str, status: str, watermark: datetime) -> int:
    """Messenger: every message of that conversation sent up to `watermark` was delivered (or read)."""
    return _updates(
        select(CampaignDelivery).where(
            CampaignDelivery.channel == channel,
            CampaignDelivery.conversation_id == conversation_id,
            CampaignDelivery.status == SENT,
            CampaignDelivery.sent_at <= watermark,
        ),
        status,
        watermark,
        None,
    )


def _updates(query, status: str, at: datetime, reason: Optional[str]) -> int:
    with db.session() as s, s.begin():
        rows = list(s.execute(query).scalars())
        for row in rows:
            if status in (DELIVERED, READ) and row.delivered_at is None:
                row.delivered_at, row.failed_at, row.reason = at, None, None  # a read message was delivered
            if status == READ and row.read_at is None:
                row.read_at = at
            if status == FAILED and row.delivered_at is None and row.failed_at is None:
                row.failed_at, row.reason = at, (reason or "failed")[:200]
    return len(rows)


def note_reply(channel: str, conversation_id: str, at: datetime) -> None:
    """The customer wrote in `conversation_id`: a reply to the campaign message sent there in the last
    REPLY_HOURS, if any (the latest one)."""
    with db.session() as s, s.begin():
        row = s.execute(
            select(CampaignDelivery)
            .where(
                CampaignDelivery.channel == channel,
                CampaignDelivery.conversation_id == conversation_id,
                CampaignDelivery.status == SENT,
                CampaignDelivery.sent_at < at + timedelta(seconds=1),  # platforms give whole seconds
                CampaignDelivery.sent_at > at - timedelta(hours=REPLY_HOURS),
            )
            .order_by(CampaignDelivery.sent_at.desc(), CampaignDelivery.id.desc())
            .limit(1)
        ).scalar()
        if row is not None and row.replied_at is None:
            row.replied_at = at


def _set(delivery_id: int, **values) -> None:
    with db.session() as s, s.begin():
        s.execute(
            update(CampaignDelivery)
            .where(CampaignDelivery.id == delivery_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


# --- reports --------------------------------------------------------------------------------------------


def figures(campaign_id: str) -> Dict[str, object]:
    """Per recipient (a message in two pieces counts once): delivered, read, replied, undelivered and why."""
    sent = (CampaignDelivery.campaign_id == campaign_id, CampaignDelivery.status == SENT)

    def recipients(*where) -> int:
        with db.session() as s:
            return s.execute(
                select(func.count(func.distinct(CampaignDelivery.recipient_id))).where(*sent, *where)
            ).scalar()

    with db.session() as s:
        reasons = s.execute(
            select(CampaignDelivery.reason, func.count(func.distinct(CampaignDelivery.recipient_id)))
            .where(*sent, CampaignDelivery.failed_at.is_not(None))
            .group_by(CampaignDelivery.reason)
        ).all()
    return {
        "delivered": recipients(CampaignDelivery.delivered_at.is_not(None)),
        "read": recipients(CampaignDelivery.read_at.is_not(None)),
        "replied": recipients(CampaignDelivery.replied_at.is_not(None)),
        "undelivered": recipients(CampaignDelivery.failed_at.is_not(None)),
        "undelivered_reasons": {reason or "": count for reason, count in reasons},
    }
