"""Personal data: ``DELETE /customers/{customer_id}`` forgets a customer (APPI), role data only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Path
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.auth import Permission, Principal
from api.deps import State, require
from api.routes import NOT_FOUND, REFUSALS
from flows.erasure import forget_everywhere
from models.privacy import compact_storage

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
    topic_model_versions_dropped: int = Field(description="Older topic-model versions dropped (fitted on their calls too).")
    topic_terms_erased: int = Field(description="Words only they said, taken out of the current topic model.")
    topics_scrubbed: int = Field(description="Topics whose label or top terms held such a word.")
    prefect_artifacts: int = Field(description="koe artifacts deleted from Prefect (then published again without them).")
    prefect_error: str | None = Field(None, description="Why Prefect could not be reached; forget again once it can be.")
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

    Calls, transcripts, tags, topic weights and quotes, the words only they said in the topic
    model (older versions are dropped), summary, scores, webhook deliveries, search entries and
    koe's copies of recordings and staged inputs go in one transaction; every server process drops
    its report cache; koe's Prefect artifacts are deleted and published again without them. The
    deleted rows are then compacted out of the database files in the background.
    """
    url = state.settings.resolved_database_url

    def forget() -> ForgetResult:
        return ForgetResult.model_validate(forget_everywhere(state.settings, customer_id, compact=False))

    result = await run_in_threadpool(forget)
    state.cache.clear()
    background.add_task(run_in_threadpool, compact_storage, url)
    return result
