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
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from koe.errors import StorageError, TransientStorageError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
T = TypeVar("T")
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


def dispose_engine(url: str) -> None:
    """Close the pooled connections of ``url``'s engine and forget it (tests, forked workers)."""
    load_engine(url).dispose()
    load_engine.cache_clear()


def load_sessionmaker(url: str) -> sessionmaker[Session]:
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
    """Map a SQLAlchemy error to :class:`StorageError` or :class:`TransientStorageError`."""
    where = make_url(url).render_as_string(hide_password=True)
    text = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else type(exc).__name__
    transient_words = ("locked", "busy", "timeout", "could not connect", "connection", "terminat", "deadlock")
    invalidated = isinstance(exc, DBAPIError) and exc.connection_invalidated
    if isinstance(exc, OperationalError) or invalidated or any(w in text.lower() for w in transient_words):
        return TransientStorageError(
            f"{where}: database busy or unreachable ({text}); retry later or check the database server"
        )
    return StorageError(f"{where}: {text}")


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
