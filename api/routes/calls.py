"""Calls, their recordings, and search over what was said."""

from __future__ import annotations

import mimetypes
from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse

from api.auth import Permission, Principal
from api.deps import DB, State, raw_text_allowed, require, shown_attributes
from api.routes import NOT_FOUND, REFUSALS
from api.schemas import CallDetail, CallPage, SearchResults
from koe.errors import NotFoundError
from models.call_detail import call_detail
from models.call_list import list_calls
from models.recordings import RecordingLocation, recording_location
from models.search import search_utterances

router = APIRouter(tags=["calls"], responses=REFUSALS)
CallReader = Annotated[Principal, Depends(require(Permission.CALLS))]
AudioListener = Annotated[Principal, Depends(require(Permission.AUDIO))]
AUDIO_SUFFIXES = {".wav", ".flac", ".mp3", ".m4a", ".ogg", ".opus", ".webm", ".aac"}


@router.get("/calls", response_model=CallPage, summary="List calls, newest first")
async def get_calls(
    db: DB,
    _: CallReader,
    customer_id: Annotated[str | None, Query(max_length=128, examples=["C-1001"])] = None,
    agent_id: Annotated[str | None, Query(max_length=128)] = None,
    since: Annotated[datetime | None, Query(description="Started at or after (ISO 8601).")] = None,
    until: Annotated[datetime | None, Query(description="Started before (ISO 8601).")] = None,
    topic: Annotated[int | None, Query(ge=0, description="Topic id.")] = None,
    tag: Annotated[str | None, Query(max_length=40, examples=["repeat_contact"])] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> CallPage:
    """Calls filtered by customer, agent, time, topic or tag; keyset-paginated on (started_at, id)."""
    items, next_cursor = await db.run(
        lambda s: list_calls(
            s,
            customer_id=customer_id,
            agent_id=agent_id,
            since=since,
            until=until,
            topic_id=topic,
            tag=tag,
            limit=limit,
            cursor=cursor,
        )
    )
    return CallPage.model_validate({"items": items, "next_cursor": next_cursor})


@router.get("/calls/{call_id}", response_model=CallDetail, responses=NOT_FOUND, summary="One call in full")
async def get_call(call_id: str, db: DB, state: State, principal: CallReader) -> CallDetail:
    """Transcript, metrics, topics, categories, sentiment, tags and effort of one call.

    Text is redacted unless ``KOE_RAW_TEXT`` is on and the key's role is ``data``; ``attributes``
    holds only the columns in ``KOE_ATTRIBUTES_SHOWN`` unless the role is ``data``.
    """
    raw_text = raw_text_allowed(principal, state)
    shown = shown_attributes(principal, state)
    # Validated in the worker thread too: a long call is hundreds of utterances.
    return await db.run(
        lambda s: CallDetail.model_validate(call_detail(s, call_id, raw_text=raw_text, attributes_shown=shown))
    )


def allowed_recording(location: RecordingLocation, recordings_dir: Path) -> Path | None:
    """The first existing audio file of ``location`` that resolves inside an allowed folder.

    Allowed: koe's copies (``data_dir/recordings``) and the folder the call was ingested from.
    Paths are resolved (symlinks, ``..``) before the check, so nothing outside can be served.
    """
    candidates: list[tuple[str, Path]] = []
    if location.recording_path:
        candidates.append((location.recording_path, recordings_dir))
    if location.source_path and location.source_root and "://" not in location.source_root:
        candidates.append((location.source_path, Path(location.source_root)))
    for raw, root in candidates:
        try:
            path = Path(raw).resolve(strict=True)
            base = root.resolve(strict=True)
        except (OSError, RuntimeError):
            continue
        if path.is_file() and path.is_relative_to(base) and path.suffix.lower() in AUDIO_SUFFIXES:
            return path
    return None


@router.get(
    "/calls/{call_id}/audio",
    response_class=FileResponse,
    responses={
        **NOT_FOUND,
        200: {"content": {"audio/*": {}}, "description": "The whole recording."},
        206: {"content": {"audio/*": {}}, "description": "The requested byte range (HTTP Range)."},
    },
    summary="The call's recording (supports Range; roles in KOE_AUDIO_ROLES, default data)",
)
def get_call_audio(call_id: str, db: DB, state: State, _: AudioListener) -> FileResponse:
    """The recording: koe's copy (``KOE_KEEP_RECORDINGS``) or the original file if it still exists.

    Recordings are never redacted, so they need their own permission (``KOE_AUDIO_ROLES``, default:
    data only), whatever ``KOE_RAW_TEXT`` says.
    """
    location = db.call(lambda s: recording_location(s, call_id))
    path = allowed_recording(location, state.settings.data_dir / "recordings")
    if path is None:
        raise NotFoundError(f"call {call_id!r} has no recording koe can serve; ingest with KOE_KEEP_RECORDINGS=true")
    media_type = mimetypes.guess_type(path.name)[0] or ("audio/ogg" if path.suffix == ".opus" else "audio/mpeg")
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "private, max-age=300"})


@router.get("/search", response_model=SearchResults, summary="Full-text search over redacted utterances")
async def get_search(
    db: DB,
    _: CallReader,
    q: Annotated[str, Query(min_length=1, max_length=200, examples=["つながらない"])],
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> SearchResults:
    """Utterances containing ``q`` (any substring: Japanese needs no spaces), newest first."""
    hits = await db.run(lambda s: search_utterances(s, q, limit=limit))
    return SearchResults.model_validate({"query": q, "hits": hits})
