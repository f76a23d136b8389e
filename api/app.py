"""The FastAPI application: ``create_app(settings)``; ``koe serve`` runs it with uvicorn.

Nothing connects to the database at import time or in ``create_app``: the engine is created lazily
from ``settings.resolved_database_url`` and the schema is brought up to date on startup.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import pages
from api.auth import Authenticator
from api.cache import ReportCache
from api.deps import AppState, Database
from api.errors import install_error_handlers
from api.flow_runner import PipelineRunner
from api.routes import calls, customers, pipeline, privacy, reports, topics
from api.schemas import Health
from koe import PIPELINE_VERSION, __version__
from koe.settings import Settings, get_settings
from models.db import POOL_SIZE, ensure_database, load_read_sessionmaker

HERE = Path(__file__).parent
DESCRIPTION = """\
koe (声): Japanese customer-support calls in, Voice-of-Customer insight out.

Authenticate with `Authorization: Bearer <key>` (`koe keys create --role manager|csm|data`).
Roles: **manager** reads everything (reports, customers, calls, runs); **csm** reads customers,
calls and briefs; **data** does everything, including starting pipeline runs. Errors are
`{"error": {"code", "message", "field"?}}`. Text is redacted unless `KOE_RAW_TEXT` is on and the
role is data.
"""


def api_threads(settings: Settings) -> int:
    """Worker threads per server process (``KOE_API_THREADS``), at most :data:`models.db.POOL_SIZE`.

    Measured with ``bench/api.py`` (2 workers, 32 clients, 2 cores): on SQLite, whose queries run
    in-process under the GIL, 4 threads served 1,100 customer-list pages/s at p99 52 ms where 16
    served 950 at 84 ms; PostgreSQL, which waits on the network, does as well with 8 as with 4.
    """
    default = 4 if settings.resolved_database_url.startswith("sqlite") else 8
    return min(settings.api_threads or default, POOL_SIZE)


class RefuseNul:
    """Refuse a NUL byte in the path or query with 422, before any route sees it.

    A NUL is never part of a valid id or query; PostgreSQL would refuse it deep inside a query (a
    500). A plain ASGI middleware: Starlette's ``BaseHTTPMiddleware`` costs a task per request.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 422 for a NUL, else pass the request on."""
        if scope["type"] == "http":
            raw = scope.get("path", "") + scope.get("query_string", b"").decode("latin-1")
            if "\x00" in raw or "%00" in raw.lower():
                refusal = JSONResponse(
                    status_code=422,
                    content={"error": {"code": "invalid_input", "message": "NUL characters are not allowed in paths or parameters"}},
                )
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


class BodyTooLarge(Exception):
    """Raised inside :class:`LimitBody` when a body without Content-Length grows past the limit."""


class LimitBody:
    """Refuse request bodies over ``max_bytes`` with 413, before authentication or any route.

    A declared ``Content-Length`` over the limit is answered at once, without reading a byte of
    the body; a chunked body is counted as it arrives and cut off at the limit. So an
    unauthenticated client cannot make a worker buffer a 64 MB upload (``KOE_MAX_BODY_BYTES``).

    Args:
        app: The application behind it.
        max_bytes: Largest body accepted, in bytes.

    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 413 for an oversized body, else pass the request on with a counting ``receive``."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope.get("headers", []) if k == b"content-length"), None)
        if declared is not None:
            try:
                too_large = int(declared) > self.max_bytes
            except ValueError:
                too_large = False  # the server (h11, httptools) refuses a malformed length itself
            if too_large:
                await self._refuse(scope, receive, send)
                return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = JSONResponse(
            status_code=413,
            content={
                "error": {
                    "code": "payload_too_large",
                    "message": f"request body over {self.max_bytes} bytes; send less (the limit is KOE_MAX_BODY_BYTES)",
                }
            },
            headers={"Connection": "close"},
        )
        await refusal(scope, receive, send)


def create_app(settings: Settings | None = None, *, report_cache_s: float | None = None) -> FastAPI:
    """Build koe's service.

    Args:
        settings: koe's settings; default: :func:`koe.settings.get_settings`.
        report_cache_s: Seconds aggregate reports are cached (default :data:`api.cache.TTL_S`; 0 = off).

    Returns:
        The FastAPI app: JSON API, pages under ``/ui``, static files under ``/static``.

    """
    settings = settings or get_settings()
    url = settings.resolved_database_url
    cache = ReportCache() if report_cache_s is None else ReportCache(report_cache_s)
    runner = PipelineRunner(url, on_finish=cache.clear)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Routes' database work runs in worker threads, never more than the pool has connections,
        # so a request never waits for a connection (or opens and drops an extra one) under load.
        anyio.to_thread.current_default_thread_limiter().total_tokens = api_threads(settings)
        await run_in_threadpool(ensure_database, url)
        yield
        await run_in_threadpool(runner.shutdown)

    app = FastAPI(
        title="koe",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.koe = AppState(
        settings=settings,
        database=Database(load_read_sessionmaker(url), url),
        auth=Authenticator(
            url,
            audio_roles=settings.audio_roles,
            on_reports_changed=cache.clear,
            secure_cookies=settings.secure_cookies,
        ),
        cache=cache,
        runner=runner,
    )
    app.state.templates = Jinja2Templates(directory=HERE / "templates")
    pages.configure_templates(app.state.templates)
    install_error_handlers(app)
    app.add_middleware(RefuseNul)
    # Added last, so outermost: an oversized body is refused before anything else looks at it.
    app.add_middleware(LimitBody, max_bytes=settings.max_body_bytes)

    @app.get("/health", response_model=Health, tags=["health"], summary="Liveness (no key needed)")
    async def health() -> Health:
        """Always ``ok`` while the process serves requests; reveals nothing about the data."""
        return Health(version=__version__, pipeline_version=PIPELINE_VERSION)

    for module in (calls, customers, reports, pipeline, topics):
        app.include_router(module.router)
    app.include_router(privacy.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    return app


def tune_collector() -> None:
    """Tune Python's garbage collector for a long-running server process.

    The app's import-time objects (modules, routes, schemas, the ORM) are moved out of the collector's
    reach (``gc.freeze``), and young-generation collections run every 50,000 allocations instead of
    700. Without this, full collections walking the whole heap stall every request in flight: on
    the 100,000-call benchmark they were most of the p99 latency (``bench/api.py``).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)


def server_app() -> FastAPI:
    """The app as ``koe serve`` runs it (a uvicorn factory): settings from ``KOE_*``, tuned collector."""
    app = create_app()
    tune_collector()
    return app
