"""Request-scoped dependencies: the app's state, a database session, the authenticated caller."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Annotated

import anyio
from fastapi import Depends, Request
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from api.auth import Authenticator, Permission, Principal, check
from api.cache import ReportCache
from api.pipeline import PipelineRunner
from koe.errors import ConfigError
from koe.settings import Settings
from models.db import POOL_SIZE, translate_db_error


@dataclass(slots=True)
class AppState:
    """Everything the routes share, built by ``create_app`` (no connection is opened before startup)."""

    settings: Settings
    sessions: sessionmaker[Session]
    auth: Authenticator
    cache: ReportCache
    runner: PipelineRunner
    closers: anyio.CapacityLimiter = field(default_factory=lambda: anyio.CapacityLimiter(POOL_SIZE))


async def get_state(request: Request) -> AppState:
    """The app's shared state (``async``: no I/O, so no worker-thread hop)."""
    state: AppState = request.app.state.koe
    return state


async def get_db(state: Annotated[AppState, Depends(get_state)]) -> AsyncIterator[Session]:
    """A read session for one request; database errors become koe's storage errors.

    Routes only read through it (writes go through ``models.db.transaction``). Opening a session
    does no I/O: the connection is taken on first use, in the endpoint's worker thread. Closing it
    (which ends the read transaction and returns the connection to the pool) runs in a worker
    thread too, so the event loop never waits on the database, but one of a separate set: if it
    waited behind endpoints that themselves wait for a pooled connection, nothing would ever give
    one back.
    """
    session = state.sessions()
    try:
        yield session
    except SQLAlchemyError as exc:
        raise translate_db_error(exc, state.settings.resolved_database_url) from exc
    finally:
        await anyio.to_thread.run_sync(session.close, limiter=state.closers)


async def get_principal(request: Request, state: Annotated[AppState, Depends(get_state)]) -> Principal:
    """The authenticated caller (401 through the error handler when there is none).

    A key seen within the key cache's lifetime is answered on the event loop; anything that needs
    the database (a new key, a page session's revocation check) runs in a worker thread.
    """
    principal = state.auth.cached_principal(request)
    if principal is None:
        principal = await run_in_threadpool(state.auth.authenticate, request)
    request.state.principal = principal
    return principal


def require(permission: Permission) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets through only callers whose role grants ``permission``."""

    async def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        check(principal, permission)
        return principal

    dependency.__name__ = f"require_{permission.name.lower()}"
    return dependency


def raw_text_allowed(principal: Principal, state: AppState) -> bool:
    """Unredacted text only when ``KOE_RAW_TEXT`` is on and the role may see it."""
    return state.settings.raw_text and principal.can(Permission.RAW_TEXT)


DB = Annotated[Session, Depends(get_db)]
State = Annotated[AppState, Depends(get_state)]


def summaries() -> ModuleType:
    """``models.summaries`` (the insights stage's reads), imported when first needed.

    Raises:
        ConfigError: when this installation has no customer summaries yet.

    """
    try:
        return importlib.import_module("models.summaries")
    except ModuleNotFoundError as exc:
        raise ConfigError("customer summaries are not available in this koe installation (models.summaries)") from exc
