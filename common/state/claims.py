"""Inbound webhooks taken in at most once, and never lost: one claim protocol for every source.

Platforms redeliver (no 200 in time, their own retries), sometimes twice at once, and several Rasa replicas
may receive the same delivery. Before acting on an item (a payment event, a WhatsApp or Messenger message,
a Sunshine Conversations event), a connector claims its id here:
  "claimed"  this caller handles it, then calls `complete` (or `release` when it could not, so that the
             platform's next delivery is handled);
  "done"     it was handled already: answer 200 and do nothing;
  "busy"     another delivery is handling it now (answer so the platform retries later); a claim older than
             `stale_after_seconds` is presumed dead and taken over.
The insert and the take-over are single SQL statements, so two processes never both get "claimed".
"""

from datetime import timedelta
from typing import Optional

from sqlalchemy import Column, DateTime, String, delete, update
from sqlalchemy.exc import IntegrityError

from common import clock
from common.state.db import Base, session


class InboundClaim(Base):
    __tablename__ = "inbound_claim"
    source = Column(String(32), primary_key=True)  # payments, whatsapp, messenger, sunco
    item_id = Column(String(255), primary_key=True)  # the platform's id: evt_…, wamid.…, mid.…
    conversation_id = Column(String(128), nullable=True)
    received_at = Column(DateTime(timezone=True), nullable=False)  # when the current attempt took it
    completed_at = Column(DateTime(timezone=True), nullable=True)  # None: being handled right now


def claim(source: str, item_id: str, conversation_id: Optional[str], stale_after_seconds: int) -> str:
    """ "claimed", "done" or "busy" (see the module's docstring)."""
    for _ in range(3):
        now = clock.now()
        try:
            with session() as s, s.begin():
                s.add(InboundClaim(source=source, item_id=item_id, conversation_id=conversation_id, received_at=now))
            return "claimed"
        except IntegrityError:
            pass
        with session() as s, s.begin():
            row = s.get(InboundClaim, (source, item_id))
            if row is None:  # released in between: insert again
                continue
            if row.completed_at is not None:
                return "done"
            taken = s.execute(
                update(InboundClaim)
                .where(
                    InboundClaim.source == source,
                    InboundClaim.item_id == item_id,
                    InboundClaim.completed_at.is_(None),
                    InboundClaim.received_at < now - timedelta(seconds=stale_after_seconds),
                )
                .values(received_at=now)
                .execution_options(synchronize_session=False)
            )
            return "claimed" if taken.rowcount == 1 else "busy"
    return "busy"


def complete(source: str, item_id: str) -> None:
    with session() as s, s.begin():
        s.execute(
            update(InboundClaim)
            .where(InboundClaim.source == source, InboundClaim.item_id == item_id)
            .values(completed_at=clock.now())
        )


def release(source: str, item_id: str) -> None:
    """Forgets an item that could not be handled (never one already done), so its next delivery is."""
    with session() as s, s.begin():
        s.execute(
            delete(InboundClaim).where(
                InboundClaim.source == source, InboundClaim.item_id == item_id, InboundClaim.completed_at.is_(None)
            )
        )
