"""Personal data: ``DELETE /customers/{customer_id}`` forgets a customer (APPI), role data only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Path
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.auth import Permission, Principal
from api.deps import State, require
from api.routes import NOT_FOUND, REFUSALS
from models.db import transaction
from models.privacy import compact_storage, forget_customer

router = APIRouter(prefix="/customers", tags=["privacy"], responses=REFUSALS)
# Forgetting is a data-team write, like starting pipeline runs: only the role that may write gets it.
Forgetter = Annotated[Principal, Depends(require(Permission.RUNS_WRITE))]


class ForgetResult(BaseModel):
    """What was removed for a forgotten customer (counts; ``files`` are koe's deleted copies)."""

    customer_id: str = Field(examples=["C-1001"])
    calls: int = Field(examples=[3])
    utterances: int = Field(examples=[42])
    tags: int
    categories: int
    topic_weights: int
    metrics: int
    topic_quotes: int
    run_failures: int
    summaries: int
    webhook_deliveries: int
    files: list[str]


@router.delete(
    "/{customer_id}", response_model=ForgetResult, responses=NOT_FOUND, summary="Forget a customer (role data)"
)
async def delete_customer(
    customer_id: Annotated[str, Path(min_length=1, max_length=128, examples=["C-1001"])],
    state: State,
    _: Forgetter,
    background: BackgroundTasks,
) -> ForgetResult:
    """Remove everything koe holds about the customer (APPI erasure).

    Calls, transcripts, tags, topic weights and quotes, summary, scores, webhook deliveries, search
    entries and koe's copies of recordings go in one transaction. The deleted rows are then compacted out of the database files in the background.
    """
    url = state.settings.resolved_database_url

    def forget() -> ForgetResult:
        with transaction(url) as session:
            removed = forget_customer(session, customer_id, data_dir=state.settings.data_dir)
        return ForgetResult.model_validate(removed)

    result = await run_in_threadpool(forget)
    state.cache.clear()
    background.add_task(run_in_threadpool, compact_storage, url)
    return result
