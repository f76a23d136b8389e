"""Pipeline runs: start ``process_calls`` or ``reprocess`` (role data) and follow them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.auth import Permission, Principal
from api.deps import DB, State, require
from api.routes import NOT_FOUND, REFUSALS
from api.schemas import RunAccepted, RunList, RunOut, RunRequest
from models.runs import get_run, list_runs

router = APIRouter(prefix="/pipeline/runs", tags=["pipeline"], responses=REFUSALS)


@router.post("", status_code=202, response_model=RunAccepted, summary="Start a flow in the background")
def post_run(
    body: RunRequest, state: State, principal: Annotated[Principal, Depends(require(Permission.RUNS_WRITE))]
) -> RunAccepted:
    """Record the run and start the Prefect flow; poll ``GET /pipeline/runs/{run_id}`` for its end."""
    run_id = state.runner.start(body.flow, body.parameters, requested_by=principal.prefix)
    return RunAccepted(run_id=run_id, url=f"/pipeline/runs/{run_id}")


@router.get("", response_model=RunList, summary="Recent runs")
async def get_runs(
    db: DB,
    _: Annotated[Principal, Depends(require(Permission.RUNS_READ))],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> RunList:
    """The most recent pipeline runs first, with counts and failures."""
    return RunList.model_validate({"items": await db.run(lambda s: list_runs(s, limit=limit))})


@router.get("/{run_id}", response_model=RunOut, responses=NOT_FOUND, summary="One run")
async def get_one_run(run_id: int, db: DB, _: Annotated[Principal, Depends(require(Permission.RUNS_READ))]) -> RunOut:
    """A run's status, parameters, counts and per-call failures."""
    return RunOut.model_validate(await db.run(lambda s: get_run(s, run_id)))
