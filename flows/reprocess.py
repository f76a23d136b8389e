"""``reprocess``: re-run analysis over stored transcripts, or re-transcribe from the recordings.

After the rules, lexicons, sentiment model or topic model change, ``stage="analysis"`` rebuilds every
call's analysis (tags, categories, sentiment, effort, topics) from the transcript koe already stored,
without touching the audio. After a Whisper model upgrade, ``stage="transcribe"`` transcribes again
from the call's recording (koe's copy when it kept one, else the original file).

Each call is read in one short transaction, processed outside any transaction, and stored together
with its claim in a second one: a reprocessed call is always complete, a call that another worker is
processing right now is skipped, and a call that changed in between (a new recording ingested) is
left as the newer run stored it. A call that cannot be reprocessed (its recording is gone) keeps its
previous results and is reported as failed in the run.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.futures import PrefectFuture
from sqlalchemy.orm import Session

from flows.call_tasks import (
    PER_CALL_TASK,
    CallOutcome,
    refresh_touched_customers,
    run_in_transaction,
    store_call,
    summarise,
)
from flows.pipeline_steps import run_stages
from flows.run_records import publish_artifacts, recorded_run
from flows.task_runners import per_call_runner
from koe.errors import InputError, KoeError
from koe.settings import get_settings
from models.calls import claim_call, worker_identity
from models.db import ensure_database, retry_unique_races
from models.history import Stage, StoredCall, call_version, done_call_ids, stored_call


@task(name="reprocess-call", **PER_CALL_TASK)
def reprocess_call(call_id: str, stage: Stage, run_id: int, worker: str) -> CallOutcome:
    """Re-analyse (or re-transcribe and analyse) one stored call and store the new results."""
    settings = get_settings()
    url = settings.resolved_database_url
    logger = get_run_logger()

    def read(session: Session) -> StoredCall:
        return stored_call(session, call_id, stage)

    try:
        snap = run_in_transaction(url, read)
        started = time.perf_counter()
        result = run_stages(snap.source, settings)
    except KoeError as exc:
        if exc.transient:
            raise
        logger.warning("call %s not reprocessed: %s", call_id, exc)
        return CallOutcome(call_id, "failed", str(exc), origin=call_id)
    if not snap.raw_text:
        # Only redacted text was stored: the PII found at ingest is no longer visible to the redactor.
        analysis = dataclasses.replace(result.analysis, pii_count=max(result.analysis.pii_count, snap.pii_count))
        result = dataclasses.replace(result, analysis=analysis)

    def store(session: Session) -> str:
        if call_version(session, call_id) != (snap.sha256, snap.processed_at):
            return "changed"
        claim = claim_call(session, snap.source, worker=worker, force=True)
        if claim.outcome != "claimed" or claim.call_pk is None:
            return claim.outcome
        store_call(session, claim.call_pk, result, keep_raw_text=settings.raw_text and snap.raw_text, run_id=run_id)
        return "stored"

    outcome = retry_unique_races(lambda: run_in_transaction(url, store))
    customer = snap.source.customer_id
    if outcome != "stored":
        reason = "stored again by another run meanwhile" if outcome == "changed" else outcome
        return CallOutcome(call_id, "skipped", reason, customer, origin=snap.source.origin)
    logger.info("call %s reprocessed (%s) in %.1f s", call_id, stage, time.perf_counter() - started)
    audio_s = result.transcript.duration_s if stage == "transcribe" else 0.0
    return CallOutcome(call_id, "processed", customer_id=customer, audio_s=audio_s, origin=snap.source.origin)


def _collect(futures: list[PrefectFuture[CallOutcome]], call_ids: list[str]) -> list[CallOutcome]:
    outcomes: list[CallOutcome] = []
    for future, call_id in zip(futures, call_ids, strict=True):
        future.wait()
        try:
            outcomes.append(future.result())
        except Exception as exc:
            # Retries exhausted or an unexpected error: the stored results are untouched.
            outcomes.append(CallOutcome(call_id, "failed", f"{type(exc).__name__}: {exc}", origin=call_id))
    return outcomes


@flow(name="reprocess", log_prints=True)
def reprocess(
    since: datetime | None = None, stage: Stage = "analysis", run_id: int | None = None
) -> dict[str, Any]:
    """Re-run analysis over stored transcripts, or re-transcribe from the recordings.

    Args:
        since: Only calls processed at or after this time (timezone-aware); default: every done call.
        stage: ``"analysis"`` re-analyses stored transcripts (rules, lexicons, sentiment, topics,
            summaries); ``"transcribe"`` also re-transcribes each call from its recording.
        run_id: koe's record of this run when it was made before the flow started (the API's
            ``POST /pipeline/runs``); default: a new record.

    Returns:
        The run summary (processed, skipped, failed with reasons) with ``run_id`` and
        ``customers_refreshed``.

    """
    if stage not in ("analysis", "transcribe"):
        raise InputError(f"reprocess: stage {stage!r} is not 'analysis' or 'transcribe'")
    settings = get_settings()
    url = settings.resolved_database_url
    ensure_database(url)

    call_ids = run_in_transaction(url, lambda session: done_call_ids(session, since))
    parameters = {"since": since.isoformat() if since else None, "stage": stage}
    with recorded_run("reprocess", parameters, run_id) as run:
        worker = worker_identity()
        with per_call_runner(settings) as submit:
            futures = [
                submit(reprocess_call, {"call_id": c, "stage": stage, "run_id": run.run_id, "worker": worker})
                for c in call_ids
            ]
            outcomes = _collect(futures, call_ids)
        summary = summarise(outcomes, [])
        summary.update(run_id=run.run_id, stage=stage, customers_refreshed=refresh_touched_customers(settings, outcomes))
        run.summary = summary
    publish_artifacts(settings)
    get_run_logger().info(
        "reprocess (%s): %d processed, %d skipped, %d failed",
        stage,
        summary["processed"],
        summary["skipped"],
        summary["failed"],
    )
    return summary
