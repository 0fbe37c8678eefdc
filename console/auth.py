"""Who may use the console and what they may do: scrypt password hashes, sessions that expire (kept server-side,
the cookie holds a random token), one CSRF token per session checked on every POST, and three roles."""

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Optional, Tuple

from common import clock, config
from common.clock import aware
from common.state import operators

ROLES = ("viewer", "campaign_manager", "admin")  # each may do what the ones before it may
# scrypt's cost: 16 MiB and about 50 ms a hash here, expensive to guess offline, cheap enough to log in
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_PASSWORD_LENGTH = 12


@dataclass
class Visitor:
    """A signed-in user as a request sees them."""

    name: str
    role: str
    csrf_token: str

    def may(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, maxmem=64 * 2**20)
    encoded = (base64.b64encode(part).decode() for part in (salt, digest))
    return "$".join(("scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), *encoded))


def password_matches(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        found = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), maxmem=64 * 2**20
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(found, base64.b64decode(digest))


def add_user(name: str, role: str, password: str) -> None:
    """Creates a user (or resets one's role and password)."""
    if role not in ROLES:
        raise ValueError(f"the role is one of {', '.join(ROLES)}")
    if not name or len(name) > 64 or not name.replace(".", "").replace("-", "").replace("_", "").isalnum():
        raise ValueError("a name is letters, digits, '.', '-' or '_' (64 at most)")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
    operators.save_user(name, role, hash_password(password), clock.now())


def token_hash(token: str) -> str:
    """What the database keeps of a session token: a copy of the table opens no session."""
    return hmac.new(config.CONSOLE_SECRET.encode(), token.encode(), hashlib.sha256).hexdigest()


def log_in(name: str, password: str) -> Optional[Tuple[str, Visitor]]:
    """(the session token for the cookie, the visitor), or None: wrong name or password, or locked out."""
    now = clock.now()
    locked = operators.locked_until(name)
    if locked is not None and aware(locked) > now:
        return None
    user = operators.user(name)
    # a name that does not exist costs the same hash as a wrong password: timing tells nothing
    if not password_matches(password, user.password_hash if user else hash_password(secrets.token_hex(8))):
        operators.count_failure(name, config.CONSOLE_MAX_FAILURES, now + timedelta(minutes=config.CONSOLE_LOCK_MINUTES))
        return None
    operators.clear_failures(name)
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    operators.open_session(token_hash(token), name, csrf, now)
    return token, Visitor(name, user.role, csrf)


def visitor(token: Optional[str]) -> Optional[Visitor]:
    """The signed-in user of this session token, or None: unknown, expired (idle or too old), or user removed."""
    if not token:
        return None
    key = token_hash(token)
    found = operators.session_of(key)
    if found is None:
        return None
    now = clock.now()
    idle = now - aware(found.last_seen_at) >= timedelta(minutes=config.CONSOLE_SESSION_IDLE_MINUTES)
    old = now - aware(found.created_at) >= timedelta(hours=config.CONSOLE_SESSION_MAX_HOURS)
    user = operators.user(found.user_name)
    if idle or old or user is None:
        operators.close_session(key)
        return None
    operators.touch_session(key, now)
    return Visitor(user.name, user.role, found.csrf_token)


def log_out(token: Optional[str]) -> None:
    if token:
        operators.close_session(token_hash(token))


def csrf_ok(expected: Optional[str], sent: Optional[str]) -> bool:
    return bool(expected) and bool(sent) and hmac.compare_digest(expected.encode(), sent.encode())
