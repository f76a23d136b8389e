"""The fields every input shares: call, customer and agent ids, start times, content hashes.

Used by the manifest and folder reader (``koe.sources``) and the transcript JSONL reader
(``koe.transcripts``), so an id or a time means the same whichever way a call came in.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

from koe.errors import ManifestError

MAX_ID_CHARS = 200


def file_sha256(path: Path, *, chunk_bytes: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file's bytes, read in chunks (memory stays flat for long calls)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


def check_id(value: str, column: str, where: str) -> str:
    """An id from an input (call, customer, agent): non-empty, short, no path characters."""
    value = value.strip()
    if not value:
        raise ManifestError(f"{where}: {column} is empty; every call needs a {column}")
    if len(value) > MAX_ID_CHARS or any(ch in value for ch in "/\\\x00"):
        raise ManifestError(f"{where}: {column} {value[:40]!r} is too long or contains / \\ or NUL; use a plain id")
    return value


def optional_id(value: str | None, column: str, where: str) -> str | None:
    """:func:`check_id` for an id that may be missing (``None``)."""
    value = (value or "").strip()
    return check_id(value, column, where) if value else None


def parse_started_at(value: str | None, where: str) -> datetime | None:
    """Parse an ISO 8601 timestamp; naive values are taken as Japan time (UTC+9).

    Raises:
        ManifestError: naming ``where`` when the value is not ISO 8601.

    """
    value = (value or "").strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ManifestError(
            f"{where}: started_at {value!r} is not an ISO 8601 time; use e.g. 2026-11-02T10:15:00+09:00"
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone(timedelta(hours=9)))
    return parsed
