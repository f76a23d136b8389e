"""``process_calls``: discover new or changed calls, process each in its own transaction, summarise.

The source is a local folder or file, or any fsspec URL (copied to a staging folder first, see
:mod:`flows.inbox`); files still being written are deferred to the next run.

Per call: claim it in the database (so no two workers process it at once), transcribe (unless it is
an imported transcript), measure, analyse, assign topics, and store everything in one transaction.
A bad call fails alone, recorded with its reason; transient errors (database busy) are retried.
Then the topic model is fitted if there is none yet, and the summaries of the customers the run
touched are refreshed.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.futures import PrefectFuture
from sqlalchemy.orm import Session

from flows import progress
from flows.call_tasks import (
    PER_CALL_TASK,
    CallOutcome,
    refresh_touched_customers,
    run_in_transaction,
    store_call,
    summarise,
)
from flows.inbox import hold_back_deferred, stage_input
from flows.pipeline_steps import run_stages
from flows.run_records import publish_artifacts, recorded_run
from flows.task_runners import per_call_runner
from flows.topics import ensure_topic_model
from koe.errors import KoeError, ModelError
from koe.records import CallSource
from koe.settings import Settings, get_settings
from koe.sources import Discovery, SourceOptions, discover, keep_recording
from models.calls import Claim, claim_call, record_failure, record_input_problem, worker_identity
from models.db import ensure_database, retry_unique_races

#: Why a call of an erased customer is skipped (the customer id itself is not repeated).
FORGOTTEN_REASON = (
    "customer was erased (koe customers forget): their calls are not ingested again; "
    "`koe customers unforget ID` lifts this if they consent"
)


@task(name="process-call", **PER_CALL_TASK)
def process_call(source: CallSource, force: bool, run_id: int, worker: str) -> CallOutcome:
    """Claim, process and store one call; permanent errors are recorded and returned, not raised."""
    settings = get_settings()
    url = settings.resolved_database_url
    logger = get_run_logger()

    def claim(session: Session) -> Claim:
        return claim_call(session, source, worker=worker, force=force)

    result = retry_unique_races(lambda: run_in_transaction(url, claim))
    if result.outcome == "forgotten":
        logger.info("call %s skipped: its customer was erased on request", source.call_id)
        return CallOutcome(source.call_id, "skipped", FORGOTTEN_REASON, origin=source.origin)
    if result.outcome != "claimed" or result.call_pk is None:
        return CallOutcome(source.call_id, "skipped", result.outcome, source.customer_id, origin=source.origin)
    call_pk = result.call_pk
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
        _fail(url, source, message, run_id, retryable)
        return CallOutcome(source.call_id, "failed", message, source.customer_id, origin=source.origin)
    copy = keep_recording(source, settings.data_dir) if settings.keep_recordings else None

    def store(session: Session) -> None:
        store_call(
            session,
            call_pk,
            stages,
            keep_raw_text=settings.raw_text,
            run_id=run_id,
            recording_path=str(copy) if copy else None,
        )

    run_in_transaction(url, store)
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


def _fail(url: str, source: CallSource, error: str, run_id: int | None, transient: bool = False) -> None:
    def record(session: Session) -> None:
        record_failure(session, source, call_id=source.call_id, error=error, transient=transient, run_id=run_id)

    run_in_transaction(url, record)


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
            _fail(url, source, error, run_id, transient)
            outcome = CallOutcome(source.call_id, "failed", error, source.customer_id, origin=source.origin)
        outcomes.append(outcome)
        progress.notify(outcome)
    return outcomes


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
        The run summary (see :func:`flows.call_tasks.summarise`) with ``run_id``.

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
    hold_back_deferred(found, staged, manifest)
    deferred = [CallOutcome(Path(d.name).stem, "skipped", d.reason, origin=d.name) for d in staged.deferred]
    parameters = {"source": source, "manifest": manifest, "force": force}
    with recorded_run("process_calls", parameters, run_id) as run:
        run.summary = _process(settings, found, deferred, force=force, run_id=run.run_id)
    publish_artifacts(settings)
    return run.summary


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
        _record_problem(url, problem.call_id, problem.error, problem.sha256, problem.origin, run_id)
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
    refreshed = refresh_touched_customers(settings, outcomes)
    summary = summarise(outcomes, problems)
    summary.update(run_id=run_id, customers_refreshed=refreshed, topic_backfill=backfilled)
    return summary


def _record_problem(url: str, call_id: str, error: str, sha256: str, origin: str, run_id: int) -> None:
    def record(session: Session) -> None:
        record_input_problem(session, call_id=call_id, error=error, sha256=sha256, origin=origin, run_id=run_id)

    run_in_transaction(url, record)
