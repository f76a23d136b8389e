"""``koe ingest`` and ``koe demo``: the pipeline on a folder, a transcript file or the bundled samples."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cli.context import console, database, fail, prefect_defaults, print_json, settings
from koe.errors import KoeError

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "samples" / "calls"


def _audio_seconds(path: Path | None) -> float:
    if path is None:
        return 0.0
    try:
        import av

        with av.open(str(path)) as container:
            return float(container.duration or 0) / 1_000_000
    except Exception:
        # Only the progress bar's audio minutes use this: an unreadable file fails in the flow, with its message.
        return 0.0


def run_ingest(path: str, *, manifest: Path | None, force: bool, show_progress: bool) -> dict[str, Any]:
    """Run the ``process_calls`` flow on ``path`` with an optional progress bar; returns the summary.

    ``path`` is a local folder or file, or an fsspec URL (the flow stages remote files locally).
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    prefect_defaults()
    from flows import progress
    from flows.process import process_calls
    from koe.sources import SourceOptions, discover

    config = settings()
    database(config)
    seconds: dict[str, float] = {}
    total_calls: int | None = None
    if "://" not in path:
        found = discover(Path(path), SourceOptions(manifest=manifest, default_agent_channel=config.default_agent_channel))
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
        fail(exc)
    if as_json:
        print_json(summary)
    else:
        _print_summary(summary)
    if summary["failed"] and not summary["processed"] and not summary["skipped"]:
        raise typer.Exit(1)


def demo() -> None:
    """Process the bundled sample calls into the configured database and say where to look next."""
    config = settings()
    if not SAMPLES_DIR.is_dir():
        fail(KoeError(f"{SAMPLES_DIR}: bundled sample calls are missing; reinstall koe from a full checkout"))
    try:
        summary = run_ingest(str(SAMPLES_DIR), manifest=None, force=False, show_progress=True)
    except KoeError as exc:
        fail(exc)
    _print_summary(summary)
    from models.db import describe_url

    console.print(
        f"\nStored in {describe_url(config.resolved_database_url)['url']}.\n"
        "Next:\n"
        "  koe customers list                   customers ranked by churn risk, with the top reason\n"
        "  koe customers brief <customer_id>    what to know before calling that customer\n"
        "  koe calls show <call_id>             one call: transcript (redacted), tags, metrics\n"
        "  koe topics report                    what customers call about, week by week\n"
        "  koe keys create --role manager       then `koe serve` and open http://127.0.0.1:8000/\n"
    )
