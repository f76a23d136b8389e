"""Topic and agent reports (cached for ``api.cache.TTL_S`` seconds)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from api.auth import Permission, Principal
from api.deps import DB, State, require
from api.routes import REFUSALS
from api.schemas import AgentReport, TopicReport
from models.agent_report import agent_report
from models.topic_report import topic_report

router = APIRouter(prefix="/reports", tags=["reports"], responses=REFUSALS)
ReportReader = Annotated[Principal, Depends(require(Permission.REPORTS))]
Since = Annotated[datetime | None, Query(description="Calls that started at or after (ISO 8601).")]
Until = Annotated[datetime | None, Query(description="Calls that started before (ISO 8601).")]


@router.get("/topics", response_model=TopicReport, summary="Topics: volume, share, trend, sentiment, effort")
async def get_topic_report(
    db: DB,
    state: State,
    _: ReportReader,
    since: Since = None,
    until: Until = None,
    granularity: Literal["day", "week", "month"] = "week",
) -> TopicReport:
    """Per topic: calls, share, calls per period, mean customer sentiment, effort, top tags and quotes."""
    report = await state.cache.aget(
        ("topics", since, until, granularity),
        lambda: db.call(lambda s: topic_report(s, since=since, until=until, granularity=granularity)),
    )
    return TopicReport.model_validate(report)


@router.get("/agents", response_model=AgentReport, summary="Agents: talk ratio, silence, overtalk, hold, effort")
async def get_agent_report(
    db: DB, state: State, _: ReportReader, since: Since = None, until: Until = None
) -> AgentReport:
    """Per agent: calls and per-call means of talk ratio, silence, overtalk, hold and customer effort."""
    report = await state.cache.aget(
        ("agents", since, until), lambda: db.call(lambda s: agent_report(s, since=since, until=until))
    )
    return AgentReport.model_validate(report)
