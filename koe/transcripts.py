"""Transcript JSONL, the input that skips transcription: one call per line, each line checked alone.

A line that is not a valid call becomes a :class:`SourceProblem` naming the file, the line and the fix;
the rest of the file is still imported (see the README, "Inputs").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from koe.errors import InputError, ManifestError, TranscriptFormatError
from koe.fields import MAX_ID_CHARS, check_id, optional_id, parse_started_at
from koe.records import CallSource, SourceProblem, Transcript, Utterance

TRANSCRIPT_SPEAKERS = ("agent", "customer", "unknown")
#: One utterance longer than this is refused: it is a broken export, not speech.
MAX_UTTERANCE_CHARS = 20_000


def read_transcripts(path: Path) -> Iterator[CallSource | SourceProblem]:
    """Read a transcript JSONL file: each valid line a call, each broken line a problem.

    A broken line fails alone; the rest of the file is still imported.
    """
    try:
        handle = path.open(encoding="utf-8-sig")
    except OSError as exc:
        yield SourceProblem(path.stem, path.name, f"{path}: cannot read ({exc}); check permissions")
        return
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path.name}:{number}"
            sha = hashlib.sha256(line.strip().encode("utf-8")).hexdigest()
            try:
                yield parse_transcript_line(line, where, sha)
            except InputError as exc:
                yield SourceProblem(_guess_call_id(line) or f"{path.stem}-line{number}", where, str(exc), sha)


def _guess_call_id(line: str) -> str | None:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError:
        return None
    value = obj.get("call_id") if isinstance(obj, dict) else None
    return str(value)[:MAX_ID_CHARS] if value else None


def parse_transcript_line(line: str, where: str, sha256: str) -> CallSource:
    """Parse one JSONL transcript line into a :class:`CallSource` carrying its transcript.

    Raises:
        TranscriptFormatError: naming ``where``, the field, and the fix.

    """
    try:
        obj: Any = json.loads(line)
    except json.JSONDecodeError as exc:
        raise TranscriptFormatError(f"{where}: not valid JSON ({exc.msg}); fix or remove the line") from exc
    if not isinstance(obj, dict):
        raise TranscriptFormatError(f"{where}: expected a JSON object with call_id and utterances")
    try:
        call_id = check_id(str(obj.get("call_id") or ""), "call_id", where)
        customer_id = optional_id(_str_or_none(obj.get("customer_id")), "customer_id", where)
        agent_id = optional_id(_str_or_none(obj.get("agent_id")), "agent_id", where)
        started_at = parse_started_at(_str_or_none(obj.get("started_at")), where)
    except ManifestError as exc:
        raise TranscriptFormatError(str(exc)) from exc
    raw = obj.get("utterances")
    if not isinstance(raw, list) or not raw:
        raise TranscriptFormatError(f"{where}: 'utterances' must be a non-empty list of {{speaker,start_s,end_s,text}}")
    utterances = [_parse_utterance(item, f"{where} utterance {i}") for i, item in enumerate(raw)]
    utterances.sort(key=lambda u: (u.start_s, u.end_s))
    speakers = {u.speaker for u in utterances}
    known = {"agent", "customer"}
    extra = {k: str(v) for k, v in obj.items() if k not in ("call_id", "customer_id", "agent_id", "started_at", "utterances")}
    transcript = Transcript(
        utterances=tuple(utterances),
        duration_s=max(u.end_s for u in utterances),
        speakers_separated=speakers <= known,
        language=str(obj.get("language") or "ja"),
        source="import",
    )
    return CallSource(
        call_id=call_id,
        sha256=sha256,
        origin=where,
        customer_id=customer_id,
        agent_id=agent_id,
        started_at=started_at,
        attributes={k: v[:500] for k, v in extra.items()},
        transcript=transcript,
    )


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def _parse_utterance(item: object, where: str) -> Utterance:
    if not isinstance(item, dict):
        raise TranscriptFormatError(f"{where}: expected an object with speaker, start_s, end_s, text")
    speaker = str(item.get("speaker", "")).strip().lower()
    if speaker not in TRANSCRIPT_SPEAKERS:
        raise TranscriptFormatError(
            f"{where}: unknown speaker {item.get('speaker')!r}; use 'agent', 'customer' or 'unknown'"
        )
    try:
        start_s = float(item["start_s"])
        end_s = float(item["end_s"])
    except (KeyError, TypeError, ValueError) as exc:
        raise TranscriptFormatError(f"{where}: start_s and end_s must be numbers of seconds") from exc
    if not (start_s >= 0 and end_s >= start_s) or end_s > 86_400:
        raise TranscriptFormatError(
            f"{where}: times {start_s}..{end_s} s are negative, reversed or beyond a day; fix the export"
        )
    text = item.get("text")
    if not isinstance(text, str):
        raise TranscriptFormatError(f"{where}: text must be a string")
    if len(text) > MAX_UTTERANCE_CHARS:
        raise TranscriptFormatError(
            f"{where}: utterance of {len(text)} characters exceeds {MAX_UTTERANCE_CHARS}; split the export into utterances"
        )
    return Utterance(speaker=speaker, start_s=start_s, end_s=end_s, text=text)  # type: ignore[arg-type]
