"""The operator console's staff accounts and their sessions (console/auth.py holds the rules: password hashing,
expiry, roles). Only a password's scrypt hash and a session token's keyed hash are stored."""

from datetime import datetime
from typing import List, Optional

from sqlalchemy import Column, DateTime, String, delete, select, update

from common.state import db
from common.state.db import Base


class ConsoleUser(Base):
    __tablename__ = "console_user"
    name = Column(String(64), primary_key=True)
    role = Column(String(24), nullable=False)  # viewer, campaign_manager, admin
    password_hash = Column(String(255), nullable=False)  # scrypt$n$r$p$salt$hash
    created_at = Column(DateTime(timezone=True), nullable=False)


class ConsoleSession(Base):
    __tablename__ = "console_session"
    token_hash = Column(String(64), primary_key=True)  # HMAC-SHA256 of the cookie's token with CONSOLE_SECRET
    user_name = Column(String(64), nullable=False, index=True)
    csrf_token = Column(String(64), nullable=False)  # every form of this session carries it
    created_at = Column(DateTime(timezone=True), nullable=False)
    last_seen_at = Column(DateTime(timezone=True), nullable=False)


def save_user(name: str, role: str, password_hash: str, at: datetime) -> None:
    """Creates the user, or sets the role and password of an existing one."""
    with db.session() as s, s.begin():
        row = s.get(ConsoleUser, name)
        if row is None:
            s.add(ConsoleUser(name=name, role=role, password_hash=password_hash, created_at=at))
        else:
            row.role, row.password_hash = role, password_hash


def user(name: str) -> Optional[ConsoleUser]:
    with db.session() as s:
        return s.get(ConsoleUser, name)


def users() -> List[ConsoleUser]:
    with db.session() as s:
        return list(s.execute(select(ConsoleUser).order_by(ConsoleUser.name)).scalars())


def set_role(name: str, role: str) -> None:
    with db.session() as s, s.begin():
        s.execute(update(ConsoleUser).where(ConsoleUser.name == name).values(role=role))


def remove_user(name: str) -> None:
    """The user and every session they have open."""
    with db.session() as s, s.begin():
        s.execute(delete(ConsoleSession).where(ConsoleSession.user_name == name))
        s.execute(delete(ConsoleUser).where(ConsoleUser.name == name))


def open_session(token_hash: str, user_name: str, csrf_token: str, at: datetime) -> None:
    with db.session() as s, s.begin():
        s.add(
            ConsoleSession(
                token_hash=token_hash, user_name=user_name, csrf_token=csrf_token, created_at=at, last_seen_at=at
            )
        )


def session_of(token_hash: str) -> Optional[ConsoleSession]:
    with db.session() as s:
        return s.get(ConsoleSession, token_hash)


def touch_session(token_hash: str, at: datetime) -> None:
    with db.session() as s, s.begin():
        s.execute(update(ConsoleSession).where(ConsoleSession.token_hash == token_hash).values(last_seen_at=at))


def close_session(token_hash: str) -> None:
    with db.session() as s, s.begin():
        s.execute(delete(ConsoleSession).where(ConsoleSession.token_hash == token_hash))


def locked_until(name: str) -> Optional[datetime]:
    """Until when wrong passwords locked this name out (kept in the assistant's lockout table)."""
    with db.session() as s:
        row = s.get(db.Lockout, f"console:{name}")
        return row.locked_until if row else None


def count_failure(name: str, max_failures: int, lock_until: datetime) -> None:
    with db.session() as s, s.begin():
        row = s.get(db.Lockout, f"console:{name}") or db.Lockout(key=f"console:{name}", failures=0)
        row.failures += 1
        if row.failures >= max_failures:
            row.failures, row.locked_until = 0, lock_until
        s.add(row)


def clear_failures(name: str) -> None:
    with db.session() as s, s.begin():
        s.execute(delete(db.Lockout).where(db.Lockout.key == f"console:{name}"))
