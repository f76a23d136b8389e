"""SQL filters on ``calls`` shared by the call list and the aggregate reports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, select

from models.tables import Call, CallTopicRow, TagRow


def call_filters(
    *,
    customer_id: str | None,
    agent_id: str | None,
    since: datetime | None,
    until: datetime | None,
    topic_id: int | None,
    tag: str | None,
) -> list[ColumnElement[bool]]:
    """The ``WHERE`` clauses of a call list; a ``None`` argument filters nothing.

    Args:
        customer_id: Only this customer's calls.
        agent_id: Only this agent's calls.
        since: Calls that started at or after this instant.
        until: Calls that started before this instant.
        topic_id: Only calls assigned to this topic (an ``EXISTS`` on ``call_topics``).
        tag: Only calls carrying this tag (an ``EXISTS`` on ``tags``).

    Returns:
        The clauses, to be combined with ``AND``.

    """
    filters: list[ColumnElement[bool]] = []
    if customer_id is not None:
        filters.append(Call.customer_id == customer_id)
    if agent_id is not None:
        filters.append(Call.agent_id == agent_id)
    if since is not None:
        filters.append(Call.started_at >= since)
    if until is not None:
        filters.append(Call.started_at < until)
    if topic_id is not None:
        filters.append(
            select(CallTopicRow.call_pk)
            .where(CallTopicRow.topic_id == topic_id, CallTopicRow.call_pk == Call.id)
            .exists()
        )
    if tag is not None:
        filters.append(select(TagRow.id).where(TagRow.tag == tag, TagRow.call_pk == Call.id).exists())
    return filters


def done_calls_between(since: datetime | None, until: datetime | None) -> list[ColumnElement[bool]]:
    """The ``WHERE`` clauses of the processed (``done``) calls that started in ``[since, until)``.

    Args:
        since: Start instant, inclusive (``None``: all history).
        until: End instant, exclusive (``None``: up to now).

    Returns:
        The clauses, to be combined with ``AND``.

    """
    filters: list[ColumnElement[bool]] = [Call.status == "done"]
    if since is not None:
        filters.append(Call.started_at >= since)
    if until is not None:
        filters.append(Call.started_at < until)
    return filters
