"""The ingest contract: turn a folder of recordings, a manifest, or a transcript JSONL into calls.

Inputs (see the README, "Inputs"):

* A folder of recordings in any format PyAV decodes. Optional ``manifest.csv`` beside them (or an
  explicit ``--manifest`` CSV/JSONL) with ``call_id,audio_path,customer_id,agent_id,started_at,
  agent_channel``; unknown columns are kept as call attributes.
* A transcript JSONL file (or a folder's ``*.jsonl`` files), one call per line, which skips
  transcription.

Every input that cannot become a call becomes a :class:`SourceProblem` with a message naming the
input and the fix; it is recorded as a failed call and nothing else is lost.

Files are resolved before they are read: a symbolic link in the folder that points outside it
(``calls/x.wav -> /etc/shadow``) is such a problem, never followed, so neither its bytes nor a copy
of them (``KOE_KEEP_RECORDINGS``) reach koe. Links that stay inside the folder are fine.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from koe.errors import InputError, ManifestError
from koe.fields import check_id, file_sha256, optional_id, parse_started_at
from koe.records import CallSource, SourceProblem
from koe.transcripts import read_transcripts

AUDIO_SUFFIXES = frozenset(
    {".wav", ".flac", ".mp3", ".m4a", ".aac", ".ogg", ".opus", ".oga", ".webm", ".mp4", ".wma", ".aiff", ".aif"}
)
MANIFEST_COLUMNS = ("call_id", "audio_path", "customer_id", "agent_id", "started_at", "agent_channel")
REQUIRED_MANIFEST_COLUMNS = ("call_id", "audio_path")


@dataclass(frozen=True, slots=True)
class SourceOptions:
    """How inputs are read.

    Attributes:
        manifest: Explicit manifest file; default: ``manifest.csv``/``manifest.jsonl`` in the folder.
        default_agent_channel: Agent channel for stereo recordings the manifest does not describe.

    """

    manifest: Path | None = None
    default_agent_channel: int = 0


@dataclass(slots=True)
class Discovery:
    """What was found at an input path: calls to process and inputs that are already failures."""

    sources: list[CallSource] = field(default_factory=list)
    problems: list[SourceProblem] = field(default_factory=list)


def discover(path: Path, options: SourceOptions | None = None) -> Discovery:
    """Find every call at ``path``: a recordings folder, or a transcript ``.jsonl`` file.

    Args:
        path: A folder (recordings, optional manifest, optional ``*.jsonl`` transcripts) or a
            transcript JSONL file.
        options: Manifest location and stereo defaults.

    Returns:
        The calls in a stable order (manifest order, then file names) and the inputs that failed.

    Raises:
        InputError: when ``path`` does not exist or the manifest as a whole is unusable.

    """
    options = options or SourceOptions()
    if not path.exists():
        raise InputError(f"{path}: no such file or folder; give a folder of recordings or a transcript .jsonl")
    found = Discovery()
    if path.is_file():
        if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
            _extend(found, read_transcripts(path))
            return found
        if path.suffix.lower() in AUDIO_SUFFIXES:
            found.sources.append(_audio_source(path, path.stem, path.name, options))
            return found
        raise InputError(f"{path}: not a recordings folder, an audio file or a transcript .jsonl; check the path")
    root = path.resolve()
    manifest = options.manifest or _default_manifest(path)
    listed: set[Path] = set()
    if manifest is not None:
        rows = read_manifest(manifest)
        _extend(found, _manifest_sources(rows, manifest, path, options, listed))
    for item in sorted(path.iterdir()):
        suffix = item.suffix.lower()
        if item.name.startswith(".") or suffix not in AUDIO_SUFFIXES | {".jsonl", ".ndjson"}:
            continue
        outside = link_outside(item, root)
        if outside is not None:
            found.problems.append(SourceProblem(item.stem, item.name, outside))
            continue
        if not item.is_file() or item.resolve() in listed:
            continue
        if suffix in AUDIO_SUFFIXES:
            found.sources.append(_audio_source(item, item.stem, item.name, options))
        elif suffix in (".jsonl", ".ndjson") and (manifest is None or item.resolve() != manifest.resolve()):
            _extend(found, read_transcripts(item))
    _flag_duplicate_ids(found)
    return found


def _extend(found: Discovery, items: Iterable[CallSource | SourceProblem]) -> None:
    for item in items:
        (found.sources if isinstance(item, CallSource) else found.problems).append(item)  # type: ignore[arg-type]


def _flag_duplicate_ids(found: Discovery) -> None:
    seen: dict[str, str] = {}
    unique: list[CallSource] = []
    for source in found.sources:
        if source.call_id in seen:
            found.problems.append(
                SourceProblem(
                    source.call_id,
                    source.origin,
                    f"{source.origin}: call_id {source.call_id!r} is already used by {seen[source.call_id]};"
                    " give each call a unique call_id",
                    source.sha256,
                )
            )
            continue
        seen[source.call_id] = source.origin
        unique.append(source)
    found.sources = unique


def link_outside(item: Path, root: Path) -> str | None:
    """Why ``item`` (an entry of the folder ``root``, already resolved) must not be read, or ``None``.

    Only a path that resolves outside ``root`` (a symbolic link out of the folder, or a loop) is
    refused; the message names the file, where it points, and the fix.
    """
    try:
        target = item.resolve(strict=True)
    except (OSError, RuntimeError):
        if not item.is_symlink():
            return None  # gone or unreadable: reported by whatever reads it next
        return (
            f"{item.name}: a symbolic link that points nowhere or at itself; replace it with the file "
            "itself (koe reads only files inside the inbox folder)"
        )
    if target.is_relative_to(root):
        return None
    return (
        f"{item.name}: a symbolic link to {target}, outside the inbox folder {root}; koe reads only files "
        "inside the folder: copy the file into it (cp -L) instead of linking to it"
    )


def _default_manifest(folder: Path) -> Path | None:
    for name in ("manifest.csv", "manifest.jsonl"):
        candidate = folder / name
        if candidate.is_file() or candidate.is_symlink():
            outside = link_outside(candidate, folder.resolve())
            if outside is not None:
                raise ManifestError(outside)
            return candidate
    return None


def _audio_source(path: Path, call_id: str, origin: str, options: SourceOptions) -> CallSource:
    return CallSource(
        call_id=call_id,
        sha256=file_sha256(path),
        origin=origin,
        audio_path=path,
        agent_channel=options.default_agent_channel,
    )


def read_manifest(path: Path) -> list[dict[str, str]]:
    """Read a CSV or JSONL manifest into rows of strings (keys lower-cased and stripped).

    Raises:
        ManifestError: when the file is missing, unreadable, or lacks ``call_id``/``audio_path``.

    """
    if not path.is_file():
        raise ManifestError(f"{path}: manifest not found; pass an existing CSV or JSONL file with --manifest")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path}: cannot read manifest ({exc}); save it as UTF-8 CSV or JSONL") from exc
    rows: list[dict[str, str]] = []
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ManifestError(f"{path}:{number}: not valid JSON ({exc.msg}); fix or remove the line") from exc
            if not isinstance(obj, dict):
                raise ManifestError(f"{path}:{number}: expected a JSON object per line")
            rows.append({str(k).strip().lower(): "" if v is None else str(v).strip() for k, v in obj.items()})
        columns = set().union(*(row.keys() for row in rows)) if rows else set()
    else:
        reader = csv.DictReader(text.splitlines())
        columns = {(name or "").strip().lower() for name in reader.fieldnames or []}
        for row in reader:
            rows.append({(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if k is not None})
    missing = [name for name in REQUIRED_MANIFEST_COLUMNS if name not in columns]
    if missing:
        raise ManifestError(
            f"{path}: manifest lacks column(s) {', '.join(missing)}; expected header "
            + ",".join(MANIFEST_COLUMNS)
        )
    return rows


def _manifest_sources(
    rows: list[dict[str, str]], manifest: Path, folder: Path, options: SourceOptions, listed: set[Path]
) -> Iterator[CallSource | SourceProblem]:
    root = folder.resolve()
    base = manifest.parent.resolve()
    for number, row in enumerate(rows, start=2):
        where = f"{manifest.name}:{number}"
        call_id = row.get("call_id", "")
        audio_rel = row.get("audio_path", "")
        audio = (base / audio_rel).resolve() if audio_rel else None
        if audio is not None:
            # A listed file is never also ingested as a loose file, even when its row is invalid.
            listed.add(audio)
        try:
            call_id = check_id(call_id, "call_id", where)
            if audio is None:
                raise ManifestError(f"{where}: audio_path is empty; give the recording's path relative to {base}")
            if not (audio.is_relative_to(root) or audio.is_relative_to(base)):
                raise ManifestError(
                    f"{where}: audio_path {audio_rel!r} points outside the ingested folder; move the file inside it"
                )
            if not audio.is_file():
                raise ManifestError(f"{where}: audio_path {audio_rel!r} does not exist; fix the path or add the file")
            yield CallSource(
                call_id=call_id,
                sha256=file_sha256(audio),
                origin=f"{audio_rel} ({where})",
                audio_path=audio,
                customer_id=optional_id(row.get("customer_id", ""), "customer_id", where),
                agent_id=optional_id(row.get("agent_id", ""), "agent_id", where),
                started_at=parse_started_at(row.get("started_at", ""), where),
                agent_channel=_parse_channel(row.get("agent_channel", ""), where, options),
                attributes={k: v for k, v in row.items() if k not in MANIFEST_COLUMNS and k},
            )
        except InputError as exc:
            yield SourceProblem(call_id or f"{manifest.stem}-row{number}", where, str(exc))


def _parse_channel(value: str | None, where: str, options: SourceOptions) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if value not in ("0", "1"):
        raise ManifestError(f"{where}: agent_channel {value!r} must be 0 or 1 (stereo) or empty (mono)")
    return int(value)


def keep_recording(source: CallSource, data_dir: Path) -> Path | None:
    """Copy a call's recording to ``data_dir/recordings`` (for the audio player); returns the copy.

    The copy is named by content hash, so a re-ingest of the same bytes reuses it and two calls
    cannot overwrite each other. Imported transcripts have no recording: ``None``.
    """
    if source.audio_path is None:
        return None
    import shutil

    folder = data_dir / "recordings" / source.sha256[:2]
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{source.sha256}{source.audio_path.suffix.lower()}"
    if not target.exists():
        partial = target.with_suffix(target.suffix + ".part")
        shutil.copyfile(source.audio_path, partial)
        partial.replace(target)
    return target.resolve()
