"""Who may do what: API keys (Bearer), page sessions (cookie) and the role matrix.

The role matrix below is the one place that says which role may use which part of koe; routes ask
for a :class:`Permission`, never for a role. API keys are checked by hash (``models.keys``) and
cached for :data:`KEY_CACHE_S` seconds, so a busy client does not write ``last_used_at`` on every
request; a revoked key stops working within that time. Page sessions keep an opaque random token
in an HTTP-only, ``SameSite=Strict`` cookie; the key itself never goes into the cookie, and the
token is stored hashed in the database (``web_sessions``), so every server worker shares it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from enum import StrEnum

from fastapi import Request

from koe.errors import AuthError, ForbiddenError
from models.db import transaction
from models.keys import close_web_session, open_web_session, verify_key, web_session_key


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
_MAX_KEYS = 10_000


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

    def principal_for_key(self, plain: str) -> Principal:
        """The owner of a plain API key.

        Raises:
            AuthError: for an unknown or revoked key.

        """
        cached = self.cached_principal_for_key(plain)
        if cached is not None:
            return cached
        digest = hashlib.sha256(plain.encode("utf-8")).hexdigest()
        now = time.monotonic()
        with transaction(self._url) as session:
            info = verify_key(session, plain)
        principal = Principal(info.key_id, info.role, info.prefix)
        with self._lock:
            if len(self._keys) > _MAX_KEYS:
                self._keys.clear()
            self._keys[digest] = _Entry(principal, now + KEY_CACHE_S)
        return principal

    def cached_principal_for_key(self, plain: str) -> Principal | None:
        """The owner of ``plain`` if it was verified within :data:`KEY_CACHE_S` seconds (no I/O)."""
        digest = hashlib.sha256(plain.encode("utf-8")).hexdigest()
        with self._lock:
            cached = self._keys.get(digest)
        if cached is not None and cached.expires_at > time.monotonic():
            return cached.principal
        return None

    def open_session(self, plain: str) -> str:
        """Check ``plain`` and return a new opaque session token for the cookie."""
        principal = self.principal_for_key(plain)
        with transaction(self._url) as session:
            return open_web_session(session, principal.key_id, SESSION_TTL_S)

    def close_session(self, token: str) -> None:
        """End a page session (sign-out), for every server process at once."""
        with transaction(self._url) as session:
            close_web_session(session, token)

    def principal_for_session(self, token: str) -> Principal:
        """The caller behind a session cookie; the session must be live and its key unrevoked.

        Looked up in the database on every page request (one primary-key read), so a sign-out or a
        revoked key takes effect at once in every server process.

        Raises:
            AuthError: for an unknown, expired or revoked session.

        """
        with transaction(self._url) as session:
            info = web_session_key(session, token)
        if info is None:
            raise AuthError("session expired, signed out or its API key revoked; sign in again with your API key")
        return Principal(info.key_id, info.role, info.prefix)

    def cached_principal(self, request: Request) -> Principal | None:
        """The caller of ``request`` when it is answerable from memory alone (no database I/O).

        Lets the service authenticate a busy Bearer client on the event loop; ``None`` means
        :meth:`authenticate` must run (in a worker thread), which also raises the refusals.
        """
        header = request.headers.get("authorization")
        if not header:
            return None
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            return None
        return self.cached_principal_for_key(credentials.strip())

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
