"""``process_calls``: discover new or changed calls, process each in its own transaction, summarise.

The source is a local folder or file, or any fsspec URL (copied to a staging folder first, see
:mod:`flows.staging`); files still being written are deferred to the next run.

Per call: claim it in the database (so no two workers process it at once), transcribe (unless it is
an imported transcript), measure, analyse, assign topics, and store everything in one transaction.
A bad call fails alone, recorded with its reason; transient errors (database busy) are retried.
Then the topic model is fitted if there is none yet, and the summaries of the customers the run
touched are refreshed.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal, TypeVar

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture
from prefect.states import State

from flows import progress
from flows.runners import per_call_runner
from flows.runs import finish_flow_run, publish_artifacts, start_flow_run
from flows.stages import run_stages
from flows.staging import StagedInput, stage_input
from flows.topics import assign_current_topics, ensure_topic_model
from koe.errors import KoeError, ModelError, StorageError, UniqueConflictError
from koe.records import CallSource
from koe.settings import Settings, get_settings
from koe.sources import Discovery, SourceOptions, discover, keep_recording
from models.calls import claim_call, record_failure, record_input_problem, store_results, worker_identity
from models.db import ensure_database, transaction, with_retries

Outcome = Literal["processed", "skipped", "failed"]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """What happened to one call in a run."""

    call_id: str
    outcome: Outcome
    reason: str = ""
    customer_id: str | None = None
    audio_s: float = 0.0
    origin: str = ""


def is_transient_failure(task: Any, task_run: Any, state: State[Any]) -> bool:
    """Prefect retry condition: retry a task only when it failed with a transient ``KoeError``."""
    try:
        state.result()
    except KoeError as exc:
        return exc.transient
    except Exception:
        return False
    return False


#: Why a call of an erased customer is skipped (the customer id itself is not repeated).
FORGOTTEN_REASON = (
    "customer was erased (koe customers forget): their calls are not ingested again; "
    "`koe customers unforget ID` lifts this if they consent"
)


@task(
    name="process-call",
    retries=3,
    retry_delay_seconds=[1, 4, 10],
    retry_condition_fn=is_transient_failure,
    cache_policy=NO_CACHE,
)
def process_call(source: CallSource, force: bool, run_id: int, worker: str) -> CallOutcome:
    """Claim, process and store one call; permanent errors are recorded and returned, not raised."""
    settings = get_settings()
    url = settings.resolved_database_url
    logger = get_run_logger()

    def claim() -> Any:
        with transaction(url) as session:
            return claim_call(session, source, worker=worker, force=force)

    result = retry_unique_races(lambda: with_retries(claim))
    if result.outcome == "forgotten":
        logger.info("call %s skipped: its customer was erased on request", source.call_id)
        return CallOutcome(source.call_id, "skipped", FORGOTTEN_REASON, origin=source.origin)
    if result.outcome != "claimed":
        return CallOutcome(source.call_id, "skipped", result.outcome, source.customer_id, origin=source.origin)
    started = time.perf_counter()
    try:
        stages = run_stages(source, settings)
    except KoeError as exc:
        if exc.transient:
            raise
        message = str(exc)
        # A broken or missing model is koe's problem, not the call's: record the failure now (no
        # retry storm within the run) but keep it retryable, so the next run after the fix redoes it.
        retryable = isinstance(exc, ModelError)
        logger.warning("call %s failed: %s", source.call_id, message)
        with_retries(lambda: _fail(url, source, message, run_id, retryable))
        return CallOutcome(source.call_id, "failed", message, source.customer_id, origin=source.origin)
    copy = keep_recording(source, settings.data_dir) if settings.keep_recordings else None

    def store() -> None:
        with transaction(url) as session:
            topics, model_id = assign_current_topics(session, stages.analysis)
            store_results(
                session,
                result.call_pk,
                transcript=stages.transcript,
                metrics=stages.metrics,
                analysis=stages.analysis,
                topics=topics,
                topic_model_id=model_id,
                keep_raw_text=settings.raw_text,
                run_id=run_id,
                recording_path=str(copy) if copy else None,
            )

    with_retries(store)
    elapsed = time.perf_counter() - started
    logger.info(
        "call %s done: %.1f s of audio in %.1f s, %d utterances",
        source.call_id,
        stages.transcript.duration_s,
        elapsed,
        len(stages.transcript.utterances),
    )
    return CallOutcome(
        source.call_id,
        "processed",
        customer_id=source.customer_id,
        audio_s=stages.transcript.duration_s if source.audio_path else 0.0,
        origin=source.origin,
    )


def retry_unique_races(operation: Callable[[], T], *, attempts: int = 3) -> T:
    """Run ``operation`` again when it lost a unique-key race with another worker.

    Two workers claiming different calls of the same new customer or agent both insert that
    person, and one commit fails on the primary key (PostgreSQL reports it at once, SQLite after
    the lock). Run again, the loser finds the row and goes on; a call row inserted by the other
    worker is then seen as ``busy`` or ``unchanged``.
    """
    for attempt in range(attempts):
        try:
            return operation()
        except StorageError as exc:
            if attempt == attempts - 1 or not isinstance(exc, UniqueConflictError):
                raise
    raise AssertionError("unreachable")


def _fail(url: str, source: CallSource, error: str, run_id: int | None, transient: bool = False) -> None:
    with transaction(url) as session:
        record_failure(session, source, call_id=source.call_id, error=error, transient=transient, run_id=run_id)


def _collect(futures: list[PrefectFuture[CallOutcome]], sources: list[CallSource], url: str, run_id: int) -> list[CallOutcome]:
    outcomes: list[CallOutcome] = []
    for future, source in zip(futures, sources, strict=True):
        future.wait()
        state = future.state
        if state.is_completed():
            outcome = future.result()
        else:
            # Retries are exhausted (a transient error that persisted) or the task crashed.
            # Unexpected errors (not a KoeError) stay retryable: the next run tries the call again.
            transient = True
            try:
                future.result()
                error = "processing did not complete"
            except KoeError as exc:
                error, transient = f"{source.origin}: {exc}", exc.transient
            except Exception as exc:
                error = f"{source.origin}: internal error {type(exc).__name__}: {exc}"
            with_retries(partial(_fail, url, source, error, run_id, transient))
            outcome = CallOutcome(source.call_id, "failed", error, source.customer_id, origin=source.origin)
        outcomes.append(outcome)
        progress.notify(outcome)
    return outcomes


def summarise(outcomes: list[CallOutcome], problems: list[CallOutcome]) -> dict[str, Any]:
    """The end-of-run summary: counts, audio minutes, every failure and every deferred file with its reason."""
    everything = outcomes + problems
    failures = [{"call_id": o.call_id, "origin": o.origin, "error": o.reason} for o in everything if o.outcome == "failed"]
    deferred = [{"origin": o.origin, "reason": o.reason} for o in problems if o.outcome == "skipped"]
    reasons = Counter(o.reason for o in outcomes if o.outcome == "skipped")
    return {
        "processed": sum(o.outcome == "processed" for o in everything),
        "skipped": sum(o.outcome == "skipped" for o in everything),
        "skipped_reasons": dict(sorted(reasons.items())),
        "failed": len(failures),
        "audio_minutes": round(sum(o.audio_s for o in everything) / 60.0, 2),
        "failures": failures,
        "deferred": deferred,
    }


def _origin_file(origin: str) -> str:
    """The file name an origin points at: ``a.jsonl:3`` -> ``a.jsonl``, ``x.wav (manifest.csv:2)`` -> ``x.wav``."""
    return origin.split(" (", 1)[0].rsplit(":", 1)[0].rsplit("/", 1)[-1]


def without_deferred(found: Discovery, staged: StagedInput, manifest: str | None) -> list[CallOutcome]:
    """Drop from ``found`` every call that comes from a deferred file; returns them as ``skipped``.

    A deferred manifest defers the whole folder: without it the calls would lose their customers.
    """
    names = staged.deferred_names
    if not names:
        return []
    manifest_names = {"manifest.csv", "manifest.jsonl"} | ({Path(manifest).name} if manifest else set())
    everything = bool(names & manifest_names) or (staged.path.is_file() and staged.path.name in names)

    def held(audio: Path | None, origin: str) -> bool:
        return everything or (audio.name if audio is not None else _origin_file(origin)) in names

    kept = [s for s in found.sources if not held(s.audio_path, s.origin)]
    kept_problems = [p for p in found.problems if not held(None, p.origin)]
    found.sources, found.problems = kept, kept_problems
    return [CallOutcome(Path(d.name).stem, "skipped", d.reason, origin=d.name) for d in staged.deferred]


def refresh_touched_customers(settings: Settings, customer_ids: set[str]) -> int:
    """Refresh the summaries and churn scores of ``customer_ids``; returns how many were refreshed."""
    if not customer_ids:
        return 0
    from flows.customers import refresh_customers

    return refresh_customers(settings, sorted(customer_ids))


@flow(name="process-calls", log_prints=True)
def process_calls(
    source: str, manifest: str | None = None, force: bool = False, run_id: int | None = None
) -> dict[str, Any]:
    """Ingest a folder of recordings or a transcript JSONL and process what is new or changed.

    Args:
        source: Folder of recordings (optional ``manifest.csv``) or a transcript ``.jsonl`` file, as a
            local path or an fsspec URL (``file://``, ``memory://``, ``s3://`` with s3fs installed).
        manifest: Explicit manifest (CSV or JSONL); default: ``manifest.csv`` in the folder.
        force: Reprocess every call, changed or not.
        run_id: koe's record of this run when it was made before the flow started (the API's
            ``POST /pipeline/runs``); default: a new record.

    Returns:
        The run summary (see :func:`summarise`) with ``run_id``.

    """
    settings = get_settings()
    url = settings.resolved_database_url
    ensure_database(url)
    staged = stage_input(source, data_dir=settings.data_dir, settle_s=settings.settle_s)
    found = discover(
        staged.path,
        SourceOptions(
            manifest=Path(manifest) if manifest else None,
            default_agent_channel=settings.default_agent_channel,
        ),
    )
    deferred = without_deferred(found, staged, manifest)
    run_id = start_flow_run("process_calls", {"source": source, "manifest": manifest, "force": force}, run_id)
    try:
        summary = _process(settings, found, deferred, force=force, run_id=run_id)
    except BaseException as exc:
        finish_flow_run(run_id, {}, error=f"{type(exc).__name__}: {exc}")
        raise
    finish_flow_run(run_id, summary)
    publish_artifacts(settings)
    return summary


def _process(
    settings: Settings, found: Discovery, deferred: list[CallOutcome], *, force: bool, run_id: int
) -> dict[str, Any]:
    url = settings.resolved_database_url
    logger = get_run_logger()
    progress.start(len(found.sources) + len(found.problems) + len(deferred))
    problems: list[CallOutcome] = []
    for outcome in deferred:
        logger.info("%s deferred: %s", outcome.origin, outcome.reason)
        problems.append(outcome)
        progress.notify(outcome)
    for problem in found.problems:
        with_retries(partial(_record_problem, url, problem.call_id, problem.error, problem.sha256, problem.origin, run_id))
        outcome = CallOutcome(problem.call_id, "failed", problem.error, origin=problem.origin)
        problems.append(outcome)
        progress.notify(outcome)
    worker = worker_identity()
    with per_call_runner(settings) as submit:
        futures = [
            submit(process_call, {"source": call, "force": force, "run_id": run_id, "worker": worker})
            for call in found.sources
        ]
        outcomes = _collect(futures, found.sources, url, run_id)
    processed = [o for o in outcomes if o.outcome == "processed"]
    backfilled = ensure_topic_model(settings, refit=False) if processed else 0
    touched = {o.customer_id for o in outcomes if o.outcome == "processed" and o.customer_id}
    refreshed = refresh_touched_customers(settings, touched)
    summary = summarise(outcomes, problems)
    summary.update(run_id=run_id, customers_refreshed=refreshed, topic_backfill=backfilled)
    return summary


def _record_problem(url: str, call_id: str, error: str, sha256: str, origin: str, run_id: int) -> None:
    with transaction(url) as session:
        record_input_problem(session, call_id=call_id, error=error, sha256=sha256, origin=origin, run_id=run_id)


def outcome_dict(outcome: CallOutcome) -> dict[str, Any]:
    """A call outcome as plain JSON-able data."""
    return asdict(outcome)
