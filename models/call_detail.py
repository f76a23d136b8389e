"""One call read back: its detail in the shape the API and the CLI's ``--json`` share, and its transcript.

One source of truth: ``GET /calls/{id}`` and ``koe calls show ID --json`` both return
:func:`call_detail`. Text is always the redacted form unless ``raw_text`` is asked for (the caller
checks the role and the setting).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from koe.errors import NotFoundError
from koe.records import Transcript, Utterance
from models.json_values import iso, round_or_none
from models.tables import Call, CallTopicRow, TopicRow


def load_call(session: Session, call_id: str) -> Call:
    """The call row with everything a detail view needs, loaded eagerly.

    Raises:
        NotFoundError: when no call has ``call_id``.

    """
    row = session.scalar(
        select(Call)
        .where(Call.call_id == call_id)
        .options(
            selectinload(Call.utterances),
            selectinload(Call.metrics),
            selectinload(Call.tags),
            selectinload(Call.categories),
            selectinload(Call.topics),
        )
    )
    if row is None:
        raise NotFoundError(f"call {call_id!r} not found; list calls with GET /calls or `koe calls list`")
    return row


def call_detail(
    session: Session, call_id: str, *, raw_text: bool = False, attributes_shown: Collection[str] | None = None
) -> dict[str, Any]:
    """Everything koe knows about one call, in the API's ``GET /calls/{call_id}`` shape.

    Args:
        session: Open session.
        call_id: The call.
        raw_text: Return the unredacted text where it was kept (the caller checks role and setting).
        attributes_shown: Only these call attributes (extra input columns, which may hold a
            caller's name or number); ``None`` returns them all (the data role, the CLI).

    """
    row = load_call(session, call_id)
    attributes = dict(row.attributes or {})
    if attributes_shown is not None:
        attributes = {k: v for k, v in attributes.items() if k in attributes_shown}
    topic_ids = [t.topic_id for t in row.topics]
    labels = (
        dict(session.execute(select(TopicRow.id, TopicRow.label).where(TopicRow.id.in_(topic_ids))).tuples().all())
        if topic_ids
        else {}
    )
    metrics = row.metrics
    return {
        "call_id": row.call_id,
        "customer_id": row.customer_id,
        "agent_id": row.agent_id,
        "started_at": iso(row.started_at),
        "duration_s": round_or_none(row.duration_s),
        "status": row.status,
        "error": row.error,
        "language": row.language,
        "speakers_separated": row.speakers_separated,
        "transcript_source": row.transcript_source,
        "pipeline_version": row.pipeline_version,
        "attributes": attributes,
        "has_recording": bool(row.recording_path),
        "utterances": [
            {
                "index": u.index,
                "speaker": u.speaker,
                "start_s": u.start_s,
                "end_s": u.end_s,
                "text": (u.text if raw_text and u.text is not None else u.redacted_text),
                "sentiment": round(u.sentiment, 3),
                "sentiment_label": u.sentiment_label,
                "confidence": round_or_none(u.confidence),
            }
            for u in row.utterances
        ],
        "metrics": None
        if metrics is None
        else {
            "duration_s": round_or_none(metrics.duration_s),
            "talk_s": {
                "agent": round_or_none(metrics.talk_s_agent),
                "customer": round_or_none(metrics.talk_s_customer),
                "unknown": round_or_none(metrics.talk_s_unknown),
            },
            "talk_ratio_agent": round_or_none(metrics.talk_ratio_agent),
            "silence_count": metrics.silence_count,
            "silence_s": round_or_none(metrics.silence_s),
            "longest_silence_s": round_or_none(metrics.longest_silence_s),
            "silence_ratio": round_or_none(metrics.silence_ratio),
            "overtalk_count": metrics.overtalk_count,
            "overtalk_s": round_or_none(metrics.overtalk_s),
            "hold_count": metrics.hold_count,
            "hold_s": round_or_none(metrics.hold_s),
            "turn_count": metrics.turn_count,
            "speaking_rate": {
                "agent": round_or_none(metrics.speaking_rate_agent, 2),
                "customer": round_or_none(metrics.speaking_rate_customer, 2),
            },
            "intervals": metrics.intervals,
        },
        "topics": sorted(
            (
                {"topic_id": t.topic_id, "label": labels.get(t.topic_id, ""), "weight": round(t.weight, 4)}
                for t in row.topics
            ),
            key=lambda item: -float(item["weight"]),
        ),
        "categories": [
            {"category": c.category, "utterance_index": c.utterance_index, "start_s": c.start_s, "evidence": c.evidence}
            for c in sorted(row.categories, key=lambda c: (c.start_s, c.category))
        ],
        "sentiment": {
            "customer_mean": round_or_none(row.customer_sentiment),
            "agent_mean": round_or_none(row.agent_sentiment),
            "customer_start": round_or_none(row.customer_sentiment_start),
            "customer_end": round_or_none(row.customer_sentiment_end),
            "trajectory": row.trajectory,
        },
        "tags": [
            {"tag": t.tag, "utterance_index": t.utterance_index, "start_s": t.start_s, "evidence": t.evidence, "rule": t.rule}
            for t in sorted(row.tags, key=lambda t: (t.start_s, t.tag))
        ],
        "effort_index": round_or_none(row.effort_index, 1),
        "effort": {
            "do": round_or_none(row.do_effort, 1),
            "feel": round_or_none(row.feel_effort, 1),
            "components": row.effort_components,
        },
    }


def stored_transcript(session: Session, row: Call, *, prefer_raw: bool = True) -> Transcript:
    """Rebuild a call's transcript from the database, for re-analysis without re-transcribing.

    Uses the raw text where it was kept (``KOE_RAW_TEXT``) and the redacted text otherwise, so
    reprocessing never brings back PII that was not stored.
    """
    utterances = tuple(
        Utterance(
            speaker=u.speaker,  # type: ignore[arg-type]
            start_s=u.start_s,
            end_s=u.end_s,
            text=u.text if prefer_raw and u.text is not None else u.redacted_text,
            confidence=u.confidence,
        )
        for u in row.utterances
    )
    return Transcript(
        utterances=utterances,
        duration_s=row.duration_s or (max((u.end_s for u in utterances), default=0.0)),
        speakers_separated=row.speakers_separated,
        language=row.language or "ja",
        source=row.transcript_source or "import",
    )


def call_topic_ids(session: Session, call_pk: int) -> list[int]:
    """Topic ids a call is assigned to, heaviest first."""
    return list(
        session.scalars(
            select(CallTopicRow.topic_id).where(CallTopicRow.call_pk == call_pk).order_by(CallTopicRow.weight.desc())
        )
    )
