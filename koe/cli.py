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

from koe.errors import KoeError, NotFoundError
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
customers_app = typer.Typer(help="Customer summaries, churn risk and briefs.", no_args_is_help=True)
topics_app = typer.Typer(help="Topic reports.", no_args_is_help=True)
churn_app = typer.Typer(help="Churn models.", no_args_is_help=True)
app.add_typer(sentiment_app, name="sentiment")
app.add_typer(customers_app, name="customers")
app.add_typer(topics_app, name="topics")
app.add_typer(churn_app, name="churn")
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
        "Next:\n"
        "  koe customers list                   customers ranked by churn risk, with the top reason\n"
        "  koe customers brief <customer_id>    what to know before calling that customer\n"
        "  koe calls show <call_id>             one call: transcript (redacted), tags, metrics\n"
        "  koe topics report                    what customers call about, week by week\n"
        "  koe keys create --role manager       then `koe serve` and open http://127.0.0.1:8000/\n"
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


JsonOption = Annotated[bool, typer.Option("--json", help="Print as JSON (same shape as the API).")]


def _read(settings: Settings, reader: Any) -> Any:
    """Run ``reader(session)`` in a transaction, turning koe errors into a clean exit."""
    from models.db import transaction

    try:
        with transaction(_database(settings)) as session:
            return reader(session)
    except KoeError as exc:
        _fail(exc)


@customers_app.command("show")
def customers_show(customer_id: str, as_json: JsonOption = False) -> None:
    """Show a customer's summary: contacts, repeat contacts, topics, tags, effort, churn risk and why."""
    from models.summaries import customer_detail

    detail = _read(_settings(), lambda session: customer_detail(session, customer_id))
    if as_json:
        print_json(detail)
        return
    risk = detail["churn_risk"]
    console.print(
        f"[bold]{detail['customer_id']}[/] calls={detail['call_count']} churn risk {risk['level']} ({risk['score']:.2f})",
        highlight=False,
    )
    for reason in risk["reasons"]:
        console.print(f"  {reason['factor']}: +{reason['contribution']:.2f}", highlight=False)


@customers_app.command("brief")
def customers_brief(customer_id: str, as_json: JsonOption = False) -> None:
    """What to know before calling this customer: risk and why, open issues, recent effort with quotes."""
    from models.summaries import customer_brief

    brief = _read(_settings(), lambda session: customer_brief(session, customer_id))
    print_json(brief) if as_json else console.print_json(data=brief)


@customers_app.command("list")
def customers_list(
    order: Annotated[str, typer.Option(help="churn_risk or last_contact.")] = "churn_risk",
    level: Annotated[str | None, typer.Option(help="Only this risk level: low, medium or high.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    cursor: Annotated[str | None, typer.Option(help="Cursor from the previous page.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Customers ranked by churn risk (or by last contact), with level and top reason."""
    from models.summaries import list_customers

    if order not in ("churn_risk", "last_contact"):
        _fail(KoeError(f"--order {order!r} must be churn_risk or last_contact"))
    items, next_cursor = _read(
        _settings(),
        lambda session: list_customers(session, order=order, level=level, limit=limit, cursor=cursor),  # type: ignore[arg-type]
    )
    if as_json:
        print_json({"items": items, "next_cursor": next_cursor})
        return
    for item in items:
        console.print(
            f"{item['customer_id']:>12}  {item['churn_risk']['level']:>6} {item['churn_risk']['score']:.2f}  "
            f"{item.get('top_reason_label') or ''}",
            highlight=False,
        )


@customers_app.command("export")
def customers_export(
    fmt: Annotated[str, typer.Option("--format", help="csv or jsonl.")] = "csv",
    output: Annotated[Path | None, typer.Option(help="File to write (default: standard output).")] = None,
) -> None:
    """Export every customer summary with its churn score and top reasons, for CRMs and BI tools."""
    import csv

    from models.summaries import export_customers

    if fmt not in ("csv", "jsonl"):
        _fail(KoeError(f"--format {fmt!r} must be csv or jsonl"))
    rows = _read(_settings(), lambda session: list(export_customers(session)))
    handle = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        if fmt == "jsonl":
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        elif rows:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            for row in rows:
                writer.writerow({k: json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v for k, v in row.items()})
    finally:
        if output:
            handle.close()
    console.print(f"exported {len(rows)} customers")


@customers_app.command("forget")
def customers_forget(
    customer_id: str,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase everything koe holds about a customer (APPI): calls, texts, scores, search entries, copies."""
    from models.db import transaction
    from models.privacy import compact_storage, forget_customer

    settings = _settings()
    if not yes and not typer.confirm(f"Erase every trace of customer {customer_id}?"):
        raise typer.Exit(1)
    try:
        url = _database(settings)
        with transaction(url) as session:
            report = forget_customer(session, customer_id, data_dir=settings.data_dir)
        compact_storage(url)
    except KoeError as exc:
        _fail(exc)
    print_json(report)


@customers_app.command("unforget")
def customers_unforget(customer_id: str) -> None:
    """Allow a forgotten customer's calls to be ingested again (e.g. they came back and consented)."""
    from models.db import transaction
    from models.privacy import unforget_customer

    settings = _settings()
    try:
        with transaction(_database(settings)) as session:
            lifted = unforget_customer(session, customer_id)
    except KoeError as exc:
        _fail(exc)
    if not lifted:
        _fail(NotFoundError(f"customer {customer_id!r} is not on the list of forgotten customers"))
    console.print(f"customer {customer_id} may be ingested again")


@app.command()
def purge(
    days: Annotated[int | None, typer.Option(min=1, help="Retention in days (default: KOE_RETENTION_DAYS).")] = None,
) -> None:
    """Purge raw text and recordings older than the retention limit; aggregate reports are kept."""
    from datetime import UTC, datetime

    from models.db import transaction
    from models.privacy import compact_storage, purge_expired

    settings = _settings()
    retention = days or settings.retention_days
    if retention is None:
        _fail(KoeError("no retention limit: pass --days N or set KOE_RETENTION_DAYS"))
        return
    try:
        url = _database(settings)
        with transaction(url) as session:
            report = purge_expired(session, retention_days=retention, now=datetime.now(UTC), data_dir=settings.data_dir)
        compact_storage(url)
    except KoeError as exc:
        _fail(exc)
    print_json(report)


@topics_app.command("report")
def topics_report(
    since: Annotated[str | None, typer.Option(help="ISO 8601 start (inclusive).")] = None,
    until: Annotated[str | None, typer.Option(help="ISO 8601 end (exclusive).")] = None,
    granularity: Annotated[str, typer.Option(help="day, week or month.")] = "week",
    as_json: JsonOption = False,
) -> None:
    """Per topic: volume, share, weekly trend, sentiment, effort, top tags and quotes."""
    from koe.sources import parse_started_at
    from models.reports import topic_report

    if granularity not in ("day", "week", "month"):
        _fail(KoeError(f"--granularity {granularity!r} must be day, week or month"))
    try:
        start, end = parse_started_at(since, "--since"), parse_started_at(until, "--until")
    except KoeError as exc:
        _fail(exc)
    report = _read(
        _settings(),
        lambda session: topic_report(session, since=start, until=end, granularity=granularity),  # type: ignore[arg-type]
    )
    if as_json:
        print_json(report)
        return
    for topic in report["topics"]:
        console.print(
            f"{topic['topic_id']:>3} {topic['label']:<30} calls={topic['volume']} share={topic['share']:.0%}",
            highlight=False,
        )


@churn_app.command("train")
def churn_train(
    labels: Annotated[Path, typer.Option(help="CSV with customer_id,churned (1/0, true/false).")],
    as_json: JsonOption = False,
) -> None:
    """Fit a calibrated churn model on known outcomes, report cross-validated ROC AUC, and rescore everyone."""
    from flows.customers import refresh_customers
    from models.summaries import all_customer_ids, train_churn_from_csv

    settings = _settings()
    report = _read(settings, lambda session: train_churn_from_csv(session, labels))
    ids = _read(settings, all_customer_ids)
    try:
        report["customers_rescored"] = refresh_customers(settings, ids)
    except KoeError as exc:
        _fail(exc)
    if as_json:
        print_json(report)
        return
    console.print_json(data=report)


@app.command()
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

    settings = _settings()
    try:
        _database(settings)
    except KoeError as exc:
        _fail(exc)
    where_host, where_port = host or settings.host, port or settings.port
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
        _fail(exc)
    raise typer.Exit(status)


def main() -> None:
    """Entry point for ``python -m koe``."""
    app()
