"""Who asked not to be contacted: a line opts out of one kind of campaign, or of every marketing one ("all").

Checked before every campaign message (campaigns/sender.py). Service messages the customer's own operations
cause (a payment confirmation, the answer to their outage report) are not campaigns and never look here.
"""

from datetime import datetime
from typing import Optional

from sqlalchemy import Column, DateTime, String, select

from common.clock import now
from common.state import db
from common.state.db import Base

ALL_MARKETING = "all"
# Marketing is what a customer may refuse wholesale ("STOP") and what Messenger forbids outside its window;
# service messages are about the customer's own line, account or call.
MARKETING_KINDS = frozenset({"offer", "announcement", "post_call_survey"})


class OptOut(Base):
    __tablename__ = "campaign_opt_out"
    msisdn = Column(String(20), primary_key=True)
    kind = Column(String(24), primary_key=True)  # a campaign kind, or "all" (every marketing kind)
    opted_out_at = Column(DateTime(timezone=True), nullable=False)
    source = Column(String(32), nullable=False)  # the channel it was said on, or "list" (imported)


def opt_out(msisdn: str, kind: str, source: str) -> bool:
    """Records the refusal; False when it was already recorded."""
    with db.session() as s, s.begin():
        if s.get(OptOut, (msisdn, kind)) is not None:
            return False
        s.add(OptOut(msisdn=msisdn, kind=kind, opted_out_at=now(), source=source))
        return True


def opt_in(msisdn: str, kind: str) -> None:
    with db.session() as s, s.begin():
        row = s.get(OptOut, (msisdn, kind))
        if row is not None:
            s.delete(row)


def refused(msisdn: str, kind: str) -> Optional[datetime]:
    """When this line refused campaigns of `kind` (directly, or all marketing for a marketing kind); else None."""
    kinds = [kind, ALL_MARKETING] if kind in MARKETING_KINDS else [kind]
    with db.session() as s:
        return s.execute(
            select(OptOut.opted_out_at).where(OptOut.msisdn == msisdn, OptOut.kind.in_(kinds)).limit(1)
        ).scalar()


def opt_outs_between(start: datetime, end: datetime) -> int:
    with db.session() as s:
        return s.query(OptOut).filter(OptOut.opted_out_at >= start, OptOut.opted_out_at < end).count()
