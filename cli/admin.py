"""Operating koe: ``koe db``, ``koe keys``, ``koe sentiment train`` and ``koe serve``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cli.context import JsonOption, console, database, fail, in_session, print_json, settings
from koe.errors import KoeError

db_app = typer.Typer(help="Manage koe's database.", no_args_is_help=True)
keys_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)
sentiment_app = typer.Typer(help="Sentiment models.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Option(help="Target Alembic revision.")] = "head") -> None:
    """Apply database migrations (SQLite or PostgreSQL, from KOE_DATABASE_URL)."""
    from models.db import describe_url, upgrade_database

    config = settings()
    try:
        now = upgrade_database(config.resolved_database_url, revision)
    except KoeError as exc:
        fail(exc)
    where = describe_url(config.resolved_database_url)["url"]
    console.print(f"database {where} is at revision {now}")


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="manager, csm or data.")],
    name: Annotated[str, typer.Option(help="Who or what the key is for.")] = "",
) -> None:
    """Create an API key and print it once (only its hash is stored)."""
    from models.keys import create_key

    plain, info = in_session(settings(), lambda session: create_key(session, role, name=name))
    console.print(f"created {info.role} key {info.prefix}… (shown once; store it safely)")
    sys.stdout.write(plain + "\n")


@keys_app.command("list")
def keys_list(
    include_revoked: Annotated[bool, typer.Option("--all", help="Show revoked keys too.")] = False,
    as_json: JsonOption = False,
) -> None:
    """List API keys: prefix, role, name, created, last used, revoked (never the key itself)."""
    from dataclasses import asdict

    from models.keys import list_keys

    keys = in_session(settings(), lambda session: list_keys(session, include_revoked=include_revoked))
    rows = [
        {
            **asdict(k),
            **{f: (getattr(k, f).isoformat() if getattr(k, f) else None) for f in ("created_at", "last_used_at", "revoked_at")},
        }
        for k in keys
    ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("no API keys; create one with `koe keys create --role manager|csm|data`")
        return
    for row in rows:
        state = f"revoked {row['revoked_at'][:16]}" if row["revoked_at"] else "live"
        used = (row["last_used_at"] or "never")[:16]
        sys.stdout.write(f"{row['prefix']}…\t{row['role']}\t{row['name'] or '-'}\tcreated {row['created_at'][:16]}\tlast used {used}\t{state}\n")


@keys_app.command("revoke")
def keys_revoke(
    prefix: Annotated[str, typer.Argument(help="The key's prefix as `koe keys list` shows it (koe_ and 8 characters).")],
) -> None:
    """Revoke a key at once in every server process, and end its page sessions."""
    from models.keys import revoke_key

    count = in_session(settings(), lambda session: revoke_key(session, prefix))
    console.print(f"revoked {count} key(s) with prefix {prefix.strip()}; every server refuses them from now on")


@sentiment_app.command("train")
def sentiment_train(
    labels: Annotated[Path, typer.Argument(help="CSV (text,label) or JSONL of labelled utterances.")],
    as_json: JsonOption = False,
) -> None:
    """Fit a sentiment classifier on your labelled utterances; koe uses it from the next analysis on.

    Reports cross-validated accuracy. Labels are positive, negative or neutral. Re-analyse stored
    calls with the flows' ``reprocess`` to apply it to history.
    """
    from dataclasses import asdict

    from models.db import transaction
    from models.trained_models import save_trained_model
    from textmining.sentiment_model import train_sentiment_from_file

    config = settings()
    try:
        scorer, report = train_sentiment_from_file(labels)
        with transaction(database(config)) as session:
            stored = save_trained_model(session, "sentiment", scorer.to_bytes(), asdict(report))
    except KoeError as exc:
        fail(exc)
    result = {"version": stored.version, **stored.report}
    if as_json:
        print_json(result)
        return
    console.print(
        f"sentiment model {stored.version}: {report.n_texts} texts {report.class_counts}, "
        f"cross-validated accuracy {report.cv_accuracy:.3f} ± {report.cv_accuracy_std:.3f} ({report.folds} folds)"
    )


def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on (default: KOE_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: KOE_PORT).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Server processes (use about one per core).")] = 1,
    access_log: Annotated[
        bool,
        typer.Option(
            help="Log every request (method, path, query string, status). Off by default: paths and "
            "queries can hold customer IDs and search text, and each line costs time under load."
        ),
    ] = False,
) -> None:
    """Serve the JSON API and the pages (topic report, customers, calls)."""
    import uvicorn

    from api.serve import APP, Supervisor, reuse_port_supported

    config = settings()
    try:
        database(config)
    except KoeError as exc:
        fail(exc)
    where_host, where_port = host or config.host, port or config.port
    # Each worker process builds the app itself from the same KOE_ environment (a uvicorn factory);
    # page sign-in sessions are kept in the database, so any worker serves any signed-in page.
    if workers == 1 or not reuse_port_supported():
        uvicorn.run(
            APP, factory=True, workers=workers, log_level="info", access_log=access_log, host=where_host, port=where_port
        )
        return
    # One listening socket per worker, so the kernel balances connections over them (api.serve).
    try:
        status = Supervisor(where_host, where_port, workers, access_log=access_log).run()
    except KoeError as exc:
        fail(exc)
    raise typer.Exit(status)
