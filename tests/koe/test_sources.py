from __future__ import annotations

import json
from pathlib import Path

import pytest

from koe.errors import InputError, ManifestError
from koe.records import CallSource
from koe.sources import SourceOptions, discover, read_manifest

HEADER = "call_id,audio_path,customer_id,agent_id,started_at,agent_channel"


def _audio(folder: Path, name: str, payload: bytes = b"RIFF....WAVEfmt ") -> Path:
    path = folder / name
    path.write_bytes(payload)
    return path


def _line(call_id: str, **extra: object) -> str:
    record: dict[str, object] = {
        "call_id": call_id,
        "customer_id": "C1",
        "agent_id": "A1",
        "started_at": "2026-11-02T10:00:00+09:00",
        "utterances": [
            {"speaker": "agent", "start_s": 0.0, "end_s": 2.0, "text": "お電話ありがとうございます。"},
            {"speaker": "customer", "start_s": 2.5, "end_s": 5.0, "text": "請求書の件で電話しました。"},
        ],
    }
    record.update(extra)
    return json.dumps(record, ensure_ascii=False)


def test_folder_without_manifest_uses_file_names_and_default_channel(tmp_path: Path) -> None:
    _audio(tmp_path, "b.wav")
    _audio(tmp_path, "a.flac", b"fLaC")
    found = discover(tmp_path, SourceOptions(default_agent_channel=1))
    assert [s.call_id for s in found.sources] == ["a", "b"]
    assert all(s.agent_channel == 1 and s.customer_id is None for s in found.sources)
    assert found.sources[0].sha256 != found.sources[1].sha256


def test_manifest_rows_and_unknown_columns_are_kept(tmp_path: Path) -> None:
    _audio(tmp_path, "x.wav")
    _audio(tmp_path, "y.wav", b"other")
    (tmp_path / "manifest.csv").write_text(
        f"{HEADER},queue\n"
        "c1,x.wav,CUST1,AG1,2026-11-02T10:15:00+09:00,1,billing\n"
        "c2,y.wav,,,2026-11-03T09:00:00,,support\n",
        encoding="utf-8",
    )
    found = discover(tmp_path)
    assert found.problems == []
    first, second = found.sources
    assert (first.call_id, first.customer_id, first.agent_id, first.agent_channel) == ("c1", "CUST1", "AG1", 1)
    assert first.attributes == {"queue": "billing"}
    assert first.started_at is not None and first.started_at.utcoffset() is not None
    assert second.customer_id is None and second.agent_channel is None  # mono
    assert second.started_at is not None and second.started_at.utcoffset().total_seconds() == 9 * 3600  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("c1,missing.wav,C,A,2026-11-02T10:00:00+09:00,0", "does not exist"),
        ("c1,../outside.wav,C,A,2026-11-02T10:00:00+09:00,0", "outside the ingested folder"),
        ("c1,x.wav,C,A,yesterday,0", "not an ISO 8601"),
        ("c1,x.wav,C,A,2026-11-02T10:00:00+09:00,2", "must be 0 or 1"),
        (",x.wav,C,A,2026-11-02T10:00:00+09:00,0", "call_id is empty"),
    ],
)
def test_bad_manifest_rows_become_problems_naming_row_and_fix(tmp_path: Path, row: str, message: str) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _audio(inbox, "x.wav")
    _audio(tmp_path, "outside.wav")
    (inbox / "manifest.csv").write_text(f"{HEADER}\n{row}\n", encoding="utf-8")
    found = discover(inbox)
    assert len(found.problems) == 1
    assert "manifest.csv:2" in found.problems[0].error
    assert message in found.problems[0].error
    # the recording the bad row named is not silently ingested under another id
    if ",x.wav," in row:
        assert all(s.call_id != "x" for s in found.sources)


def test_duplicate_call_ids_keep_the_first(tmp_path: Path) -> None:
    _audio(tmp_path, "x.wav")
    _audio(tmp_path, "y.wav", b"y")
    (tmp_path / "manifest.csv").write_text(
        f"{HEADER}\nc1,x.wav,C,A,,0\nc1,y.wav,C,A,,0\n", encoding="utf-8"
    )
    found = discover(tmp_path)
    assert [s.origin.split(" ")[0] for s in found.sources] == ["x.wav"]
    assert "already used" in found.problems[0].error


def test_manifest_missing_columns_is_refused(tmp_path: Path) -> None:
    (tmp_path / "manifest.csv").write_text("call_id,customer_id\nc1,C\n", encoding="utf-8")
    with pytest.raises(ManifestError, match="audio_path"):
        read_manifest(tmp_path / "manifest.csv")


def test_jsonl_manifest(tmp_path: Path) -> None:
    _audio(tmp_path, "x.wav")
    (tmp_path / "m.jsonl").write_text(json.dumps({"call_id": "c9", "audio_path": "x.wav", "agent_channel": 0}) + "\n")
    found = discover(tmp_path, SourceOptions(manifest=tmp_path / "m.jsonl"))
    assert [(s.call_id, s.agent_channel) for s in found.sources] == [("c9", 0)]


def test_transcripts_broken_lines_fail_alone(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    lines = [
        _line("ok1"),
        "{not json",
        _line("bad-speaker", utterances=[{"speaker": "robot", "start_s": 0, "end_s": 1, "text": "x"}]),
        _line("negative", utterances=[{"speaker": "agent", "start_s": -1, "end_s": 1, "text": "x"}]),
        _line("huge", utterances=[{"speaker": "agent", "start_s": 0, "end_s": 1, "text": "あ" * 1_000_000}]),
        _line("ok2"),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    found = discover(path)
    assert [s.call_id for s in found.sources] == ["ok1", "ok2"]
    errors = {p.call_id: p.error for p in found.problems}
    assert "t.jsonl:2" in errors["t-line2"] and "not valid JSON" in errors["t-line2"]
    assert "unknown speaker" in errors["bad-speaker"]
    assert "negative" in errors["negative"]
    assert "split the export" in errors["huge"]
    transcript = found.sources[0].transcript
    assert transcript is not None and transcript.speakers_separated and transcript.source == "import"
    assert [u.speaker for u in transcript.utterances] == ["agent", "customer"]


def test_overlapping_transcript_times_are_sorted_not_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    utterances = [
        {"speaker": "customer", "start_s": 3.0, "end_s": 6.0, "text": "はい"},
        {"speaker": "agent", "start_s": 0.0, "end_s": 4.0, "text": "お電話ありがとうございます"},
    ]
    path.write_text(_line("o", utterances=utterances) + "\n", encoding="utf-8")
    transcript = discover(path).sources[0].transcript
    assert transcript is not None
    assert [u.start_s for u in transcript.utterances] == [0.0, 3.0]


def test_content_hash_changes_with_content(tmp_path: Path) -> None:
    audio = _audio(tmp_path, "x.wav")
    before = discover(tmp_path).sources[0].sha256
    audio.write_bytes(b"changed")
    assert discover(tmp_path).sources[0].sha256 != before


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or folder"):
        discover(tmp_path / "nope")


def test_kept_recording_is_a_content_named_copy(tmp_path: Path) -> None:
    from koe.sources import keep_recording

    _audio(tmp_path, "x.wav", b"RIFF-audio-bytes")
    source = discover(tmp_path).sources[0]
    copy = keep_recording(source, tmp_path / "var")
    assert copy is not None and copy.read_bytes() == b"RIFF-audio-bytes"
    assert copy.is_relative_to((tmp_path / "var" / "recordings").resolve())
    assert copy.name == f"{source.sha256}.wav"
    assert keep_recording(source, tmp_path / "var") == copy  # a re-ingest reuses it
    transcript_only = CallSource(call_id="t", sha256="0" * 64, origin="t.jsonl:1")
    assert keep_recording(transcript_only, tmp_path / "var") is None


def test_links_out_of_the_inbox_are_problems_naming_the_file_and_the_fix(tmp_path: Path) -> None:
    inbox, elsewhere = tmp_path / "inbox", tmp_path / "elsewhere"
    inbox.mkdir()
    elsewhere.mkdir()
    secret = elsewhere / "secret.wav"
    secret.write_bytes(b"RIFF not for koe")
    (elsewhere / "other.jsonl").write_text('{"call_id": "x"}\n', encoding="utf-8")
    (inbox / "kept.wav").write_bytes(b"RIFF a real call")
    (inbox / "inside.wav").symlink_to(inbox / "kept.wav")  # a link that stays inside is fine
    (inbox / "leak.wav").symlink_to(secret)
    (inbox / "leak.jsonl").symlink_to(elsewhere / "other.jsonl")
    (inbox / "loop.wav").symlink_to(inbox / "loop.wav")

    found = discover(inbox)

    assert sorted(s.call_id for s in found.sources) == ["inside", "kept"]
    problems = {p.origin: p for p in found.problems}
    assert set(problems) == {"leak.wav", "leak.jsonl", "loop.wav"}
    message = problems["leak.wav"].error
    assert message.startswith("leak.wav: a symbolic link to ") and str(secret.resolve()) in message
    assert "outside the inbox folder" in message and "copy the file into it" in message
    assert problems["leak.wav"].call_id == "leak"
    assert all(s.audio_path is None or s.audio_path.resolve().is_relative_to(inbox.resolve()) for s in found.sources)


def test_a_manifest_linked_from_outside_the_folder_is_refused(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    outside = tmp_path / "manifest.csv"
    outside.write_text("call_id,audio_path\n", encoding="utf-8")
    (inbox / "manifest.csv").symlink_to(outside)
    with pytest.raises(ManifestError, match=r"manifest\.csv: a symbolic link to .* outside the inbox folder"):
        discover(inbox)
