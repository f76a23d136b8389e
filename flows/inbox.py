"""Inbox staging: fsspec URLs copied to a local folder, and files still being written held back.

``process_calls`` accepts a local folder or file, or any fsspec URL (``file://``, ``memory://``,
``s3://`` when s3fs is installed, ...). Remote inputs are mirrored into
``<data_dir>/staging/<protocol>/<digest of the URL>/`` before discovery, so discovery, hashing and
transcription always read local files. Content hashes are of the bytes, so a call keeps its identity
whether it arrives from a folder or from a bucket.

A file modified less than ``settle_s`` seconds ago, whose size changes while it is copied, or that
cannot be opened is *deferred*: left out of this run, reported with its reason, and picked up by the
next run (the deployment runs every 15 minutes); :func:`hold_back_deferred` leaves the calls that
come from a deferred file out of the run's discovery.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from koe.errors import InputError
from koe.sources import Discovery, link_outside

COPY_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class Deferred:
    """An inbox file left for the next run, and why."""

    name: str
    reason: str


@dataclass(slots=True)
class StagedInput:
    """A local path to discover calls at, plus the files that were held back."""

    path: Path
    deferred: list[Deferred] = field(default_factory=list)

    @property
    def deferred_names(self) -> set[str]:
        """File names (without folder) that must not be processed in this run."""
        return {d.name for d in self.deferred}


def _modified_s(info: dict[str, Any]) -> float | None:
    """Modification time (epoch seconds) from an fsspec ``info`` dict, whatever the backend calls it."""
    for key in ("mtime", "LastModified", "last_modified", "updated", "modified", "created"):
        value = info.get(key)
        if value is None:
            continue
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, int | float):
            return float(value)
        try:
            return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
        except ValueError:
            continue
    return None


def _unsettled_reason(modified_s: float | None, now_s: float, settle_s: float) -> str | None:
    if modified_s is None or settle_s <= 0:
        return None
    age_s = now_s - modified_s
    if age_s < settle_s:
        return f"still being written (modified {max(age_s, 0.0):.1f} s ago, waiting for {settle_s:g} s of quiet); retried next run"
    return None


def check_local(path: Path, *, settle_s: float) -> list[Deferred]:
    """Files at a local ``path`` (a folder's top level, or one file) that this run must leave alone."""
    if not path.exists():
        return []
    if path.is_file():
        files = [path]
    else:
        # A link out of the folder is never opened here (it could be a FIFO that blocks):
        # discovery records it as a failed input naming the file and the fix.
        root = path.resolve()
        entries = (p for p in path.iterdir() if not p.name.startswith(".") and link_outside(p, root) is None)
        files = sorted(p for p in entries if p.is_file())
    now_s = time.time()
    deferred: list[Deferred] = []
    for item in files:
        try:
            modified_s = item.stat().st_mtime
            with item.open("rb") as handle:
                handle.read(1)
        except OSError as exc:
            deferred.append(Deferred(item.name, f"cannot be opened yet ({exc.strerror or exc}); retried next run"))
            continue
        reason = _unsettled_reason(modified_s, now_s, settle_s)
        if reason:
            deferred.append(Deferred(item.name, reason))
    return deferred


def _origin_file(origin: str) -> str:
    """The file name an origin points at: ``a.jsonl:3`` -> ``a.jsonl``, ``x.wav (manifest.csv:2)`` -> ``x.wav``."""
    return origin.split(" (", 1)[0].rsplit(":", 1)[0].rsplit("/", 1)[-1]


def hold_back_deferred(found: Discovery, staged: StagedInput, manifest: str | None) -> None:
    """Drop from ``found`` every call that comes from a deferred file (they wait for the next run).

    A deferred manifest defers the whole folder: without it the calls would lose their customers.
    """
    names = staged.deferred_names
    if not names:
        return
    manifest_names = {"manifest.csv", "manifest.jsonl"} | ({Path(manifest).name} if manifest else set())
    everything = bool(names & manifest_names) or (staged.path.is_file() and staged.path.name in names)

    def held(audio: Path | None, origin: str) -> bool:
        return everything or (audio.name if audio is not None else _origin_file(origin)) in names

    kept = [s for s in found.sources if not held(s.audio_path, s.origin)]
    kept_problems = [p for p in found.problems if not held(None, p.origin)]
    found.sources, found.problems = kept, kept_problems


def staging_dir(data_dir: Path, url: str, protocol: str) -> Path:
    """Where the files of ``url`` are mirrored: one stable folder per URL under ``data_dir``."""
    digest = hashlib.sha256(url.rstrip("/").encode("utf-8")).hexdigest()[:16]
    return data_dir / "staging" / protocol / digest


def stage_input(source: str, *, data_dir: Path, settle_s: float) -> StagedInput:
    """Resolve ``source`` (a path or an fsspec URL) to a local path, copying remote files first.

    Args:
        source: Local folder/file, ``file://`` URL, or any installed fsspec protocol's URL.
        data_dir: koe's data folder; remote files are mirrored under ``data_dir/staging``.
        settle_s: Seconds a file must have been left alone before it is processed.

    Returns:
        The local path to run discovery on, and the deferred files.

    Raises:
        InputError: when the URL's protocol is unknown or the remote location does not exist.

    """
    if "://" not in source:
        local = Path(source)
        return StagedInput(local, check_local(local, settle_s=settle_s))
    try:
        fs, root = fsspec.core.url_to_fs(source)
    except (ImportError, ValueError) as exc:
        raise InputError(f"{source}: cannot open this URL ({exc}); install the fsspec backend for it") from exc
    if isinstance(fs, LocalFileSystem):
        local = Path(root)
        return StagedInput(local, check_local(local, settle_s=settle_s))
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    if not fs.exists(root):
        raise InputError(f"{source}: no such file or folder; check the URL and the credentials for {protocol}")
    target = staging_dir(data_dir, source, protocol)
    target.mkdir(parents=True, exist_ok=True)
    if fs.isfile(root):
        staged = StagedInput(target / Path(root).name)
        _mirror(fs, [fs.info(root)], target, staged, settle_s, prune=False)
        return staged
    staged = StagedInput(target)
    entries = [info for info in fs.ls(root, detail=True) if info.get("type") == "file"]
    entries = [info for info in entries if not _name(info).startswith(".")]
    _mirror(fs, entries, target, staged, settle_s, prune=True)
    return staged


def _name(info: dict[str, Any]) -> str:
    return str(info["name"]).rstrip("/").rsplit("/", 1)[-1]


def _mirror(
    fs: fsspec.AbstractFileSystem,
    entries: list[dict[str, Any]],
    target: Path,
    staged: StagedInput,
    settle_s: float,
    *,
    prune: bool,
) -> None:
    now_s = time.time()
    wanted: set[str] = set()
    for info in entries:
        name = _name(info)
        wanted.add(name)
        reason = _unsettled_reason(_modified_s(info), now_s, settle_s)
        if reason is None:
            reason = _copy(fs, info, target / name)
        if reason:
            staged.deferred.append(Deferred(name, reason))
    if prune:
        # The staging folder mirrors the inbox: a file removed upstream is not processed again.
        for item in target.iterdir():
            if item.is_file() and item.name not in wanted:
                item.unlink()


def _copy(fs: fsspec.AbstractFileSystem, info: dict[str, Any], destination: Path) -> str | None:
    """Copy one remote file unless the staged copy is current; returns a deferral reason or ``None``."""
    size = info.get("size")
    modified_s = _modified_s(info)
    if destination.exists() and modified_s is not None:
        current = destination.stat()
        if current.st_size == size and abs(current.st_mtime - modified_s) < 1e-3:
            return None
    partial = destination.with_name(f".{destination.name}.part")
    try:
        with fs.open(info["name"], "rb") as source, partial.open("wb") as sink:
            while chunk := source.read(COPY_CHUNK_BYTES):
                sink.write(chunk)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        return f"cannot be read yet ({exc}); retried next run"
    copied = partial.stat().st_size
    if size is not None and copied != size:
        partial.unlink(missing_ok=True)
        return f"still being written (size changed from {size} to {copied} bytes while copying); retried next run"
    if modified_s is not None:
        os.utime(partial, (modified_s, modified_s))
    partial.replace(destination)
    return None
