"""API keys: created once (the plain key is shown a single time), stored only as a SHA-256 hash.

Keys are 32 random bytes, so a plain SHA-256 (not a slow password hash) is the right digest: there is
nothing to brute-force. Lookups go by hash and the final comparison is constant-time. Revoking a key
bumps the ``keys`` change marker (``models.markers``) in the same transaction, so every server
process drops its key cache on its next request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from koe.errors import AuthError, ConfigError, NotFoundError
from models.markers import KEYS, bump_marker
from models.tables import ApiKey, WebSession, utcnow

ROLES = ("manager", "csm", "data")
KEY_PREFIX = "koe_"


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """Who a valid key belongs to."""

    key_id: int
    role: str
    name: str
    prefix: str


@dataclass(frozen=True, slots=True)
class KeyListing:
    """A key as ``koe keys list`` shows it (never the key or its hash)."""

    key_id: int
    prefix: str
    role: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def hash_key(key: str) -> str:
    """SHA-256 hex digest of a plain key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(session: Session, role: str, *, name: str = "") -> tuple[str, KeyInfo]:
    """Create a key for ``role``; returns the plain key (shown once) and its info.

    Raises:
        ConfigError: when ``role`` is not one of manager, csm, data.

    """
    if role not in ROLES:
        raise ConfigError(f"role {role!r} is not one of {', '.join(ROLES)}")
    plain = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(name=name, role=role, prefix=plain[:12], key_hash=hash_key(plain))
    session.add(row)
    session.flush()
    return plain, KeyInfo(row.id, row.role, row.name, row.prefix)


def verify_key(session: Session, plain: str) -> KeyInfo:
    """The key's owner, if ``plain`` is a valid, unrevoked key.

    Raises:
        AuthError: for an unknown or revoked key (the message never echoes the key).

    """
    digest = hash_key(plain)
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
    if row is None or not hmac.compare_digest(row.key_hash, digest) or row.revoked_at is not None:
        raise AuthError("invalid or revoked API key; create one with `koe keys create --role ...`")
    row.last_used_at = utcnow()
    return KeyInfo(row.id, row.role, row.name, row.prefix)


def list_keys(session: Session, *, include_revoked: bool = True) -> list[KeyListing]:
    """Every key, oldest first: prefix, role, name and when it was created, last used, revoked."""
    query = select(ApiKey).order_by(ApiKey.id)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    return [
        KeyListing(row.id, row.prefix, row.role, row.name, row.created_at, row.last_used_at, row.revoked_at)
        for row in session.scalars(query)
    ]


def revoke_key(session: Session, prefix: str) -> int:
    """Revoke every live key whose prefix is ``prefix`` and end their page sessions.

    Returns:
        How many keys were revoked (at least 1).

    Raises:
        NotFoundError: when no live key has that prefix.

    """
    prefix = prefix.strip().rstrip("…").rstrip(".")
    rows = list(session.scalars(select(ApiKey).where(ApiKey.prefix == prefix, ApiKey.revoked_at.is_(None))))
    if not rows:
        raise NotFoundError(
            f"no live API key has the prefix {prefix!r}; `koe keys list` shows the prefixes (koe_ and 8 characters)"
        )
    now = utcnow()
    for row in rows:
        row.revoked_at = now
    session.execute(delete(WebSession).where(WebSession.key_id.in_([row.id for row in rows])))
    bump_marker(session, KEYS)
    return len(rows)


def open_web_session(session: Session, key_id: int, ttl_s: float) -> str:
    """Start a page session for key ``key_id`` lasting ``ttl_s`` seconds; returns its cookie token.

    Only the token's SHA-256 is stored. Sessions that have expired are deleted on the way.
    """
    now = utcnow()
    session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=hash_key(token), key_id=key_id, created_at=now, expires_at=now + timedelta(seconds=ttl_s)))
    return token


def web_session_key(session: Session, token: str) -> KeyInfo | None:
    """The key behind a live page session, or ``None`` (unknown, expired, or its key revoked)."""
    row = session.execute(
        select(ApiKey.id, ApiKey.role, ApiKey.name, ApiKey.prefix)
        .join(WebSession, WebSession.key_id == ApiKey.id)
        .where(WebSession.token_hash == hash_key(token), WebSession.expires_at > utcnow(), ApiKey.revoked_at.is_(None))
    ).first()
    return None if row is None else KeyInfo(row.id, row.role, row.name, row.prefix)


def close_web_session(session: Session, token: str) -> None:
    """End a page session (sign-out); unknown tokens are ignored."""
    session.execute(delete(WebSession).where(WebSession.token_hash == hash_key(token)))
