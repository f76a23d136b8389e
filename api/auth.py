"""Who may do what: API keys (Bearer), page sessions (cookie) and the role matrix.

The role matrix below is the one place that says which role may use which part of koe; routes ask
for a :class:`Permission`, never for a role. API keys are checked by hash (``models.keys``) and
cached for :data:`KEY_CACHE_S` seconds, so a busy client does not write ``last_used_at`` on every
request; a revoked key stops working within that time. Page sessions keep an opaque random token
in an HTTP-only, ``SameSite=Strict`` cookie; the key itself never goes into the cookie.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from enum import StrEnum

from fastapi import Request
from sqlalchemy import select

from koe.errors import AuthError, ForbiddenError
from models.db import transaction
from models.keys import verify_key
from models.tables import ApiKey


class Permission(StrEnum):
    """What a route needs."""

    CALLS = "calls:read"  # calls list, call detail, recordings, search
    CUSTOMERS = "customers:read"  # customer list, summaries, CSM briefs
    REPORTS = "reports:read"  # topic and agent reports
    RUNS_READ = "runs:read"  # pipeline run history
    RUNS_WRITE = "runs:write"  # start process_calls / reprocess
    RAW_TEXT = "raw_text"  # unredacted text, and only when KOE_RAW_TEXT is on


#: The role matrix. manager: reports and everything read-only; csm: customers, calls, briefs;
#: data: everything, plus starting pipeline runs and raw text.
ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "manager": frozenset({Permission.CALLS, Permission.CUSTOMERS, Permission.REPORTS, Permission.RUNS_READ}),
    "csm": frozenset({Permission.CALLS, Permission.CUSTOMERS}),
    "data": frozenset(Permission),
}

SESSION_COOKIE = "koe_session"
SESSION_TTL_S = 8 * 3600
KEY_CACHE_S = 30.0
_MAX_SESSIONS = 10_000


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: which key (id and display prefix) and its role."""

    key_id: int
    role: str
    prefix: str

    def can(self, permission: Permission) -> bool:
        """Whether this caller's role grants ``permission``."""
        return permission in ROLE_PERMISSIONS.get(self.role, frozenset())


@dataclass(slots=True)
class _Entry:
    principal: Principal
    expires_at: float


class Authenticator:
    """Checks Bearer keys and page sessions against one database.

    Args:
        database_url: The database holding the API keys.

    """

    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._lock = threading.Lock()
        self._keys: dict[str, _Entry] = {}
        self._sessions: dict[str, _Entry] = {}
        self._revoked_checked: dict[int, float] = {}

    def principal_for_key(self, plain: str) -> Principal:
        """The owner of a plain API key.

        Raises:
            AuthError: for an unknown or revoked key.

        """
        digest = hashlib.sha256(plain.encode("utf-8")).hexdigest()
        now = time.monotonic()
        with self._lock:
            cached = self._keys.get(digest)
        if cached is not None and cached.expires_at > now:
            return cached.principal
        with transaction(self._url) as session:
            info = verify_key(session, plain)
        principal = Principal(info.key_id, info.role, info.prefix)
        with self._lock:
            if len(self._keys) > _MAX_SESSIONS:
                self._keys.clear()
            self._keys[digest] = _Entry(principal, now + KEY_CACHE_S)
        return principal

    def open_session(self, plain: str) -> str:
        """Check ``plain`` and return a new opaque session token for the cookie."""
        principal = self.principal_for_key(plain)
        token = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            if len(self._sessions) >= _MAX_SESSIONS:
                self._sessions = {k: v for k, v in self._sessions.items() if v.expires_at > now}
            self._sessions[token] = _Entry(principal, now + SESSION_TTL_S)
        return token

    def close_session(self, token: str) -> None:
        """Forget a session token (sign-out)."""
        with self._lock:
            self._sessions.pop(token, None)

    def principal_for_session(self, token: str) -> Principal:
        """The caller behind a session cookie; the key must still be unrevoked.

        Raises:
            AuthError: for an unknown, expired or revoked session.

        """
        now = time.monotonic()
        with self._lock:
            entry = self._sessions.get(token)
        if entry is None or entry.expires_at <= now:
            raise AuthError("session expired or unknown; sign in again with your API key")
        key_id = entry.principal.key_id
        if self._revoked_checked.get(key_id, 0.0) <= now:
            with transaction(self._url) as session:
                revoked = session.execute(select(ApiKey.revoked_at).where(ApiKey.id == key_id)).first()
            if revoked is None or revoked[0] is not None:
                self.close_session(token)
                raise AuthError("the API key of this session was revoked; sign in with a valid key")
            self._revoked_checked[key_id] = now + KEY_CACHE_S
        return entry.principal

    def authenticate(self, request: Request) -> Principal:
        """The caller of ``request``: a Bearer key, else the page-session cookie.

        Raises:
            AuthError: when neither is present and valid.

        """
        header = request.headers.get("authorization")
        if header:
            scheme, _, credentials = header.partition(" ")
            if scheme.lower() != "bearer" or not credentials.strip():
                raise AuthError("Authorization header must be 'Bearer <API key>'")
            return self.principal_for_key(credentials.strip())
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            return self.principal_for_session(token)
        raise AuthError("no API key: send 'Authorization: Bearer <key>' (create one with `koe keys create`)")


def check(principal: Principal, permission: Permission) -> None:
    """Refuse ``principal`` unless its role grants ``permission``.

    Raises:
        ForbiddenError: naming the roles that may do it.

    """
    if not principal.can(permission):
        allowed = ", ".join(role for role, perms in ROLE_PERMISSIONS.items() if permission in perms)
        raise ForbiddenError(f"role {principal.role!r} may not use this ({permission.value}); roles allowed: {allowed}")
