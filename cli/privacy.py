"""``koe customers forget|unforget`` and ``koe purge``: erasure on request and retention."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.context import console, database, fail, in_session, print_json, settings
from koe.errors import KoeError, NotFoundError


def customers_forget(
    customer_id: str,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase everything koe holds about a customer (APPI): calls, texts, scores, search entries, copies.

    Also takes the words only they said out of the topic model, drops older topic-model versions,
    makes every server process drop its report cache, and re-publishes koe's Prefect artifacts.
    """
    from flows.erasure import forget_everywhere

    config = settings()
    if not yes and not typer.confirm(f"Erase every trace of customer {customer_id}?"):
        raise typer.Exit(1)
    try:
        database(config)
        report = forget_everywhere(config, customer_id)
    except KoeError as exc:
        fail(exc)
    print_json(report)
    if report.get("prefect_error"):
        console.print(f"[yellow]{report['prefect_error']}[/yellow]")


def customers_unforget(customer_id: str) -> None:
    """Allow a forgotten customer's calls to be ingested again (e.g. they came back and consented)."""
    from models.privacy import unforget_customer

    lifted = in_session(settings(), lambda session: unforget_customer(session, customer_id))
    if not lifted:
        fail(NotFoundError(f"customer {customer_id!r} is not on the list of forgotten customers"))
    console.print(f"customer {customer_id} may be ingested again")


def purge(
    days: Annotated[int | None, typer.Option(min=1, help="Retention in days (default: KOE_RETENTION_DAYS).")] = None,
) -> None:
    """Purge raw text and recordings older than the retention limit; aggregate reports are kept."""
    from datetime import UTC, datetime

    from models.db import transaction
    from models.privacy import compact_storage, purge_expired

    config = settings()
    retention = days or config.retention_days
    if retention is None:
        fail(KoeError("no retention limit: pass --days N or set KOE_RETENTION_DAYS"))
    try:
        url = database(config)
        with transaction(url) as session:
            report = purge_expired(session, retention_days=retention, now=datetime.now(UTC), data_dir=config.data_dir)
        compact_storage(url)
    except KoeError as exc:
        fail(exc)
    print_json(report)
