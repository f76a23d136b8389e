"""The ``koe`` command line.

Commands import the stages, models, flows and API lazily, inside their bodies, so ``koe --help``
is fast and the core package stays at the bottom of the import graph. Every ``--json`` output has
the same shape as the matching API response.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from koe.errors import KoeError
from koe.settings import Settings, get_settings

app = typer.Typer(
    name="koe",
    help="koe (声): Japanese support calls in, Voice-of-Customer insight out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
calls_app = typer.Typer(help="Look at processed calls.", no_args_is_help=True)
keys_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)
db_app = typer.Typer(help="Manage koe's database.", no_args_is_help=True)
sentiment_app = typer.Typer(help="Sentiment models.", no_args_is_help=True)
app.add_typer(sentiment_app, name="sentiment")
app.add_typer(calls_app, name="calls")
app.add_typer(keys_app, name="keys")
app.add_typer(db_app, name="db")

console = Console(stderr=True)
SAMPLES_DIR = Path(__file__).resolve().parent.parent / "samples" / "calls"


def _settings() -> Settings:
    try:
        return get_settings()
    except KoeError as exc:
        _fail(exc)
        raise AssertionError("unreachable") from exc


def _fail(exc: BaseException, code: int = 1) -> None:
    console.print(f"[bold red]error:[/] {exc}", highlight=False)
    raise typer.Exit(code)


def print_json(data: Any) -> None:
    """Write ``data`` as UTF-8 JSON (Japanese kept readable) to stdout."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def _prefect_defaults() -> None:
    # koe ingest runs its flows in Prefect's ephemeral mode when no server is configured: the
    # temporary server's first start migrates its own database, which takes longer than Prefect's
    # 20 s default on a small machine. Telemetry is off (koe runs offline). Users' values win.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def _database(settings: Settings) -> str:
    from models.db import ensure_database

    url = settings.resolved_database_url
    ensure_database(url)
    return url


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Option(help="Target Alembic revision.")] = "head") -> None:
    """Apply database migrations (SQLite or PostgreSQL, from KOE_DATABASE_URL)."""
    from models.db import describe_url, upgrade_database

    settings = _settings()
    try:
        now = upgrade_database(settings.resolved_database_url, revision)
    except KoeError as exc:
        _fail(exc)
    where = describe_url(settings.resolved_database_url)["url"]
    console.print(f"database {where} is at revision {now}")


def _audio_seconds(path: Path | None) -> float:
    if path is None:
        return 0.0
    try:
        import av

        with av.open(str(path)) as container:
            return float(container.duration or 0) / 1_000_000
    except Exception:
        return 0.0


def run_ingest(path: str, *, manifest: Path | None, force: bool, show_progress: bool) -> dict[str, Any]:
    """Run the ``process_calls`` flow on ``path`` with an optional progress bar; returns the summary.

    ``path`` is a local folder or file, or an fsspec URL (the flow stages remote files locally).
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    _prefect_defaults()
    from flows import progress
    from flows.process import process_calls
    from koe.sources import SourceOptions, discover

    settings = _settings()
    _database(settings)
    seconds: dict[str, float] = {}
    total_calls: int | None = None
    if "://" not in path:
        found = discover(Path(path), SourceOptions(manifest=manifest, default_agent_channel=settings.default_agent_channel))
        seconds = {s.call_id: _audio_seconds(s.audio_path) for s in found.sources}
        total_calls = len(found.sources) + len(found.problems)
    bar = Progress(
        TextColumn("[bold]koe ingest[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("calls · {task.fields[audio]:.1f}/{task.fields[total_audio]:.1f} audio min"),
        TimeRemainingColumn(),
        console=console,
        disable=not show_progress,
    )
    state = {"audio": 0.0}

    def on_event(event: str, payload: Any) -> None:
        if event == "start" and total_calls is None:
            bar.update(task_id, total=payload)
        elif event == "call":
            state["audio"] += seconds.get(payload.call_id, 0.0) / 60.0
            bar.update(task_id, advance=1, audio=state["audio"])

    with bar:
        task_id = bar.add_task("ingest", total=total_calls, audio=0.0, total_audio=sum(seconds.values()) / 60.0)
        stop = progress.listen(on_event)
        try:
            summary = process_calls(path, str(manifest) if manifest else None, force)
        finally:
            stop()
    return summary


def _print_summary(summary: dict[str, Any]) -> None:
    console.print(
        f"[bold]processed[/] {summary['processed']}  [bold]skipped[/] {summary['skipped']}  "
        f"[bold]failed[/] {summary['failed']}  ({summary['audio_minutes']} audio min, run {summary['run_id']})"
    )
    for failure in summary["failures"]:
        console.print(f"  [red]✗[/] {failure['call_id']}: {failure['error']}", highlight=False)


@app.command()
def ingest(
    path: Annotated[
        str, typer.Argument(help="Folder of recordings (optional manifest.csv), a transcript .jsonl, or an fsspec URL.")
    ],
    manifest: Annotated[Path | None, typer.Option(help="Manifest CSV or JSONL (default: manifest.csv in the folder).")] = None,
    force: Annotated[bool, typer.Option(help="Reprocess every call, changed or not.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run summary as JSON.")] = False,
) -> None:
    """Run the whole pipeline on new or changed calls: transcribe, analyse, store, summarise."""
    try:
        summary = run_ingest(path, manifest=manifest, force=force, show_progress=not as_json)
    except KoeError as exc:
        _fail(exc)
    if as_json:
        print_json(summary)
    else:
        _print_summary(summary)
    if summary["failed"] and not summary["processed"] and not summary["skipped"]:
        raise typer.Exit(1)


@app.command()
def demo() -> None:
    """Process the bundled sample calls into the configured database and say where to look next."""
    settings = _settings()
    if not SAMPLES_DIR.is_dir():
        _fail(KoeError(f"{SAMPLES_DIR}: bundled sample calls are missing; reinstall koe from a full checkout"))
    try:
        summary = run_ingest(str(SAMPLES_DIR), manifest=None, force=False, show_progress=True)
    except KoeError as exc:
        _fail(exc)
    _print_summary(summary)
    from models.db import describe_url

    console.print(
        f"\nStored in {describe_url(settings.resolved_database_url)['url']}.\n"
        "Next:  koe calls show <call_id> --json      one call, with metrics, tags and topics\n"
    )


@calls_app.command("show")
def calls_show(
    call_id: str,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON (same shape as GET /calls/{id}).")] = False,
) -> None:
    """Show one call: transcript (redacted), metrics, topics, tags, sentiment and effort."""
    from models.db import transaction
    from models.reads import call_detail

    settings = _settings()
    try:
        with transaction(_database(settings)) as session:
            detail = call_detail(session, call_id)
    except KoeError as exc:
        _fail(exc)
    if as_json:
        print_json(detail)
        return
    console.print(
        f"[bold]{detail['call_id']}[/] customer={detail['customer_id']} agent={detail['agent_id']} "
        f"status={detail['status']} effort={detail['effort_index']}",
        highlight=False,
    )
    if detail["error"]:
        console.print(f"[red]{detail['error']}[/]", highlight=False)
    for utterance in detail["utterances"]:
        console.print(
            f"{utterance['start_s']:7.1f}s {utterance['speaker']:>8}: {utterance['text']}", highlight=False
        )
    for tag in detail["tags"]:
        console.print(f"  [yellow]#{tag['tag']}[/] @{tag['start_s']:.1f}s 「{tag['evidence']}」", highlight=False)


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="manager, csm or data.")],
    name: Annotated[str, typer.Option(help="Who or what the key is for.")] = "",
) -> None:
    """Create an API key and print it once (only its hash is stored)."""
    from models.db import transaction
    from models.keys import create_key

    settings = _settings()
    try:
        with transaction(_database(settings)) as session:
            plain, info = create_key(session, role, name=name)
    except KoeError as exc:
        _fail(exc)
    console.print(f"created {info.role} key {info.prefix}… (shown once; store it safely)")
    sys.stdout.write(plain + "\n")


@sentiment_app.command("train")
def sentiment_train(
    labels: Annotated[Path, typer.Argument(help="CSV (text,label) or JSONL of labelled utterances.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the training report as JSON.")] = False,
) -> None:
    """Fit a sentiment classifier on your labelled utterances; koe uses it from the next analysis on.

    Reports cross-validated accuracy. Labels are positive, negative or neutral. Re-analyse stored
    calls with the flows' ``reprocess`` to apply it to history.
    """
    from dataclasses import asdict

    from models.db import transaction
    from models.trained import save_trained_model
    from textmining.sentiment import train_sentiment_from_file

    settings = _settings()
    try:
        scorer, report = train_sentiment_from_file(labels)
        with transaction(_database(settings)) as session:
            stored = save_trained_model(session, "sentiment", scorer.to_bytes(), asdict(report))
    except KoeError as exc:
        _fail(exc)
    result = {"version": stored.version, **stored.report}
    if as_json:
        print_json(result)
        return
    console.print(
        f"sentiment model {stored.version}: {report.n_texts} texts {report.class_counts}, "
        f"cross-validated accuracy {report.cv_accuracy:.3f} ± {report.cv_accuracy_std:.3f} ({report.folds} folds)"
    )


def main() -> None:
    """Entry point for ``python -m koe``."""
    app()
