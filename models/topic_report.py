"""The topic report of ``GET /reports/topics``, and its Markdown for the flows' Prefect artifact.

Aggregates run as ``GROUP BY`` in the database over indexed columns (``calls.started_at``,
``call_topics`` and ``tags`` by call); the API caches the report. Quotes are redacted.

Definitions:

- *volume*: calls whose primary contact reason is the topic (``call_topics.is_primary``): every call
  counts once, so the volumes and ``other_calls`` (「その他」: no topic holds enough of the call) add up
  to ``total_calls``;
- *secondary_volume*: calls where the topic is present but not primary (weight >= 0.1), shown apart;
- *share*: volume / total calls, so shares and the share of 「その他」 add up to 1;
- *effort rate*: share of the topic's calls carrying at least one effort tag (:data:`koe.taxonomy.DO_TAGS`);
  the mean effort index (0-100) is reported next to it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, func, literal_column, select
from sqlalchemy.orm import Session

from koe.errors import InputError
from koe.taxonomy import DO_TAGS
from models.call_filters import done_calls_between
from models.json_values import iso, round_or_none
from models.tables import Call, CallTopicRow, TagRow, TopicRow
from models.topics import current_topic_model

Granularity = Literal["day", "week", "month"]

TOP_TAGS_PER_TOPIC = 5


def _period(session: Session, granularity: Granularity) -> ColumnElement[str]:
    """SQL text ``YYYY-MM-DD`` of the first day of the period (weeks start on Monday)."""
    column = Call.started_at
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.date_trunc(granularity, column), "YYYY-MM-DD")
    if granularity == "day":
        return func.date(column)
    if granularity == "week":
        # SQLite: 'weekday 0' moves to the next Sunday (or stays), -6 days lands on that week's Monday.
        return func.date(column, "weekday 0", "-6 days")
    return func.strftime("%Y-%m-01", column)



def topic_report(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    granularity: Granularity = "week",
) -> dict[str, Any]:
    """Per topic: volume, share, trend per period, sentiment, effort, top tags and quotes.

    Args:
        session: Open session.
        since: Calls that started at or after this instant (default: all history).
        until: Calls that started before this instant.
        granularity: Length of a trend period: ``day``, ``week`` (Monday first) or ``month``.

    Returns:
        ``{since, until, granularity, total_calls, calls_with_topic, periods, topics:[...]}``; topics
        sorted by volume, largest first. Sentiment is the mean customer score in [-1, 1], effort the
        mean effort index 0-100 and ``effort_rate`` the share (0-1) of calls with an effort tag.

    """
    if granularity not in ("day", "week", "month"):
        raise InputError("granularity: must be day, week or month")
    where = done_calls_between(since, until)
    total = session.scalar(select(func.count()).select_from(Call).where(*where)) or 0
    primary = (CallTopicRow.is_primary.is_(True),)
    joined = select().select_from(CallTopicRow).join(Call, Call.id == CallTopicRow.call_pk).where(*where, *primary)
    stats = session.execute(
        joined.add_columns(
            CallTopicRow.topic_id,
            func.count(),
            func.avg(CallTopicRow.weight),
            func.avg(Call.customer_sentiment),
            func.avg(Call.effort_index),
        ).group_by(CallTopicRow.topic_id)
    ).all()
    secondary = dict(
        session.execute(
            select(CallTopicRow.topic_id, func.count())
            .join(Call, Call.id == CallTopicRow.call_pk)
            .where(*where, CallTopicRow.is_primary.is_(False))
            .group_by(CallTopicRow.topic_id)
        )
        .tuples()
        .all()
    )
    with_topic = sum(int(row[1]) for row in stats)
    period = _period(session, granularity).label("period")
    trend: dict[int, dict[str, int]] = {}
    for topic_id, bucket, count in session.execute(
        joined.add_columns(CallTopicRow.topic_id, period, func.count()).group_by(CallTopicRow.topic_id, literal_column("period"))
    ):
        trend.setdefault(topic_id, {})[str(bucket)] = int(count)
    tagged = select().select_from(CallTopicRow).join(Call, Call.id == CallTopicRow.call_pk)
    tagged = tagged.join(TagRow, TagRow.call_pk == CallTopicRow.call_pk).where(*where, *primary)
    effort_calls = dict(
        session.execute(
            tagged.add_columns(CallTopicRow.topic_id, func.count(func.distinct(CallTopicRow.call_pk)))
            .where(TagRow.tag.in_(DO_TAGS))
            .group_by(CallTopicRow.topic_id)
        )
        .tuples()
        .all()
    )
    top_tags: dict[int, list[dict[str, Any]]] = {}
    for topic_id, tag, count in session.execute(
        tagged.add_columns(CallTopicRow.topic_id, TagRow.tag, func.count(func.distinct(TagRow.call_pk))).group_by(
            CallTopicRow.topic_id, TagRow.tag
        )
    ):
        top_tags.setdefault(topic_id, []).append({"tag": tag, "calls": int(count)})
    topics = {row.id: row for row in session.scalars(select(TopicRow))}
    # Known reasons (KOE_TOPIC_SEEDS) the current model grew its topics from; with seeds configured,
    # every other topic was discovered in the data and is flagged new.
    stored = current_topic_model(session)
    origin_of = dict(zip(stored.model.get("topic_ids", []), stored.model.get("origins", []), strict=False)) if stored else {}
    seeded = any(origin_of.values())
    periods = sorted({bucket for buckets in trend.values() for bucket in buckets})
    items = []
    for topic_id, volume, confidence, sentiment, effort in stats:
        topic = topics.get(topic_id)
        items.append(
            {
                "topic_id": topic_id,
                "label": topic.label if topic else f"topic {topic_id}",
                "top_terms": list(topic.top_terms)[:8] if topic else [],
                "volume": int(volume),
                "secondary_volume": int(secondary.get(topic_id, 0)),
                "share": round(int(volume) / total, 4) if total else 0.0,
                "confidence": round_or_none(confidence),
                "known_reason": origin_of.get(topic_id) or None,
                "new": seeded and not origin_of.get(topic_id),
                "trend": [{"period": p, "calls": trend.get(topic_id, {}).get(p, 0)} for p in periods],
                "customer_sentiment": round_or_none(sentiment),
                "effort_index": round_or_none(effort, 1),
                "effort_rate": round(effort_calls.get(topic_id, 0) / volume, 4) if volume else 0.0,
                "top_tags": sorted(top_tags.get(topic_id, []), key=lambda t: (-t["calls"], t["tag"]))[:TOP_TAGS_PER_TOPIC],
                "quotes": [
                    {"call_id": q.get("call_id"), "start_s": q.get("start_s"), "text": q.get("text", "")}
                    for q in (topic.quotes if topic else [])
                ],
            }
        )
    items.sort(key=lambda item: (-item["volume"], item["topic_id"]))
    return {
        "since": iso(since),
        "until": iso(until),
        "granularity": granularity,
        "total_calls": int(total),
        "calls_with_topic": int(with_topic),
        "other_calls": int(total) - int(with_topic),
        "periods": periods,
        "topics": items,
    }


def topic_report_markdown(session: Session) -> str:
    """The whole-history topic report as Markdown (redacted quotes only), for a Prefect artifact."""
    report = topic_report(session, granularity="month")
    lines = [
        "# koe topic report",
        "",
        f"{report['total_calls']} processed calls: {report['calls_with_topic']} by primary topic, "
        f"{report['other_calls']} その他 (no topic fits well).",
        "",
        "| topic | calls | share | customer sentiment | effort index | effort rate | top tags |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for topic in report["topics"]:
        tags = ", ".join(f"{t['tag']} ({t['calls']})" for t in topic["top_tags"]) or "-"
        label = str(topic["label"]).replace("|", "/")
        lines.append(
            f"| {label} | {topic['volume']} | {topic['share']:.0%} | {_markdown_number(topic['customer_sentiment'])} "
            f"| {_markdown_number(topic['effort_index'])} | {topic['effort_rate']:.0%} | {tags} |"
        )
    if not report["topics"]:
        lines.append("| (no topics yet) | 0 | - | - | - | - | - |")
    return "\n".join(lines) + "\n"


def _markdown_number(value: float | None) -> str:
    """A number for a Markdown table cell: shortest form (``%g``), ``-`` for none."""
    return "-" if value is None else f"{value:g}"
