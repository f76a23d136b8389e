"""Stored calls read back for reprocessing: which calls, what each looked like, whether it changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from koe.errors import InputError
from koe.fields import file_sha256
from koe.records import CallSource
from models.call_detail import stored_transcript
from models.tables import Call

#: What ``reprocess`` runs again: the analysis of stored transcripts, or transcription too.
Stage = Literal["analysis", "transcribe"]


@dataclass(frozen=True, slots=True)
class StoredCall:
    """What a call looked like when it was read, to detect a newer run storing it in between."""

    source: CallSource
    sha256: str
    processed_at: datetime | None
    pii_count: int
    raw_text: bool


def done_call_ids(session: Session, since: datetime | None) -> list[str]:
    """Ids of the ``done`` calls to reprocess: all, or those processed at or after ``since``."""
    query = select(Call.call_id).where(Call.status == "done").order_by(Call.id)
    if since is not None:
        query = query.where(Call.processed_at >= since)
    return list(session.scalars(query))


def stored_call(session: Session, call_id: str, stage: Stage) -> StoredCall:
    """The call as stored, as a source to run the stages on again.

    Raises:
        InputError: when the call is gone, or its recording is needed (``stage="transcribe"``)
            and no longer exists.

    """
    row = session.scalar(select(Call).where(Call.call_id == call_id).options(selectinload(Call.utterances)))
    if row is None:
        raise InputError(f"call {call_id}: no longer in the database; nothing to reprocess")
    transcript = None
    audio: Path | None = None
    sha256 = row.content_sha256
    if stage == "analysis":
        transcript = stored_transcript(session, row)
    else:
        candidates = [p for p in (row.source_path, row.recording_path) if p]
        audio = next((Path(p) for p in candidates if Path(p).is_file()), None)
        if audio is None:
            where = " or ".join(candidates) or "no path stored"
            raise InputError(
                f"call {call_id}: recording not found ({where}); it cannot be re-transcribed. Restore the file,"
                " or keep copies with KOE_KEEP_RECORDINGS=true; its stored transcript and analysis are kept"
            )
        sha256 = file_sha256(audio)
    source = CallSource(
        call_id=row.call_id,
        sha256=sha256,
        origin=row.source_path or row.call_id,
        audio_path=audio,
        customer_id=row.customer_id,
        agent_id=row.agent_id,
        started_at=row.started_at,
        agent_channel=row.agent_channel,
        attributes=dict(row.attributes or {}),
        transcript=transcript,
    )
    raw = all(u.text is not None for u in row.utterances)
    return StoredCall(source, row.content_sha256, row.processed_at, row.pii_count, raw)


def call_version(session: Session, call_id: str) -> tuple[str, datetime | None] | None:
    """``(content_sha256, processed_at)`` of a stored call, to see whether a newer run stored it."""
    row = session.execute(select(Call.content_sha256, Call.processed_at).where(Call.call_id == call_id)).one_or_none()
    return None if row is None else (row[0], row[1])
