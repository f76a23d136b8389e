"""Request-scoped dependencies: the app's state, a database session, the authenticated caller."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.auth import Authenticator, Permission, Principal, check
from api.cache import ReportCache
from api.flow_runner import PipelineRunner
from koe.settings import Settings
from models.db import SessionFactory, read_session_work

T = TypeVar("T")


class Database:
    """A route's database reads, run in one worker thread with a session opened and closed there.

    The sessions come from the read engine (``models.db.load_read_engine``: on PostgreSQL one round
    trip per query, read-only on the server); writes (keys, page sessions, pipeline runs, erasure)
    open their own transactions.

    A connection is held only while the work runs, never while a request waits for a thread or for
    its response to be written, and the API runs at most as many threads as the pool has
    connections (``api.app``). So no request ever waits for a connection, and a busy server cannot
    end up with every connection held by requests that wait for threads held by requests that
    wait for connections. Database errors become koe's storage errors.

    Args:
        sessions: Session factory of the app's database.
        url: The database URL (named in error messages).

    """

    def __init__(self, sessions: SessionFactory, url: str) -> None:
        self._sessions = sessions
        self._url = url

    async def run(self, work: Callable[[Session], T]) -> T:
        """``work(session)`` in a worker thread (JSON routes: ``await db.run(...)``)."""
        return await run_in_threadpool(self.call, work)

    def call(self, work: Callable[[Session], T]) -> T:
        """``work(session)`` in the calling thread (routes that already run in a worker thread)."""
        return read_session_work(self._sessions, work, self._url)


@dataclass(slots=True)
class AppState:
    """Everything the routes share, built by ``create_app`` (no connection is opened before startup)."""

    settings: Settings
    database: Database
    auth: Authenticator
    cache: ReportCache
    runner: PipelineRunner


async def get_state(request: Request) -> AppState:
    """The app's shared state (``async``: no I/O, so no worker-thread hop)."""
    state: AppState = request.app.state.koe
    return state


async def get_database(state: Annotated[AppState, Depends(get_state)]) -> Database:
    """The app's :class:`Database` (no I/O here: the work runs when a route asks)."""
    return state.database


async def get_principal(request: Request, state: Annotated[AppState, Depends(get_state)]) -> Principal:
    """The authenticated caller (401 through the error handler when there is none).

    Runs in a worker thread: even a cached key is checked against the change markers in the
    database (a key revoked by another worker or the CLI is refused at once; ``api.auth``).
    """
    principal = await run_in_threadpool(state.auth.authenticate, request)
    request.state.principal = principal
    return principal


def require(permission: Permission) -> Callable[[Principal, AppState], Awaitable[Principal]]:
    """A dependency that lets through only callers whose role grants ``permission``."""

    async def dependency(
        principal: Annotated[Principal, Depends(get_principal)], state: Annotated[AppState, Depends(get_state)]
    ) -> Principal:
        check(principal, permission, state.auth.roles)
        return principal

    dependency.__name__ = f"require_{permission.name.lower()}"
    return dependency


def raw_text_allowed(principal: Principal, state: AppState) -> bool:
    """Unredacted text only when ``KOE_RAW_TEXT`` is on and the role may see it."""
    return state.settings.raw_text and principal.can(Permission.RAW_TEXT)


def shown_attributes(principal: Principal, state: AppState) -> frozenset[str] | None:
    """The call attributes (extra input columns) ``principal`` may see; ``None``: all of them.

    Extra columns are kept verbatim and may hold a caller's name or number, so roles without
    :data:`Permission.ATTRIBUTES` (everyone but data) see only ``KOE_ATTRIBUTES_SHOWN``.
    """
    if principal.can(Permission.ATTRIBUTES):
        return None
    return frozenset(state.settings.attributes_shown)


DB = Annotated[Database, Depends(get_database)]
State = Annotated[AppState, Depends(get_state)]


def ranking_key(order: str, level: str | None, limit: int, cursor: str | None) -> tuple[str | int | None, ...]:
    """The report-cache key of one page of the customer ranking (shared by the JSON route and the page)."""
    return ("customers", order, level, limit, cursor)
