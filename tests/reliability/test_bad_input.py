"""Bad input through the real pipeline: each bad call fails alone, named with its fix; the run completes.

The per-input parsing rules are unit-tested in ``tests/koe/test_sources.py`` and ``tests/transcribe``;
here the point is the whole run: ``process_calls`` over a folder mixing every kind of bad input with
good calls finishes, stores the good calls completely, and records each bad one as ``failed`` with
an error naming the file (and row or line) and what to do.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import av
import numpy as np
import pytest
import sqlalchemy as sa

from koe.errors import ManifestError
from models.db import load_engine
from tests.flows.conftest import settle, transcript_line
from tests.reliability.conftest import write_lines

pytestmark = pytest.mark.usefixtures("harness")
DATA = Path(__file__).parent / "data"
SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "calls"


def _calls(url: str) -> dict[str, tuple[str, str | None, int]]:
    """call_id -> (status, error, utterance count)."""
    with load_engine(url).connect() as connection:
        rows = connection.execute(
            sa.text(
                "select c.call_id, c.status, c.error, count(u.id) from calls c"
                " left join utterances u on u.call_pk = c.id group by c.call_id, c.status, c.error"
            )
        ).tuples()
        return {call_id: (status, error, int(n)) for call_id, status, error, n in rows}


def _failure_of(summary: dict[str, object], call_id: str) -> str:
    failures = summary["failures"]
    assert isinstance(failures, list)
    errors = [f["error"] for f in failures if f["call_id"] == call_id]
    assert len(errors) == 1, (call_id, failures)
    return str(errors[0])


def test_bad_manifest_rows_and_transcript_lines_fail_alone(koe_env: str, tmp_path: Path) -> None:
    from flows.process import process_calls

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (tmp_path / "outside.wav").write_bytes(b"RIFF")
    for name in ("baddate.wav", "channel.wav"):
        (inbox / name).write_bytes(b"RIFF")  # never decoded: the rows fail before
    (inbox / "manifest.csv").write_text(
        "call_id,audio_path,customer_id,agent_id,started_at,agent_channel\n"
        "m-missing,nothere.wav,C-1,A-1,2026-11-02T10:00:00+09:00,0\n"
        "m-escape,../outside.wav,C-1,A-1,2026-11-02T10:00:00+09:00,0\n"
        "m-baddate,baddate.wav,C-1,A-1,2026-13-45 25:61,0\n"
        "m-channel,channel.wav,C-1,A-1,2026-11-02T10:00:00+09:00,2\n",
        encoding="utf-8",
    )
    settle(inbox / "manifest.csv")
    good = [transcript_line(1), transcript_line(2)]
    overlapping = transcript_line(3)
    overlapping["call_id"] = "t-overlap"
    overlapping["utterances"][1]["start_s"] = 1.0  # starts inside the agent's first utterance
    unknown = {**transcript_line(4), "call_id": "t-speaker"}
    unknown["utterances"][0] = {**unknown["utterances"][0], "speaker": "supervisor"}
    negative = {**transcript_line(5), "call_id": "t-negative"}
    negative["utterances"][2] = {**negative["utterances"][2], "start_s": -4.0}
    huge = {**transcript_line(6), "call_id": "t-huge"}
    huge["utterances"][1] = {**huge["utterances"][1], "text": "あ" * 1_000_000}
    duplicate = {**transcript_line(7), "call_id": "call-001"}
    write_lines(inbox / "good.jsonl", [*good, overlapping])
    bad = inbox / "bad.jsonl"
    bad.write_text(
        '{"call_id": "t-broken", "utterances": [{"speaker": "agent", \n'
        + "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in (unknown, negative, huge, duplicate)),
        encoding="utf-8",
    )
    settle(bad)

    summary = process_calls(str(inbox))

    assert (summary["processed"], summary["failed"]) == (3, 9), summary["failures"]
    expected = {
        "m-missing": ("manifest.csv:2", "does not exist"),
        "m-escape": ("manifest.csv:3", "outside the ingested folder"),
        "m-baddate": ("manifest.csv:4", "ISO 8601"),
        "m-channel": ("manifest.csv:5", "must be 0 or 1"),
        "bad-line1": ("bad.jsonl:1", "not valid JSON"),
        "t-speaker": ("bad.jsonl:2", "unknown speaker 'supervisor'"),
        "t-negative": ("bad.jsonl:3", "negative"),
        "t-huge": ("bad.jsonl:4", "split the export"),
    }
    calls = _calls(koe_env)
    for call_id, (where, fix) in expected.items():
        error = _failure_of(summary, call_id)
        assert where in error and fix in error, (call_id, error)
        status, stored_error, utterances = calls[call_id]
        assert (status, utterances) == ("failed", 0) and stored_error == error
    # The duplicate id does not touch the call that owns it: that call is done and complete.
    assert "already used" in _failure_of(summary, "call-001") and "bad.jsonl:5" in _failure_of(summary, "call-001")
    for call_id in ("call-001", "call-002", "t-overlap"):
        assert calls[call_id][0] == "done" and calls[call_id][2] == 4, call_id
    assert len(calls) == 3 + 8


def test_manifest_without_required_columns_refuses_the_run_and_writes_nothing(koe_env: str, tmp_path: Path) -> None:
    from flows.process import process_calls

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.wav").write_bytes(b"RIFF")
    (inbox / "manifest.csv").write_text("id,file,customer\nx,a.wav,C-1\n", encoding="utf-8")
    settle(inbox / "manifest.csv")
    with pytest.raises(ManifestError, match=r"manifest\.csv: manifest lacks column\(s\) call_id, audio_path; expected header"):
        process_calls(str(inbox))
    with load_engine(koe_env).connect() as connection:
        assert connection.execute(sa.text("select count(*) from calls")).scalar_one() == 0


def _write(path: Path, signal: np.ndarray, *, rate: int = 16_000, fmt: str = "wav", codec: str = "pcm_s16le") -> Path:
    layout = "stereo" if signal.shape[0] == 2 else "mono"
    with av.open(str(path), "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=rate, layout=layout)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(signal, dtype=np.float32), format="fltp", layout=layout)
        frame.sample_rate = rate
        resampler = av.AudioResampler(
            format=stream.codec_context.format.name, layout=layout, rate=rate,
            frame_size=stream.codec_context.frame_size or None,
        )
        for out in [*resampler.resample(frame), *resampler.resample(None)]:
            for packet in stream.encode(out):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def _speech(seconds: float) -> np.ndarray:
    """The first ``seconds`` of a bundled Japanese sample call, mixed to mono at 16 kHz."""
    with av.open(str(SAMPLES / "call-006.flac")) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=16_000)
        chunks = [o.to_ndarray().reshape(-1) for f in container.decode(audio=0) for o in resampler.resample(f)]
    return np.concatenate(chunks)[: int(seconds * 16_000)].astype(np.float32)


@pytest.mark.slow
def test_bad_recordings_fail_alone_and_the_run_completes(koe_env: str, tmp_path: Path) -> None:
    from flows.process import process_calls

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    rng = np.random.default_rng(8)
    (inbox / "empty.wav").write_bytes(b"")
    (inbox / "notes.wav").write_text("顧客メモ: これは音声ではありません", encoding="utf-8")
    whole = _write(tmp_path / "whole.flac", rng.normal(0, 0.1, size=(2, 16_000 * 20)).astype(np.float32), fmt="flac", codec="flac")
    (inbox / "truncated.flac").write_bytes(whole.read_bytes()[: whole.stat().st_size // 3])
    _write(inbox / "short.wav", (0.2 * np.sin(np.arange(4_800) / 16_000 * 2 * np.pi * 440))[None].astype(np.float32))
    _write(inbox / "silence.wav", rng.normal(0, 1e-4, size=(2, 16_000 * 15)).astype(np.float32))
    _write(inbox / "noise.wav", rng.normal(0, 0.05, size=(2, 16_000 * 15)).astype(np.float32))
    speech = _speech(20.0)
    _write(inbox / "same.wav", np.stack([speech, speech]))
    (inbox / "dup.wav").write_bytes((inbox / "silence.wav").read_bytes())
    (inbox / "english.opus").write_bytes((DATA / "english_call.opus").read_bytes())
    # Two rows with one call id: the second is refused, the first (same.wav) is processed.
    (inbox / "manifest.csv").write_text(
        "call_id,audio_path,customer_id,agent_id,started_at,agent_channel\n"
        "same,same.wav,C-1,A-1,2026-11-02T10:00:00+09:00,0\n"
        "same,dup.wav,C-2,A-1,2026-11-02T11:00:00+09:00,0\n",
        encoding="utf-8",
    )
    for path in inbox.iterdir():
        settle(path)

    summary = process_calls(str(inbox))

    calls = _calls(koe_env)
    for call_id, fix in (
        ("empty", "the file is empty (0 bytes); re-export"),
        ("notes", "cannot decode audio"),
        ("truncated", "truncated recording"),
        ("short", "only 0.30 s of audio"),
        ("english", "KOE_LANGUAGE=en"),
        ("silence", "no speech found"),
        ("noise", "no speech found"),
    ):
        error = _failure_of(summary, call_id)
        assert f"{call_id}." in error and fix in error, (call_id, error)
        assert any(word in error for word in ("export", "check", "KOE_LANGUAGE")), error
        assert calls[call_id][0] == "failed" and calls[call_id][2] == 0
    assert "'en'" in calls["english"][1]  # recorded as English, not transcribed as garbage Japanese
    assert "already used" in _failure_of(summary, "same")
    # Silence and noise: no invented text, and no zero-talk "contact" in the reports either.
    for call_id in ("silence", "noise"):
        assert "right recording" in _failure_of(summary, call_id)
    # Identical channels: speech heard on both sides is attributed once, not duplicated.
    with load_engine(koe_env).connect() as connection:
        same = connection.execute(
            sa.text(
                "select u.speaker, u.start_s, u.redacted_text from utterances u join calls c on c.id = u.call_pk"
                " where c.call_id = 'same' order by u.start_s"
            )
        ).tuples().all()
    assert calls["same"][0] == "done" and same
    texts = [text for _, _, text in same]
    assert len(texts) == len(set(texts)), same
    starts = sorted(start for _, start, _ in same)
    assert all(b - a > 0.2 for a, b in itertools.pairwise(starts)), same
    assert summary["processed"] == 1 and summary["failed"] == 8
