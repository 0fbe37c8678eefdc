"""Outbound campaigns in SQL: the campaign, one row per number to reach, and the durable send queue over them.

Exactly once, with any number of senders (campaigns/sender.py) running at once:
  queued   waiting for its `not_before` (its place in the campaign's pace, or the next sending window);
  sending  a sender took it (`claim`: one UPDATE, so two senders never both take it) and is sending it now;
  sent / skipped / failed   done: a row never leaves these.
A sender that dies while `sending` leaves the row `sending`: after the lease, `recover` marks it `unknown`
(reported, never sent again), because the platform may already have delivered it. A sender stopped
politely (SIGTERM) finishes its message first, so a restart sends nothing twice and misses nothing.
"""

import re
import secrets
from datetime import datetime, timedelta
from typing import Any, Dict, Iterable, List, Optional

from sqlalchemy import JSON, Column, DateTime, Integer, String, UniqueConstraint, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from common import config
from common.clock import aware, now
from common.state import campaign_deliveries, db
from common.state.consent import ALL_MARKETING, MARKETING_KINDS, OptOut
from common.state.db import Base

KINDS = ("missed_call", "post_call_survey", "outage", "payment_reminder", "offer", "announcement")
DRAFT, RUNNING, PAUSED, DONE = "draft", "running", "paused", "done"
QUEUED, SENDING, SENT, SKIPPED, FAILED, UNKNOWN = "queued", "sending", "sent", "skipped", "failed", "unknown"
FINISHED = (SENT, SKIPPED, FAILED, UNKNOWN)


class Campaign(Base):
    __tablename__ = "campaign"
    id = Column(String(40), primary_key=True)  # K-7F3Q9A; S-missed_call-20261204 for a day's standing campaign
    name = Column(String(120), nullable=False)
    kind = Column(String(24), nullable=False)
    messages = Column(JSON, nullable=False)  # {"fr": ..., "es": ..., "en": ...}; {name} is the recipient's
    status = Column(String(12), nullable=False)
    starts_at = Column(DateTime(timezone=True), nullable=False)
    rate_per_minute = Column(Integer, nullable=False)  # messages a minute, all senders together
    created_at = Column(DateTime(timezone=True), nullable=False)


class CampaignRecipient(Base):
    __tablename__ = "campaign_recipient"
    __table_args__ = (UniqueConstraint("campaign_id", "msisdn"),)  # a number listed twice is reached once
    id = Column(Integer, primary_key=True, autoincrement=True)
    campaign_id = Column(String(40), nullable=False, index=True)
    msisdn = Column(String(20), nullable=False)  # E.164
    name = Column(String(80), nullable=True)
    language = Column(String(8), nullable=True)  # from the list; else the line's remembered one
    segment = Column(String(32), nullable=True)
    status = Column(String(12), nullable=False, index=True)
    not_before = Column(DateTime(timezone=True), nullable=False, index=True)
    claimed_until = Column(DateTime(timezone=True), nullable=True)
    attempts = Column(Integer, nullable=False, default=0)
    channel = Column(String(16), nullable=True)  # sms, whatsapp, messenger: how it went out
    reason = Column(String(200), nullable=True)  # why skipped, failed or retried
    sent_at = Column(DateTime(timezone=True), nullable=True)


def new_id() -> str:
    return "K-" + secrets.token_hex(3).upper()


def create(name: str, kind: str, messages: Dict[str, str], starts_at: datetime, rate_per_minute: int) -> Campaign:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    missing = [lang for lang in ("fr", "es", "en") if not (messages.get(lang) or "").strip()]
    if missing:
        raise ValueError(f"a message is needed in every language; missing: {', '.join(missing)}")
    if rate_per_minute < 1:
        raise ValueError("the rate is at least one message a minute")
    campaign = Campaign(
        id=new_id(),
        name=name,
        kind=kind,
        messages=messages,
        status=DRAFT,
        starts_at=starts_at,
        rate_per_minute=rate_per_minute,
        created_at=now(),
    )
    with db.session() as s, s.begin():
        s.add(campaign)
    return campaign


def create_once(campaign_id: str, name: str, kind: str, messages: Dict[str, str]) -> Optional[Campaign]:
    """A running campaign under a fixed id, created by whoever comes first (senders on several replicas poll the
    same events); None when it exists already."""
    moment = now()
    try:
        with db.session() as s, s.begin():
            s.add(
                Campaign(
                    id=campaign_id,
                    name=name,
                    kind=kind,
                    messages=messages,
                    status=RUNNING,
                    starts_at=moment,
                    rate_per_minute=config.CAMPAIGN_DEFAULT_RATE,
                    created_at=moment,
                )
            )
    except IntegrityError:
        return None
    return get(campaign_id)


def standing(kind: str, messages: Dict[str, str]) -> Campaign:
    """Today's running campaign of `kind` that events feed (the dialer's missed and answered calls): one a day,
    so a customer gets at most one such message a day."""
    moment = now()
    campaign_id = f"S-{kind}-{moment:%Y%m%d}"
    return get(campaign_id) or create_once(campaign_id, f"{kind} {moment:%Y-%m-%d}", kind, messages) or get(campaign_id)


def get(campaign_id: str) -> Optional[Campaign]:
    with db.session() as s:
        return s.get(Campaign, campaign_id)


def add_recipients(campaign_id: str, rows: Iterable[Dict[str, Any]]) -> int:
    """Queues numbers (already normalised) paced at the campaign's rate after those already queued; a number
    already in the campaign is not added again. Answers how many were added."""
    campaign = get(campaign_id)
    moment = now()
    with db.session() as s, s.begin():
        known = set(
            s.execute(select(CampaignRecipient.msisdn).where(CampaignRecipient.campaign_id == campaign_id)).scalars()
        )
        count = len(known)
        added = 0
        for row in rows:
            if row["msisdn"] in known:
                continue
            known.add(row["msisdn"])
            s.add(
                CampaignRecipient(
                    campaign_id=campaign_id,
                    msisdn=row["msisdn"],
                    name=row.get("name") or None,
                    language=row.get("language") or None,
                    segment=row.get("segment") or None,
                    status=QUEUED,
                    # its place in the campaign's pace, never in the past (a standing campaign runs all day)
                    not_before=max(
                        moment, aware(campaign.starts_at) + timedelta(minutes=count / campaign.rate_per_minute)
                    ),
                    attempts=0,
                )
            )
            count += 1
            added += 1
    return added


def recipient(recipient_id: str) -> Optional[CampaignRecipient]:
    if not str(recipient_id).isdigit():
        return None
    with db.session() as s:
        return s.get(CampaignRecipient, int(recipient_id))


def text_for(campaign: Campaign, row: CampaignRecipient, language: str) -> str:
    """The campaign's message in `language`, with the recipient's name where the text says {name}."""
    text = campaign.messages.get(language) or campaign.messages["en"]
    if row.name:
        return text.replace("{name}", row.name).strip()
    return re.sub(r"[ ,]*\{name\}", "", text).strip()  # "Hi {name}, ..." -> "Hi, ..."


def reached(campaign_id: str) -> List[str]:
    """The numbers a campaign's message went to (or may have: `unknown`)."""
    with db.session() as s:
        return list(
            s.execute(
                select(CampaignRecipient.msisdn).where(
                    CampaignRecipient.campaign_id == campaign_id, CampaignRecipient.status.in_((SENT, UNKNOWN))
                )
            ).scalars()
        )


def drop_queued(campaign_id: str, reason: str) -> int:
    """Messages not sent yet that no longer make sense: skipped, with the reason."""
    with db.session() as s, s.begin():
        return s.execute(
            update(CampaignRecipient)
            .where(CampaignRecipient.campaign_id == campaign_id, CampaignRecipient.status == QUEUED)
            .values(status=SKIPPED, reason=reason[:200])
            .execution_options(synchronize_session=False)
        ).rowcount


def set_status(campaign_id: str, status: str) -> None:
    with db.session() as s, s.begin():
        s.execute(update(Campaign).where(Campaign.id == campaign_id).values(status=status))


def due(limit: int) -> List[int]:
    """Queued rows of running campaigns whose time has come, oldest place first."""
    moment = now()
    query = (
        select(CampaignRecipient.id)
        .join(Campaign, Campaign.id == CampaignRecipient.campaign_id)
        .where(Campaign.status == RUNNING, CampaignRecipient.status == QUEUED, CampaignRecipient.not_before <= moment)
        .order_by(CampaignRecipient.not_before, CampaignRecipient.id)
        .limit(limit)
    )
    with db.session() as s:
        return list(s.execute(query).scalars())


def claim(recipient_id: int, hold_seconds: int) -> Optional[CampaignRecipient]:
    """Takes a queued row for sending; None when another sender took it first."""
    moment = now()
    with db.session() as s, s.begin():
        taken = s.execute(
            update(CampaignRecipient)
            .where(CampaignRecipient.id == recipient_id, CampaignRecipient.status == QUEUED)
            .values(
                status=SENDING,
                claimed_until=moment + timedelta(seconds=hold_seconds),
                attempts=CampaignRecipient.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:
            return None
        return s.get(CampaignRecipient, recipient_id)


def finish(recipient_id: int, status: str, channel: Optional[str] = None, reason: Optional[str] = None) -> None:
    values = {"status": status, "claimed_until": None, "channel": channel, "reason": (reason or "")[:200] or None}
    if status == SENT:
        values["sent_at"] = now()
    _update_sending(recipient_id, **values)


def later(recipient_id: int, at: datetime, reason: str, failed_attempt: bool = True) -> None:
    """Back in the queue until `at` (outside the sending window, the platform asked us to slow down).
    Waiting for a channel's pace or a 429 is no failed attempt: it does not bring the message closer to failing."""
    values = {} if failed_attempt else {"attempts": CampaignRecipient.attempts - 1}
    _update_sending(recipient_id, status=QUEUED, claimed_until=None, not_before=at, reason=reason[:200], **values)


def _update_sending(recipient_id: int, **values: Any) -> None:
    with db.session() as s, s.begin():
        s.execute(
            update(CampaignRecipient)
            .where(CampaignRecipient.id == recipient_id, CampaignRecipient.status == SENDING)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def recover() -> int:
    """Rows whose sender died mid-send: `unknown`, never sent again (the platform may have delivered them)."""
    with db.session() as s, s.begin():
        return s.execute(
            update(CampaignRecipient)
            .where(CampaignRecipient.status == SENDING, CampaignRecipient.claimed_until < now())
            .values(status=UNKNOWN, claimed_until=None, reason="the sender stopped while sending")
            .execution_options(synchronize_session=False)
        ).rowcount


def complete_finished() -> None:
    """Running campaigns with nothing left to send become done."""
    with db.session() as s, s.begin():
        open_ids = select(CampaignRecipient.campaign_id).where(
            or_(CampaignRecipient.status == QUEUED, CampaignRecipient.status == SENDING)
        )
        s.execute(
            update(Campaign)
            .where(Campaign.status == RUNNING, Campaign.id.not_in(open_ids))
            .values(status=DONE)
            .execution_options(synchronize_session=False)
        )


def report(campaign_id: str) -> Dict[str, Any]:
    """Targeted, and how many in each state, per channel, with the reasons for what was not sent; then what
    became of what was sent (common/state/campaign_deliveries.py): delivered, read, replied, undelivered with
    the reasons, and how many of the lines reached opted out of this kind of campaign afterwards."""
    with db.session() as s:
        counts = s.execute(
            select(CampaignRecipient.status, CampaignRecipient.channel, func.count())
            .where(CampaignRecipient.campaign_id == campaign_id)
            .group_by(CampaignRecipient.status, CampaignRecipient.channel)
        ).all()
        reasons = s.execute(
            select(CampaignRecipient.reason, func.count())
            .where(
                CampaignRecipient.campaign_id == campaign_id, CampaignRecipient.status.in_((SKIPPED, FAILED, UNKNOWN))
            )
            .group_by(CampaignRecipient.reason)
        ).all()
    by_status: Dict[str, int] = {}
    by_channel: Dict[str, int] = {}
    for status, channel, count in counts:
        by_status[status] = by_status.get(status, 0) + count
        if status == SENT:
            by_channel[channel] = by_channel.get(channel, 0) + count
    return {
        "targeted": sum(by_status.values()),
        **{status: by_status.get(status, 0) for status in (QUEUED, SENDING) + FINISHED},
        "sent_by_channel": by_channel,
        "reasons": {reason or "": count for reason, count in reasons},
        **campaign_deliveries.figures(campaign_id),
        "opted_out": opted_out_after(campaign_id),
    }


def opted_out_after(campaign_id: str) -> int:
    """Lines this campaign reached that refused its kind (or all marketing, for a marketing kind) afterwards."""
    campaign = get(campaign_id)
    if campaign is None:
        return 0
    kinds = [campaign.kind, ALL_MARKETING] if campaign.kind in MARKETING_KINDS else [campaign.kind]
    with db.session() as s:
        return s.execute(
            select(func.count(func.distinct(CampaignRecipient.msisdn))).where(
                CampaignRecipient.campaign_id == campaign_id,
                CampaignRecipient.status.in_((SENT, UNKNOWN)),
                OptOut.msisdn == CampaignRecipient.msisdn,
                OptOut.kind.in_(kinds),
                OptOut.opted_out_at >= CampaignRecipient.sent_at,
            )
        ).scalar()


def figures(start: datetime, end: datetime) -> List[Dict[str, Any]]:
    """`make kpi`: each campaign that sent something between `start` and `end`, with its whole report."""
    with db.session() as s:
        ids = s.execute(
            select(CampaignRecipient.campaign_id)
            .where(CampaignRecipient.sent_at >= start, CampaignRecipient.sent_at < end)
            .distinct()
        ).scalars()
        found = [s.get(Campaign, campaign_id) for campaign_id in sorted(ids)]
    return [{"id": c.id, "name": c.name, "kind": c.kind, **report(c.id)} for c in found]


def listing(limit: int = 200) -> List[Campaign]:
    """The latest campaigns, newest first (the console's list)."""
    with db.session() as s:
        return list(s.execute(select(Campaign).order_by(Campaign.created_at.desc()).limit(limit)).scalars())
