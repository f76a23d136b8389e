"""Writing calls: claim a call for processing, store its results, record its failure.

Write functions take a ``Session`` and only add/flush: the caller owns the transaction, so one call's
transcript, metrics, topics and tags commit together or not at all.

Claims: a worker that processes a call first claims it (``claimed_by``/``claimed_at``) in a short
transaction of its own. Another worker skips a claimed call unless the claim is stale: older than
the lease, or taken by a process on this host that no longer exists (a crashed run). The claim is
released when the results (or the failure) are stored.
"""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from koe import PIPELINE_VERSION
from koe.records import CallAnalysis, CallMetrics, CallSource, Interval, TopicWeight, Transcript
from models.tables import (
    Agent,
    Call,
    CallCategoryRow,
    CallMetricsRow,
    CallTopicRow,
    Customer,
    ForgottenCustomer,
    TagRow,
    UtteranceRow,
    utcnow,
)
from models.topic_edits import fold_merged, merge_map
from textmining.topics import primary_topic

#: How long a claim protects a call from other workers before it is considered abandoned.
DEFAULT_LEASE = timedelta(minutes=60)

ClaimOutcome = Literal["claimed", "unchanged", "failed_before", "busy", "forgotten"]


def worker_identity() -> str:
    """A claim owner id: ``host:pid:random`` (the pid lets a rerun on this host spot a crashed owner)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _owner_is_dead(claimed_by: str) -> bool:
    host, _, rest = claimed_by.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@dataclass(frozen=True, slots=True)
class Claim:
    """Result of trying to claim a call: ``outcome`` and, when claimed, the row id."""

    outcome: ClaimOutcome
    call_pk: int | None = None


def _insert_if_absent(session: Session, table: type[Customer] | type[Agent], key: str, value: str) -> None:
    # INSERT ... ON CONFLICT DO NOTHING: two workers seeing a new customer at the same moment both
    # insert it, and neither fails (a plain INSERT aborts the loser's whole transaction on PostgreSQL).
    backend = session.get_bind().dialect.name
    values = {key: value, "created_at": utcnow()}
    if backend == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        session.execute(pg_insert(table).values(**values).on_conflict_do_nothing(index_elements=[key]))
    elif backend == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        session.execute(sqlite_insert(table).values(**values).on_conflict_do_nothing(index_elements=[key]))
    elif session.get(table, value) is None:
        session.add(table(**values))


def ensure_people(session: Session, customer_id: str | None, agent_id: str | None) -> None:
    """Create the customer and agent rows when they do not exist yet (safe under concurrency)."""
    if customer_id:
        _insert_if_absent(session, Customer, "customer_id", customer_id)
    if agent_id:
        _insert_if_absent(session, Agent, "agent_id", agent_id)
    session.flush()


def customer_hash(customer_id: str) -> str:
    """The pseudonym a forgotten customer is remembered by (SHA-256 hex of the id)."""
    return hashlib.sha256(customer_id.encode("utf-8")).hexdigest()


def is_forgotten(session: Session, customer_id: str) -> bool:
    """Whether ``customer_id`` was erased and must not be ingested again."""
    return session.get(ForgottenCustomer, customer_hash(customer_id)) is not None


def claim_call(
    session: Session,
    source: CallSource,
    *,
    worker: str,
    force: bool = False,
    retry_failed: bool = False,
    lease: timedelta = DEFAULT_LEASE,
) -> Claim:
    """Claim ``source`` for processing by ``worker``, inserting its row if it is new.

    A call whose content hash is unchanged and which is ``done`` is not claimed (``unchanged``);
    nor is one that ``failed`` for a permanent reason with the same content (``failed_before``),
    unless ``force`` or ``retry_failed``. A call claimed by a live worker is ``busy``.

    A call of a customer who was erased (``koe customers forget``) is never claimed
    (``forgotten``), with or without ``force``: erasure must survive re-ingesting the originals.

    The caller commits right after, so the claim is visible to other workers. On a unique-key race
    with another worker inserting the same call the caller's commit fails; treat that as ``busy``.
    """
    if source.customer_id and is_forgotten(session, source.customer_id):
        return Claim("forgotten")
    now = utcnow()
    row = session.scalar(select(Call).where(Call.call_id == source.call_id))
    if row is None:
        ensure_people(session, source.customer_id, source.agent_id)
        row = Call(call_id=source.call_id, status="pending", claimed_by=worker, claimed_at=now)
        _apply_source(row, source)
        session.add(row)
        session.flush()
        return Claim("claimed", row.id)
    same_content = row.content_sha256 == source.sha256
    if not force and same_content and row.status == "done":
        return Claim("unchanged", row.id)
    if not force and not retry_failed and same_content and row.status == "failed" and not row.error_transient:
        return Claim("failed_before", row.id)
    if row.claimed_by and row.claimed_by != worker:
        fresh = row.claimed_at is not None and now - row.claimed_at < lease
        if fresh and not _owner_is_dead(row.claimed_by):
            return Claim("busy", row.id)
    # Compare-and-set on the previous owner so two workers cannot both take over one stale claim.
    result = session.execute(
        update(Call)
        .where(Call.id == row.id, or_(Call.claimed_by.is_(None), Call.claimed_by == row.claimed_by))
        .values(claimed_by=worker, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return Claim("busy", row.id)
    ensure_people(session, source.customer_id, source.agent_id)
    session.refresh(row)
    _apply_source(row, source)
    row.status = "pending"
    session.flush()
    return Claim("claimed", row.id)


def _apply_source(row: Call, source: CallSource) -> None:
    row.customer_id = source.customer_id
    row.agent_id = source.agent_id
    row.started_at = source.started_at
    row.source_path = str(source.audio_path) if source.audio_path else source.origin
    row.content_sha256 = source.sha256
    row.agent_channel = source.agent_channel
    row.attributes = dict(source.attributes)


def release_claim(session: Session, call_pk: int, worker: str) -> None:
    """Give up a claim without storing anything (e.g. the run was cancelled)."""
    session.execute(
        update(Call).where(Call.id == call_pk, Call.claimed_by == worker).values(claimed_by=None, claimed_at=None)
    )


def record_failure(
    session: Session,
    source: CallSource | None,
    *,
    call_id: str,
    error: str,
    transient: bool = False,
    run_id: int | None = None,
    sha256: str = "",
    origin: str = "",
) -> int:
    """Mark a call ``failed`` with ``error``, creating its row if needed; returns the row id.

    Results a previous successful run stored are removed, so a call is complete or absent.
    """
    row = session.scalar(select(Call).where(Call.call_id == call_id))
    if row is None:
        row = Call(call_id=call_id)
        session.add(row)
    if source is not None:
        ensure_people(session, source.customer_id, source.agent_id)
        _apply_source(row, source)
    else:
        row.content_sha256 = sha256 or row.content_sha256
        row.source_path = origin or row.source_path
    session.flush()
    _clear_results(session, row.id)
    row.status = "failed"
    row.error = error[:4000]
    row.error_transient = transient
    row.claimed_by = None
    row.claimed_at = None
    row.run_id = run_id
    row.processed_at = utcnow()
    row.pipeline_version = PIPELINE_VERSION
    session.flush()
    return row.id


def _clear_results(session: Session, call_pk: int) -> None:
    for table in (UtteranceRow, TagRow, CallCategoryRow, CallTopicRow):
        session.execute(delete(table).where(table.call_pk == call_pk))
    session.execute(delete(CallMetricsRow).where(CallMetricsRow.call_pk == call_pk))


def _intervals(items: tuple[Interval, ...]) -> list[dict[str, object]]:
    return [{"start_s": round(i.start_s, 3), "end_s": round(i.end_s, 3), "speaker": i.speaker} for i in items]


def store_results(
    session: Session,
    call_pk: int,
    *,
    transcript: Transcript,
    metrics: CallMetrics | None,
    analysis: CallAnalysis,
    topics: tuple[TopicWeight, ...] = (),
    topic_model_id: int | None = None,
    keep_raw_text: bool = False,
    run_id: int | None = None,
    recording_path: str | None = None,
) -> None:
    """Store one call's transcript, metrics, analysis and topics, and mark it ``done``.

    Replaces whatever an earlier run stored for the call. Raw (unredacted) text is stored only when
    ``keep_raw_text``; every other text is the redacted form. ``recording_path`` is koe's own copy
    of the recording (``KOE_KEEP_RECORDINGS``), served by the audio player.
    """
    row = session.get(Call, call_pk)
    if row is None:
        raise LookupError(f"call row {call_pk} vanished while it was being processed")
    _clear_results(session, call_pk)
    by_index = {u.index: u for u in analysis.utterances}
    for index, utterance in enumerate(transcript.utterances):
        mined = by_index.get(index)
        session.add(
            UtteranceRow(
                call_pk=call_pk,
                index=index,
                speaker=utterance.speaker,
                start_s=round(utterance.start_s, 3),
                end_s=round(utterance.end_s, 3),
                text=utterance.text if keep_raw_text else None,
                redacted_text=mined.redacted_text if mined else "",
                tokens=" ".join(mined.tokens) if mined else "",
                sentiment=mined.sentiment if mined else 0.0,
                sentiment_label=mined.sentiment_label if mined else "neutral",
                confidence=utterance.confidence,
            )
        )
    if metrics is not None:
        session.add(
            CallMetricsRow(
                call_pk=call_pk,
                duration_s=metrics.duration_s,
                talk_s_agent=metrics.talk_s_agent,
                talk_s_customer=metrics.talk_s_customer,
                talk_s_unknown=metrics.talk_s_unknown,
                talk_ratio_agent=metrics.talk_ratio_agent,
                silence_count=metrics.silence_count,
                silence_s=metrics.silence_s,
                longest_silence_s=metrics.longest_silence_s,
                silence_ratio=metrics.silence_ratio,
                overtalk_count=metrics.overtalk_count,
                overtalk_s=metrics.overtalk_s,
                hold_count=metrics.hold_count,
                hold_s=metrics.hold_s,
                turn_count=metrics.turn_count,
                speaking_rate_agent=metrics.speaking_rate_agent,
                speaking_rate_customer=metrics.speaking_rate_customer,
                intervals={
                    "silences": _intervals(metrics.silences),
                    "overtalks": _intervals(metrics.overtalks),
                    "holds": _intervals(metrics.holds),
                },
            )
        )
    for tag in analysis.tags:
        session.add(
            TagRow(
                call_pk=call_pk,
                tag=tag.tag,
                utterance_index=tag.utterance_index,
                start_s=round(tag.start_s, 3),
                evidence=tag.evidence,
                rule=tag.rule,
            )
        )
    for hit in analysis.categories:
        session.add(
            CallCategoryRow(
                call_pk=call_pk,
                category=hit.category,
                utterance_index=hit.utterance_index,
                start_s=round(hit.start_s, 3),
                evidence=hit.evidence,
            )
        )
    store_topic_weights(session, call_pk, topics, topic_model_id)
    sentiment = analysis.sentiment
    row.status = "done"
    row.error = None
    row.error_transient = False
    row.claimed_by = None
    row.claimed_at = None
    row.duration_s = transcript.duration_s
    row.language = transcript.language
    row.transcript_source = transcript.source
    row.speakers_separated = transcript.speakers_separated
    row.effort_index = analysis.effort.index
    row.do_effort = analysis.effort.do_effort
    row.feel_effort = analysis.effort.feel_effort
    row.effort_components = [[name, points] for name, points in analysis.effort.components]
    row.customer_sentiment = sentiment.customer_mean
    row.agent_sentiment = sentiment.agent_mean
    row.customer_sentiment_start = sentiment.customer_start
    row.customer_sentiment_end = sentiment.customer_end
    row.trajectory = sentiment.trajectory
    row.pii_count = analysis.pii_count
    row.rules_version = analysis.rules_version
    row.pipeline_version = PIPELINE_VERSION
    row.processed_at = utcnow()
    row.run_id = run_id
    if recording_path is not None:
        row.recording_path = recording_path
    session.flush()


def store_topic_weights(
    session: Session, call_pk: int, topics: tuple[TopicWeight, ...], topic_model_id: int | None
) -> None:
    """Replace a call's topic weights with ``topics`` from model ``topic_model_id``, marking its primary topic."""
    session.execute(delete(CallTopicRow).where(CallTopicRow.call_pk == call_pk))
    topics = fold_merged(topics, merge_map(session))  # a manager merged these topics (models.topic_edits)
    primary = primary_topic(topics)
    for weight in topics:
        session.add(
            CallTopicRow(
                call_pk=call_pk,
                topic_id=weight.topic_id,
                weight=round(weight.weight, 4),
                model_id=topic_model_id,
                is_primary=primary is not None and weight.topic_id == primary.topic_id,
            )
        )
    session.flush()


def record_input_problem(
    session: Session, *, call_id: str, error: str, sha256: str = "", origin: str = "", run_id: int | None = None
) -> bool:
    """Record an input that could not become a call (bad manifest row, broken JSONL line).

    A call already stored as ``done`` under the same id is left untouched (a duplicate id or a
    broken re-export must not destroy good results); the problem is still reported in the run.

    Returns:
        True when a ``failed`` call row was written.

    """
    row = session.scalar(select(Call).where(Call.call_id == call_id))
    if row is not None and row.status == "done":
        return False
    record_failure(session, None, call_id=call_id, error=error, sha256=sha256, origin=origin, run_id=run_id)
    return True
