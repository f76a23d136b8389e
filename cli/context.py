"""What every command shares: the console, settings, the database and JSON output."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console

from koe.errors import KoeError
from koe.settings import Settings, get_settings

console = Console(stderr=True)
T = TypeVar("T")

JsonOption = Annotated[bool, typer.Option("--json", help="Print as JSON (same shape as the API).")]


def fail(exc: BaseException, code: int = 1) -> NoReturn:
    """Print ``exc`` as one red line and exit with ``code``."""
    console.print(f"[bold red]error:[/] {exc}", highlight=False)
    raise typer.Exit(code)


def settings() -> Settings:
    """The process settings; a configuration error ends the command with its message."""
    try:
        return get_settings()
    except KoeError as exc:
        fail(exc)


def print_json(data: Any) -> None:
    """Write ``data`` as UTF-8 JSON (Japanese kept readable) to stdout."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def prefect_defaults() -> None:
    """Prefect settings for koe's runs; the user's own values win."""
    # koe ingest runs its flows in Prefect's ephemeral mode when no server is configured: the
    # temporary server's first start migrates its own database, which takes longer than Prefect's
    # 20 s default on a small machine. Telemetry is off (koe runs offline).
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def database(config: Settings) -> str:
    """The configured database URL, created and migrated to the current schema if needed."""
    from models.db import ensure_database

    url = config.resolved_database_url
    ensure_database(url)
    return url


def in_session(config: Settings, work: Callable[[Any], T]) -> T:
    """Run ``work(session)`` in one transaction (committed at the end), koe errors a clean exit."""
    from models.db import transaction

    try:
        with transaction(database(config)) as session:
            return work(session)
    except KoeError as exc:
        fail(exc)
