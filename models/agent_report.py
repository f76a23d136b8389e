"""The agent report of ``GET /reports/agents``: per-agent talk, silence, overtalk, hold and effort.

One ``GROUP BY agent_id`` over the processed calls and their metrics; the API caches the report.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.call_filters import done_calls_between
from models.json_values import iso, round_or_none
from models.tables import Call, CallMetricsRow


def agent_report(session: Session, *, since: datetime | None = None, until: datetime | None = None) -> dict[str, Any]:
    """Per agent: calls, mean talk ratio, silence, overtalk, hold and customer effort.

    Returns:
        ``{since, until, agents:[{agent_id, calls, talk_ratio_agent (0-1), silence_s (mean seconds
        per call), silence_count, overtalk_count, overtalk_s, hold_count, hold_s, effort_index
        (0-100), customer_sentiment ([-1, 1])}]}``, busiest agent first.

    """
    where = [*done_calls_between(since, until), Call.agent_id.is_not(None)]
    rows = session.execute(
        select(
            Call.agent_id,
            func.count(),
            func.avg(CallMetricsRow.talk_ratio_agent),
            func.avg(CallMetricsRow.silence_s),
            func.avg(CallMetricsRow.silence_count),
            func.avg(CallMetricsRow.overtalk_count),
            func.avg(CallMetricsRow.overtalk_s),
            func.avg(CallMetricsRow.hold_count),
            func.avg(CallMetricsRow.hold_s),
            func.avg(Call.effort_index),
            func.avg(Call.customer_sentiment),
        )
        .outerjoin(CallMetricsRow, CallMetricsRow.call_pk == Call.id)
        .where(*where)
        .group_by(Call.agent_id)
    ).all()
    agents = [
        {
            "agent_id": agent_id,
            "calls": int(calls),
            "talk_ratio_agent": round_or_none(talk),
            "silence_s": round_or_none(silence_s, 2),
            "silence_count": round_or_none(silence_n, 2),
            "overtalk_count": round_or_none(over_n, 2),
            "overtalk_s": round_or_none(over_s, 2),
            "hold_count": round_or_none(hold_n, 2),
            "hold_s": round_or_none(hold_s, 2),
            "effort_index": round_or_none(effort, 1),
            "customer_sentiment": round_or_none(sentiment),
        }
        for agent_id, calls, talk, silence_s, silence_n, over_n, over_s, hold_n, hold_s, effort, sentiment in rows
    ]
    agents.sort(key=lambda a: (-a["calls"], a["agent_id"]))
    return {"since": iso(since), "until": iso(until), "agents": agents}
