"""Topics a manager steers: ``PUT /topics/{id}`` renames, ``POST /topics/{id}/merge`` merges.

Edits are kept against the stable topic id (``models.topic_edits``): every refit re-applies them and
every assignment (ingest, backfill, ``reprocess``) counts a merged topic's calls for its target.
Roles manager and data; every server process drops its cached reports at once.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.auth import Permission, Principal
from api.deps import DB, State, require
from api.routes import NOT_FOUND, REFUSALS
from models.db import transaction
from models.markers import REPORTS, bump_marker
from models.topic_edits import list_topic_edits, merge_topic, rename_topic

router = APIRouter(prefix="/topics", tags=["topics"], responses=REFUSALS)
Editor = Annotated[Principal, Depends(require(Permission.TOPICS_WRITE))]
Reader = Annotated[Principal, Depends(require(Permission.REPORTS))]
TopicId = Annotated[int, Path(ge=0, le=2**31 - 1, examples=[3])]


class Rename(BaseModel):
    """A manager's name for a topic."""

    label: str = Field(min_length=1, max_length=200, examples=["請求金額の確認"])


class Merge(BaseModel):
    """The topic whose calls the merged topic's calls join."""

    into: int = Field(ge=0, le=2**31 - 1, examples=[1])


class TopicEdit(BaseModel):
    """One recorded edit."""

    id: int
    action: str = Field(examples=["rename"])
    topic_id: int
    into_topic_id: int | None
    label: str | None
    edited_by: str = Field(examples=["manager:koe_2zp5"])
    edited_at: str | None


def _editor(principal: Principal) -> str:
    return f"{principal.role}:{principal.prefix}"


def _write(state: State, work: object) -> dict[str, object]:
    with transaction(state.settings.resolved_database_url) as session:
        result = work(session)  # type: ignore[operator]
        bump_marker(session, REPORTS)  # every process drops its cached topic report
    state.cache.clear()
    return dict(result)


@router.put("/{topic_id}", responses=NOT_FOUND, summary="Rename a topic (manager, data)")
async def put_topic(topic_id: TopicId, body: Rename, state: State, principal: Editor) -> dict[str, object]:
    """Give the topic a manager's name; kept across refits and reprocessing."""
    return await run_in_threadpool(
        _write, state, lambda s: rename_topic(s, topic_id, body.label, by=_editor(principal))
    )


@router.post("/{topic_id}/merge", responses=NOT_FOUND, summary="Merge a topic into another (manager, data)")
async def post_merge(topic_id: TopicId, body: Merge, state: State, principal: Editor) -> dict[str, object]:
    """Count the topic's calls for ``into``, in history and in every refit from now on."""
    return await run_in_threadpool(_write, state, lambda s: merge_topic(s, topic_id, body.into, by=_editor(principal)))


@router.get("/edits", response_model=list[TopicEdit], summary="Every topic edit: what, by whom, when")
async def get_edits(db: DB, _: Reader) -> list[TopicEdit]:
    """Renames and merges, oldest first."""
    return [TopicEdit.model_validate(e) for e in await db.run(list_topic_edits)]
