"""flows.pipeline_steps.transcribe_source: what the transcription step hands on to storage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import transcribe.engine
import transcribe.model
from flows.pipeline_steps import transcribe_source
from koe.records import CallSource, Transcript, Utterance
from koe.settings import load_settings

WHISPER_TEXT = "メールはユキドットモリタアットマークジーメールドットコムです。開薬したいんです"
WRITTEN_TEXT = "メールはyuki.morita@gmail.comです。解約したいんです"


@pytest.fixture
def fake_whisper(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whisper's raw output for any recording, without loading a model."""

    def fake_transcribe_call(path: Any, *, model: Any, options: Any) -> Transcript:
        utterance = Utterance(speaker="customer", start_s=0.5, end_s=6.0, text=WHISPER_TEXT, confidence=-0.4)
        return Transcript(utterances=(utterance,), duration_s=7.0, speakers_separated=True, source="whisper:fake")

    monkeypatch.setattr(transcribe.engine, "transcribe_call", fake_transcribe_call)
    monkeypatch.setattr(transcribe.model, "load_whisper_model", lambda options: object())


@pytest.mark.parametrize(("respell", "expected"), [(True, WRITTEN_TEXT), (False, WHISPER_TEXT)])
def test_transcripts_are_stored_in_written_form_unless_turned_off(
    fake_whisper: None, tmp_path: Path, respell: bool, expected: str
) -> None:
    source = CallSource(call_id="c1", sha256="0" * 64, origin="c1.wav", audio_path=tmp_path / "c1.wav", agent_channel=0)
    settings = load_settings(data_dir=tmp_path, respell=respell)
    transcript = transcribe_source(source, settings)
    assert [u.text for u in transcript.utterances] == [expected]
    assert transcript.utterances[0].start_s == 0.5 and transcript.utterances[0].confidence == -0.4


@pytest.mark.parametrize(("origin", "expected"), [("whisper:bundled-base", WRITTEN_TEXT), ("import", WHISPER_TEXT)])
def test_reprocessed_whisper_transcripts_get_the_current_rules_and_imports_stay(
    tmp_path: Path, origin: str, expected: str
) -> None:
    utterance = Utterance(speaker="customer", start_s=0.5, end_s=6.0, text=WHISPER_TEXT)
    stored = Transcript(utterances=(utterance,), duration_s=7.0, speakers_separated=True, source=origin)
    source = CallSource(call_id="c1", sha256="0" * 64, origin="c1", transcript=stored)
    transcript = transcribe_source(source, load_settings(data_dir=tmp_path))
    assert [u.text for u in transcript.utterances] == [expected]
