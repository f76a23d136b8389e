"""Shared fixtures: a real database on SQLite and on PostgreSQL, and koe settings pointing at it.

The PostgreSQL half uses the server on 127.0.0.1:5432 (database ``test``, or ``KOE_TEST_POSTGRES_URL``)
with a fresh schema per test. Where no server is reachable it is skipped, and the run says so loudly
at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from koe.settings import get_settings
from models.db import dispose_engine, upgrade_database

POSTGRES_URL = os.environ.get("KOE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_postgres_skipped: list[str] = []
_postgres_state: dict[str, str | None] = {}


def postgres_unavailable() -> str | None:
    """Why PostgreSQL cannot be used (``None`` when it can); checked once per session."""
    if "reason" not in _postgres_state:
        try:
            engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
            with engine.connect() as connection:
                connection.execute(sa.text("select 1"))
            engine.dispose()
            _postgres_state["reason"] = None
        except Exception as exc:
            _postgres_state["reason"] = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    return _postgres_state["reason"]


def _trigram_extension_in_public(admin: sa.Engine) -> None:
    # pg_trgm is one per database. Created by a migration inside a test's own schema, it would be
    # dropped with that schema (CASCADE) under the feet of another test session sharing the
    # server ("referenced operator class was concurrently dropped"). Created once in public, no
    # test schema owns it; the migration then takes its "extension in another schema" path.
    try:
        with admin.begin() as connection:
            connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"))
    except sa.exc.IntegrityError:
        pass  # another session created it at the same moment


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A migrated PostgreSQL database in a fresh schema, dropped afterwards."""
    reason = postgres_unavailable()
    if reason:
        _postgres_skipped.append(reason)
        pytest.skip(f"PostgreSQL at {POSTGRES_URL} unreachable ({reason})")
    schema = f"koe_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    _trigram_extension_in_public(admin)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    try:
        upgrade_database(url)
        yield url
    finally:
        dispose_engine(url)
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    """A migrated SQLite database file in a temporary folder."""
    url = f"sqlite:///{tmp_path / 'koe.db'}"
    upgrade_database(url)
    yield url
    dispose_engine(url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """A migrated database URL: the same test runs on SQLite and on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def koe_env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point koe's settings (``KOE_DATABASE_URL``, ``KOE_DATA_DIR``) at the test database."""
    monkeypatch.setenv("KOE_DATABASE_URL", db_url)
    monkeypatch.setenv("KOE_DATA_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    yield db_url
    get_settings.cache_clear()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say loudly when the PostgreSQL half did not run."""
    if _postgres_skipped:
        terminalreporter.section("PostgreSQL NOT TESTED", sep="!", red=True, bold=True)
        terminalreporter.write_line(
            f"{len(_postgres_skipped)} PostgreSQL test(s) were SKIPPED: {_postgres_skipped[0]}. "
            f"Start PostgreSQL or set KOE_TEST_POSTGRES_URL.",
            red=True,
            bold=True,
        )


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect server and database for the whole session (slow to start, so shared)."""
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield
