"""Who may do what: API keys (Bearer), page sessions (cookie) and the role matrix.

The role matrix below is the one place that says which role may use which part of koe; routes ask
for a :class:`Permission`, never for a role. Recordings are never redacted, so playing them is a
permission of its own (:data:`Permission.AUDIO`), granted to the roles in ``KOE_AUDIO_ROLES``
(default: data only) whatever ``KOE_RAW_TEXT`` says.

API keys are checked by hash (``models.keys``) and the verified ones are kept in memory, so a busy
client does not write ``last_used_at`` on every request. Every authenticated request first reads
the change markers (``models.markers``: one primary-key read of a two-row table): when the ``keys``
counter moved (a key was revoked, by any worker or by ``koe keys revoke``) the key cache is dropped,
so a revoked key stops working in every server process at once; when ``reports`` moved (a customer
was forgotten) the report cache is dropped too. Page sessions keep an opaque random token in an
HTTP-only, ``SameSite=Strict`` cookie (``__Host-koe_session`` and ``Secure`` behind HTTPS); the key
itself never goes into the cookie, and the token is stored hashed in the database
(``web_sessions``), so every server worker shares it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from fastapi import Request

from koe.errors import AuthError, ForbiddenError
from models.db import transaction
from models.keys import close_web_session, open_web_session, verify_key, web_session_key
from models.markers import KEYS, REPORTS, read_markers


class Permission(StrEnum):
    """What a route needs."""

    CALLS = "calls:read"  # calls list, call detail, recordings, search
    CUSTOMERS = "customers:read"  # customer list, summaries, CSM briefs
    REPORTS = "reports:read"  # topic and agent reports
    RUNS_READ = "runs:read"  # pipeline run history
    RUNS_WRITE = "runs:write"  # start process_calls / reprocess
    RAW_TEXT = "raw_text"  # unredacted text, and only when KOE_RAW_TEXT is on
    AUDIO = "audio"  # recordings (never redacted): the roles in KOE_AUDIO_ROLES
    ATTRIBUTES = "attributes:all"  # every extra input column, not only KOE_ATTRIBUTES_SHOWN
    TOPICS_WRITE = "topics:write"  # rename and merge topics (a manager's steering of the report)


#: The role matrix (with the default ``KOE_AUDIO_ROLES=data``). manager: reports and everything
#: read-only; csm: customers, calls, briefs; data: everything, plus starting pipeline runs, raw
#: text, recordings and every extra input column.
ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "manager": frozenset(
        {Permission.CALLS, Permission.CUSTOMERS, Permission.REPORTS, Permission.RUNS_READ, Permission.TOPICS_WRITE}
    ),
    "csm": frozenset({Permission.CALLS, Permission.CUSTOMERS}),
    "data": frozenset(Permission),
}

SESSION_COOKIE = "koe_session"
#: The cookie's name behind HTTPS: the ``__Host-`` prefix makes browsers refuse it unless it is
#: Secure, has ``Path=/`` and no ``Domain`` (so a sibling subdomain or plain http cannot plant one).
SECURE_SESSION_COOKIE = "__Host-koe_session"
SESSION_TTL_S = 8 * 3600
KEY_CACHE_S = 30.0
_MAX_KEYS = 10_000


def cookie_is_secure(request: Request, secure_cookies: bool | None) -> bool:
    """Whether the session cookie is ``__Host-`` and ``Secure``: ``KOE_SECURE_COOKIES``, else the request's scheme."""
    return request.url.scheme == "https" if secure_cookies is None else secure_cookies


def session_cookie_name(secure: bool) -> str:
    """The session cookie's name: :data:`SECURE_SESSION_COOKIE` when it is Secure."""
    return SECURE_SESSION_COOKIE if secure else SESSION_COOKIE


def role_permissions(audio_roles: Iterable[str] = ("data",)) -> dict[str, frozenset[Permission]]:
    """The role matrix with :data:`Permission.AUDIO` granted to exactly ``audio_roles``."""
    allowed = set(audio_roles)
    return {
        role: frozenset(p for p in permissions if p is not Permission.AUDIO) | (
            {Permission.AUDIO} if role in allowed else frozenset()
        )
        for role, permissions in ROLE_PERMISSIONS.items()
    }


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: which key (id and display prefix), its role and what the role may do."""

    key_id: int
    role: str
    prefix: str
    permissions: frozenset[Permission] = frozenset()

    def can(self, permission: Permission) -> bool:
        """Whether this caller's role grants ``permission``."""
        return permission in self.permissions


@dataclass(slots=True)
class _Entry:
    principal: Principal
    expires_at: float


class Authenticator:
    """Checks Bearer keys and page sessions against one database.

    Args:
        database_url: The database holding the API keys.
        audio_roles: Roles that may play recordings (``KOE_AUDIO_ROLES``).
        on_reports_changed: Called when another process forgot a customer (drop the report cache).
        secure_cookies: ``KOE_SECURE_COOKIES`` (``None``: Secure when the request came over HTTPS).

    """

    def __init__(
        self,
        database_url: str,
        *,
        audio_roles: Iterable[str] = ("data",),
        on_reports_changed: Callable[[], None] | None = None,
        secure_cookies: bool | None = None,
    ) -> None:
        self._url = database_url
        self._secure_cookies = secure_cookies
        self._lock = threading.Lock()
        self._keys: dict[str, _Entry] = {}
        self._markers: dict[str, int] | None = None
        self._on_reports_changed = on_reports_changed
        self.roles = role_permissions(audio_roles)

    def _principal(self, key_id: int, role: str, prefix: str) -> Principal:
        return Principal(key_id, role, prefix, self.roles.get(role, frozenset()))

    def sync_markers(self) -> None:
        """Read the change markers and drop every cache whose counter moved (one small read)."""
        with transaction(self._url) as session:
            markers = read_markers(session)
        self._apply_markers(markers)

    def _apply_markers(self, markers: dict[str, int]) -> None:
        with self._lock:
            seen, self._markers = self._markers, markers
            if seen is not None and seen.get(KEYS) != markers.get(KEYS):
                self._keys.clear()
        if seen is not None and seen.get(REPORTS) != markers.get(REPORTS) and self._on_reports_changed:
            self._on_reports_changed()

    def principal_for_key(self, plain: str) -> Principal:
        """The owner of a plain API key, after checking the change markers (a revocation anywhere).

        Raises:
            AuthError: for an unknown or revoked key.

        """
        self.sync_markers()
        cached = self.cached_principal_for_key(plain)
        if cached is not None:
            return cached
        digest = hashlib.sha256(plain.encode("utf-8")).hexdigest()
        now = time.monotonic()
        with transaction(self._url) as session:
            info = verify_key(session, plain)
            markers = read_markers(session)
        principal = self._principal(info.key_id, info.role, info.prefix)
        self._apply_markers(markers)
        with self._lock:
            if len(self._keys) > _MAX_KEYS:
                self._keys.clear()
            self._keys[digest] = _Entry(principal, now + KEY_CACHE_S)
        return principal

    def cached_principal_for_key(self, plain: str) -> Principal | None:
        """The owner of ``plain`` if this process verified it within :data:`KEY_CACHE_S` seconds.

        No I/O, so no revocation check either: :meth:`principal_for_key` reads the change markers
        first and is what requests go through.
        """
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
            markers = read_markers(session)
        self._apply_markers(markers)
        if info is None:
            raise AuthError("session expired, signed out or its API key revoked; sign in again with your API key")
        return self._principal(info.key_id, info.role, info.prefix)

    def authenticate(self, request: Request) -> Principal:
        """The caller of ``request``: a Bearer key, else the page-session cookie.

        Behind HTTPS only the ``__Host-`` cookie is read (a plain-named one could have been planted
        over http); over plain http only the plain one.

        Raises:
            AuthError: when neither is present and valid.

        """
        header = request.headers.get("authorization")
        if header:
            scheme, _, credentials = header.partition(" ")
            if scheme.lower() != "bearer" or not credentials.strip():
                raise AuthError("Authorization header must be 'Bearer <API key>'")
            return self.principal_for_key(credentials.strip())
        token = request.cookies.get(session_cookie_name(cookie_is_secure(request, self._secure_cookies)))
        if token:
            return self.principal_for_session(token)
        raise AuthError("no API key: send 'Authorization: Bearer <key>' (create one with `koe keys create`)")


def check(principal: Principal, permission: Permission, roles: dict[str, frozenset[Permission]] | None = None) -> None:
    """Refuse ``principal`` unless its role grants ``permission``.

    Args:
        principal: The caller.
        permission: What the operation needs.
        roles: The role matrix in force (default: :data:`ROLE_PERMISSIONS`), named in the refusal.

    Raises:
        ForbiddenError: naming the roles that may do it.

    """
    if not principal.can(permission):
        matrix = roles or ROLE_PERMISSIONS
        allowed = ", ".join(role for role, perms in matrix.items() if permission in perms) or "none"
        hint = " (set KOE_AUDIO_ROLES to change who may play recordings)" if permission is Permission.AUDIO else ""
        raise ForbiddenError(
            f"role {principal.role!r} may not use this ({permission.value}); roles allowed: {allowed}{hint}"
        )
