"""The dashboard's daily aggregate (metrics/daily.py writes it from Rasa's tracker store, metrics/dashboard.py reads
it): one row per day and (channel, language, market) with that day's figures, so a year of conversations is a few
thousand rows to add up instead of millions of events to read. Days are calendar days in KPI_TIME_ZONE."""

from datetime import date, datetime
from typing import Any, Dict, Iterable, List, Optional, Sequence

from sqlalchemy import Boolean, Column, Date, DateTime, Integer, String, delete, func, insert, select, text

from common.state import db
from common.state.db import Base

GROUP = ("channel", "language", "market")
DAY_LOCK = 4_217_101  # a PostgreSQL advisory lock family: one roll-up of a day at a time
FIGURES = (
    "active_users",  # senders who wrote that day
    "monthly_active_users",  # senders who wrote in the 30 days ending that day, by their group on their last day
    "conversations",  # conversations whose first customer message is that day, then their outcomes
    "self_served",
    "help_centre",
    "ticket",
    "handoff",
    "abandoned",
    "in_progress",
    "customer_messages",  # in those conversations
    "fallbacks",  # of those messages, the ones NLU did not understand
    "promoters",  # NPS answers given that day (9-10, 7-8, 0-6)
    "passives",
    "detractors",
)
# what KpiDayCount counts by name: intents of customer messages, journeys started and completed, why a ticket or
# a handoff (the topic recorded with the outcome)
COUNT_KINDS = ("intent", "journey_started", "journey_completed", "ticket_reason", "handoff_reason")


class KpiDay(Base):
    __tablename__ = "kpi_day"
    day = Column(Date, primary_key=True)
    channel = Column(String(32), primary_key=True)
    language = Column(String(8), primary_key=True)
    market = Column(String(8), primary_key=True)
    active_users = Column(Integer, nullable=False, default=0)
    monthly_active_users = Column(Integer, nullable=False, default=0)
    conversations = Column(Integer, nullable=False, default=0)
    self_served = Column(Integer, nullable=False, default=0)
    help_centre = Column(Integer, nullable=False, default=0)
    ticket = Column(Integer, nullable=False, default=0)
    handoff = Column(Integer, nullable=False, default=0)
    abandoned = Column(Integer, nullable=False, default=0)
    in_progress = Column(Integer, nullable=False, default=0)
    customer_messages = Column(Integer, nullable=False, default=0)
    fallbacks = Column(Integer, nullable=False, default=0)
    promoters = Column(Integer, nullable=False, default=0)
    passives = Column(Integer, nullable=False, default=0)
    detractors = Column(Integer, nullable=False, default=0)


class KpiDayCount(Base):
    __tablename__ = "kpi_day_count"
    day = Column(Date, primary_key=True)
    channel = Column(String(32), primary_key=True)
    language = Column(String(8), primary_key=True)
    market = Column(String(8), primary_key=True)
    kind = Column(String(24), primary_key=True)
    name = Column(String(64), primary_key=True)
    count = Column(Integer, nullable=False)


class KpiActiveUser(Base):
    """Who wrote on a day, in which group: what the next days' monthly active users are counted from."""

    __tablename__ = "kpi_active_user"
    day = Column(Date, primary_key=True)
    sender_id = Column(String(255), primary_key=True)
    channel = Column(String(32), nullable=False)
    language = Column(String(8), nullable=False)
    market = Column(String(8), nullable=False)


class KpiRolledDay(Base):
    """A day rolled up, and whether for good (its conversations are all over) or to be rolled up again."""

    __tablename__ = "kpi_rolled_day"
    day = Column(Date, primary_key=True)
    rolled_at = Column(DateTime(timezone=True), nullable=False)
    final = Column(Boolean, nullable=False)


def replace_day(
    day: date,
    figures: Iterable[Dict[str, Any]],
    counts: Iterable[Dict[str, Any]],
    users: Iterable[Dict[str, Any]],
    rolled_at: datetime,
    final: bool,
) -> None:
    """Everything about one day, in one transaction: a reader sees the old day or the new one, never half."""
    figures, counts, users = list(figures), list(counts), list(users)
    with db.session() as s, s.begin():
        if s.get_bind().dialect.name == "postgresql":
            # two roll-ups of one day (two consoles, or a page and the refresher) would both insert: one at a time
            s.execute(text("SELECT pg_advisory_xact_lock(:family, :day)"), {"family": DAY_LOCK, "day": day.toordinal()})
        for table in (KpiDay, KpiDayCount, KpiActiveUser, KpiRolledDay):
            s.execute(delete(table).where(table.day == day))
        for table, rows in ((KpiDay, figures), (KpiDayCount, counts), (KpiActiveUser, users)):
            if rows:
                s.execute(insert(table), [{**row, "day": day} for row in rows])
        s.add(KpiRolledDay(day=day, rolled_at=rolled_at, final=final))


def rolled_days(first: date, last: date) -> Dict[date, KpiRolledDay]:
    with db.session() as s:
        rows = s.execute(select(KpiRolledDay).where(KpiRolledDay.day.between(first, last))).scalars()
        return {row.day: row for row in rows}


def active_users(first: date, last: date) -> List[Any]:
    """(day, sender_id, channel, language, market) rows: plain tuples, a month is a few hundred thousand."""
    table = KpiActiveUser.__table__
    with db.engine().connect() as c:
        return c.execute(select(table).where(table.c.day.between(first, last))).all()


def _matching(table, first: date, last: date, filters: Dict[str, Optional[str]]) -> List[Any]:
    conditions = [table.day.between(first, last)]
    conditions += [getattr(table, name) == value for name, value in filters.items() if value]
    return conditions


def daily_figures(first: date, last: date, filters: Dict[str, Optional[str]]) -> Dict[date, Dict[str, int]]:
    """Each day's figures added up over the groups the filters keep (channel, language, market; None: all)."""
    columns = [func.sum(getattr(KpiDay, name)).label(name) for name in FIGURES]
    with db.session() as s:
        rows = s.execute(
            select(KpiDay.day, *columns).where(*_matching(KpiDay, first, last, filters)).group_by(KpiDay.day)
        ).all()
    return {row.day: {name: int(getattr(row, name) or 0) for name in FIGURES} for row in rows}


def named_counts(first: date, last: date, filters: Dict[str, Optional[str]]) -> Dict[str, Dict[str, int]]:
    """{kind: {name: count}} over the period and the groups the filters keep."""
    found: Dict[str, Dict[str, int]] = {kind: {} for kind in COUNT_KINDS}
    with db.session() as s:
        rows = s.execute(
            select(KpiDayCount.kind, KpiDayCount.name, func.sum(KpiDayCount.count))
            .where(*_matching(KpiDayCount, first, last, filters))
            .group_by(KpiDayCount.kind, KpiDayCount.name)
        ).all()
    for kind, name, count in rows:
        found.setdefault(kind, {})[name] = int(count)
    return found


def group_values() -> Dict[str, Sequence[str]]:
    """The channels, languages and markets seen so far (the dashboard's filter choices)."""
    with db.session() as s:
        return {name: sorted(s.execute(select(getattr(KpiDay, name)).distinct()).scalars()) for name in GROUP}
