"""Pipeline runs: every flow run is recorded in koe's own database, so the API can show it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from koe import PIPELINE_VERSION
from koe.errors import NotFoundError
from models.json_values import iso
from models.tables import PipelineRun, utcnow


def start_run(session: Session, flow: str, parameters: dict[str, Any], *, prefect_flow_run_id: str | None = None) -> int:
    """Record that ``flow`` started with ``parameters``; returns the run id."""
    run = PipelineRun(
        flow=flow,
        parameters=parameters,
        pipeline_version=PIPELINE_VERSION,
        prefect_flow_run_id=prefect_flow_run_id,
    )
    session.add(run)
    session.flush()
    return run.id


def adopt_run(session: Session, run_id: int, *, prefect_flow_run_id: str | None = None) -> int:
    """Take over a run recorded before its flow started (the API records the request first).

    Keeps the recorded parameters (who asked, and how); adds the Prefect flow-run id.

    Raises:
        NotFoundError: when there is no run ``run_id``.

    """
    run = session.get(PipelineRun, run_id)
    if run is None:
        raise NotFoundError(f"pipeline run {run_id} not found")
    if prefect_flow_run_id and not run.prefect_flow_run_id:
        run.prefect_flow_run_id = prefect_flow_run_id
    session.flush()
    return run.id


def finish_run(
    session: Session,
    run_id: int,
    *,
    counts: dict[str, Any],
    failures: list[dict[str, Any]],
    error: str | None = None,
) -> None:
    """Record a run's end: its counts, per-call failures, and a run-level error if it crashed."""
    run = session.get(PipelineRun, run_id)
    if run is None:
        raise NotFoundError(f"pipeline run {run_id} not found")
    run.counts = counts
    run.failures = failures[:1000]
    run.error = error
    run.status = "failed" if error else "completed"
    run.finished_at = utcnow()
    session.flush()


def fail_run_if_running(session: Session, run_id: int, error: str) -> bool:
    """Record ``error`` as the end of run ``run_id`` unless its flow already recorded an end.

    Returns:
        Whether the run was still running (and is now failed).

    """
    run = session.get(PipelineRun, run_id)
    if run is None or run.status != "running":
        return False
    finish_run(session, run_id, counts={}, failures=[], error=error)
    return True


def run_detail(run: PipelineRun) -> dict[str, Any]:
    """A run in the API's ``/pipeline/runs/{id}`` shape."""
    return {
        "run_id": run.id,
        "flow": run.flow,
        "status": run.status,
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "parameters": run.parameters,
        "counts": run.counts,
        "failures": run.failures,
        "error": run.error,
        "pipeline_version": run.pipeline_version,
        "prefect_flow_run_id": run.prefect_flow_run_id,
    }


def get_run(session: Session, run_id: int) -> dict[str, Any]:
    """One run by id.

    Raises:
        NotFoundError: when there is no such run.

    """
    run = session.get(PipelineRun, run_id)
    if run is None:
        raise NotFoundError(f"pipeline run {run_id} not found")
    return run_detail(run)


def list_runs(session: Session, *, limit: int = 50) -> list[dict[str, Any]]:
    """The most recent runs first."""
    rows = session.scalars(select(PipelineRun).order_by(PipelineRun.id.desc()).limit(limit))
    return [run_detail(run) for run in rows]
