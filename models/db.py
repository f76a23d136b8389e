"""Engines, sessions and schema upgrades.

SQLite (the embedded default) runs in WAL mode with foreign keys on and a busy timeout, so readers
never block the writer and concurrent writers wait instead of failing. PostgreSQL is the production
store; both run the same Alembic migrations.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from koe.errors import StorageError, TransientStorageError, UniqueConflictError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
T = TypeVar("T")
#: What opens sessions on one engine; callers outside models/ hold it without knowing SQLAlchemy.
SessionFactory = sessionmaker[Session]
#: Connections each process keeps open per database. The API runs at most this many requests'
#: database work at once (``api.app``), so a request never waits for, or churns, a connection.
POOL_SIZE = 16
#: Extra short-lived connections for bursts outside the API (flows, maintenance).
POOL_OVERFLOW = 8


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    # WAL lets the API read while ingest writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@lru_cache(maxsize=8)
def load_engine(url: str) -> Engine:
    """Create (once per process and URL) the engine for ``url``.

    Args:
        url: SQLAlchemy URL; ``sqlite:///path`` or ``postgresql+psycopg://...``. A bare
            ``postgresql://`` URL is taken to mean the psycopg 3 driver.

    Returns:
        The engine, with SQLite pragmas applied on every connection.

    """
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed,
            connect_args={"timeout": 30, "check_same_thread": False},
            pool_size=POOL_SIZE,
            max_overflow=POOL_OVERFLOW,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(parsed, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)


def _read_only_session(dbapi_connection: Any, _record: object) -> None:
    # Every statement on a read connection runs read-only: a write there is a bug, and fails loudly.
    cursor = dbapi_connection.cursor()
    cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    cursor.close()
    dbapi_connection.commit()


@lru_cache(maxsize=8)
def load_read_engine(url: str) -> Engine:
    """The engine for read-only work on ``url`` (the API's reads), created once per process.

    On PostgreSQL a read costs one round trip instead of four: the connections are in autocommit
    (no BEGIN before the query, no ROLLBACK when the connection goes back to the pool) and are not
    pinged on checkout. Visibility is unchanged: under READ COMMITTED each statement sees its own
    snapshot inside a transaction too. Without the ping, a connection that went stale (the database
    restarted) fails its first statement; SQLAlchemy then invalidates the pool, and
    :func:`read_session_work` repeats the read once on a fresh connection. The sessions are
    read-only on the server (``SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY``). SQLite
    reads share :func:`load_engine`'s engine (no round trips to save).
    """
    engine = load_engine(url)
    if engine.dialect.name != "postgresql":
        return engine
    reads = create_engine(
        engine.url,
        isolation_level="AUTOCOMMIT",
        pool_pre_ping=False,
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
    )
    event.listen(reads, "connect", _read_only_session)
    return reads


def load_read_sessionmaker(url: str) -> SessionFactory:
    """A session factory for read-only work (:func:`load_read_engine`)."""
    return sessionmaker(load_read_engine(url), expire_on_commit=False)


def read_session_work(sessions: SessionFactory, work: Callable[[Session], T], url: str) -> T:
    """``work(session)`` on a fresh session of ``sessions``, repeated once if the connection was stale.

    Only for work that reads: a read is safe to repeat. A statement that failed because its
    pooled connection had been cut (``connection_invalidated``: SQLAlchemy has already discarded
    the pool's older connections) runs again on a new connection; any other error, or a second
    failure, is translated into koe's storage errors (:func:`translate_db_error`).
    """
    for attempt in (1, 2):
        try:
            with sessions() as session:
                return work(session)
        except DBAPIError as exc:
            if attempt == 1 and exc.connection_invalidated:
                continue
            raise translate_db_error(exc, url) from exc
        except SQLAlchemyError as exc:
            raise translate_db_error(exc, url) from exc
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def dispose_engine(url: str) -> None:
    """Close the pooled connections of ``url``'s engines and forget them (tests, forked workers)."""
    load_read_engine(url).dispose()
    load_engine(url).dispose()
    load_read_engine.cache_clear()
    load_engine.cache_clear()


def load_sessionmaker(url: str) -> SessionFactory:
    """A session factory bound to the engine of ``url`` (objects stay usable after commit)."""
    return sessionmaker(load_engine(url), expire_on_commit=False)


@contextmanager
def transaction(url: str) -> Iterator[Session]:
    """A session whose work commits at the end of the block, or rolls back on error.

    Database errors are translated into koe's error tree: locks, timeouts and lost connections
    become :class:`TransientStorageError`, the rest :class:`StorageError`.
    """
    session = load_sessionmaker(url)()
    try:
        yield session
        session.commit()
    except SQLAlchemyError as exc:
        session.rollback()
        raise translate_db_error(exc, url) from exc
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def translate_db_error(exc: SQLAlchemyError, url: str) -> StorageError:
    """Map a SQLAlchemy error to :class:`StorageError`, :class:`TransientStorageError` or :class:`UniqueConflictError`."""
    where = make_url(url).render_as_string(hide_password=True)
    text = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else type(exc).__name__
    transient_words = ("locked", "busy", "timeout", "could not connect", "connection", "terminat", "deadlock")
    invalidated = isinstance(exc, DBAPIError) and exc.connection_invalidated
    if isinstance(exc, OperationalError) or invalidated or any(w in text.lower() for w in transient_words):
        return TransientStorageError(
            f"{where}: database busy or unreachable ({text}); retry later or check the database server"
        )
    if isinstance(exc, IntegrityError):
        return UniqueConflictError(f"{where}: {text}")
    return StorageError(f"{where}: {text}")


def retry_unique_races(operation: Callable[[], T], *, attempts: int = 3) -> T:
    """Run ``operation`` again when it lost a unique-key race with another worker.

    Two workers claiming different calls of the same new customer or agent both insert that
    person, and one commit fails on the primary key (PostgreSQL reports it at once, SQLite after
    the lock); two runs refitting the same history store the same topic-model version. Run again,
    the loser finds the row and goes on.
    """
    for attempt in range(attempts):
        try:
            return operation()
        except UniqueConflictError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")  # the loop returns or raises


def with_retries(operation: Callable[[], T], *, attempts: int = 5, base_delay_s: float = 0.2) -> T:
    """Run ``operation``, retrying transient storage errors with exponential backoff.

    Args:
        operation: A callable that opens its own transaction.
        attempts: How many times to try in all.
        base_delay_s: First wait in seconds; doubled after each failure.

    Raises:
        TransientStorageError: when the last attempt still fails transiently.

    """
    for attempt in range(attempts):
        try:
            return operation()
        except TransientStorageError:
            if attempt == attempts - 1:
                raise
            time.sleep(base_delay_s * (2**attempt))
    raise AssertionError("unreachable")


def _alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def current_revision(url: str) -> str | None:
    """The Alembic revision the database at ``url`` is on (``None`` when empty)."""
    with load_engine(url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest Alembic revision shipped with this koe."""
    return ScriptDirectory.from_config(_alembic_config("sqlite://")).get_current_head()


def upgrade_database(url: str, revision: str = "head") -> str | None:
    """Apply migrations up to ``revision``; returns the revision the database is on afterwards.

    Raises:
        StorageError: when the database cannot be reached or a migration fails.

    """
    try:
        engine = load_engine(url)
        with engine.begin() as connection:
            config = _alembic_config(url)
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except SQLAlchemyError as exc:
        raise translate_db_error(exc, url) from exc
    return current_revision(url)


def ensure_database(url: str) -> None:
    """Upgrade the database when it is empty or behind; a no-op when it is current."""
    try:
        if current_revision(url) != head_revision():
            upgrade_database(url)
    except SQLAlchemyError as exc:
        raise translate_db_error(exc, url) from exc


def table_names(url: str) -> list[str]:
    """Names of the tables in the database at ``url`` (for checks and scans)."""
    return sorted(inspect(load_engine(url)).get_table_names())


def describe_url(url: str) -> dict[str, Any]:
    """Backend and location of ``url`` without the password, for summaries and logs."""
    parsed = make_url(url)
    return {"backend": parsed.get_backend_name(), "url": parsed.render_as_string(hide_password=True)}
