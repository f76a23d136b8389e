"""Where a call's recording lies: koe's copy, the original file and the folder it was ingested from.

The API checks that a path lies inside an allowed folder before it serves the audio.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from koe.errors import NotFoundError
from models.tables import Call, PipelineRun


@dataclass(frozen=True, slots=True)
class RecordingLocation:
    """Where a call's audio may be: koe's copy, the original file, and the folder it was ingested from."""

    recording_path: str | None
    source_path: str
    source_root: str | None


def recording_location(session: Session, call_id: str) -> RecordingLocation:
    """The recording paths of ``call_id`` (the caller checks they lie inside allowed folders).

    Raises:
        NotFoundError: when there is no such call.

    """
    row = session.execute(
        select(Call.recording_path, Call.source_path, PipelineRun.parameters)
        .outerjoin(PipelineRun, PipelineRun.id == Call.run_id)
        .where(Call.call_id == call_id)
    ).first()
    if row is None:
        raise NotFoundError(f"call {call_id!r} not found; list calls with GET /calls")
    recording, source, parameters = row
    root = (parameters or {}).get("source") if isinstance(parameters, dict) else None
    return RecordingLocation(recording, source or "", str(root) if root else None)
