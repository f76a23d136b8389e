from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from koe.errors import AudioDecodeError, InputError, UnsupportedLanguageError
from transcribe.engine import TranscribeOptions, transcribe_call

DATA = Path(__file__).parent / "data"
STEREO = DATA / "stereo_call.opus"
SCRIPT = json.loads((DATA / "stereo_call.json").read_text(encoding="utf-8"))


class FakeModel:
    """Whisper stand-in: a fixed language guess, and one segment per call of ``transcribe``."""

    def __init__(self, language: str = "ja", probability: float = 0.99) -> None:
        self.language, self.probability, self.calls = language, probability, 0

    def detect_language(self, audio):
        return self.language, self.probability, [(self.language, self.probability), ("ja", 1 - self.probability)]

    def transcribe(self, audio, **kwargs):
        self.calls += 1
        word = SimpleNamespace(start=0.0, end=min(1.0, len(audio) / 16_000), word="テスト")
        segment = SimpleNamespace(
            start=0.0, end=word.end, text="テスト", words=[word], avg_logprob=-0.2, no_speech_prob=0.01, compression_ratio=1.0
        )
        return iter([segment]), None


def test_other_language_is_rejected_with_its_name():
    with pytest.raises(UnsupportedLanguageError, match=r"stereo_call\.opus: the speech is in 'en' .*KOE_LANGUAGE=en"):
        transcribe_call(STEREO, model=FakeModel("en", 0.97), options=TranscribeOptions())


def test_uncertain_language_guess_is_not_rejected():
    transcript = transcribe_call(STEREO, model=FakeModel("en", 0.55), options=TranscribeOptions())
    assert transcript.language == "ja" and transcript.language_probability == pytest.approx(0.45)


def test_language_none_accepts_detected_language():
    assert transcribe_call(STEREO, model=FakeModel("ko"), options=TranscribeOptions(language=None)).language == "ko"


def test_both_channels_go_through_one_packed_whisper_call():
    model = FakeModel()
    transcribe_call(STEREO, model=model, options=TranscribeOptions())
    assert model.calls == 1
    per_channel = FakeModel()
    transcribe_call(STEREO, model=per_channel, options=TranscribeOptions(pack_channels=False))
    assert per_channel.calls == 2


def test_bad_agent_channel(tmp_path):
    with pytest.raises(InputError, match="agent_channel must be 0, 1 or empty"):
        transcribe_call(STEREO, model=FakeModel(), options=TranscribeOptions(agent_channel=2))


def test_bad_audio_is_reported_by_the_stage(tmp_path):
    path = tmp_path / "broken.m4a"
    path.write_bytes(b"\x00\x00\x00\x18ftypM4A " + b"\x00" * 100)
    with pytest.raises(AudioDecodeError, match=r"broken\.m4a"):
        transcribe_call(path, model=FakeModel(), options=TranscribeOptions())


def speakers_in_order(transcript) -> list[str]:
    merged: list[str] = []
    for utterance in transcript.utterances:
        if not merged or merged[-1] != utterance.speaker:
            merged.append(utterance.speaker)
    return merged


def speaker_at(time_s: float) -> str | None:
    return next((line["speaker"] for line in SCRIPT if line["start_s"] - 0.3 <= time_s <= line["end_s"] + 0.3), None)


@pytest.mark.slow
def test_stereo_call_speakers_and_order(whisper_model):
    transcript = transcribe_call(STEREO, model=whisper_model, options=TranscribeOptions(agent_channel=0))
    assert transcript.speakers_separated and transcript.language == "ja"
    assert transcript.source == "whisper:bundled-base"
    assert speakers_in_order(transcript) == [line["speaker"] for line in SCRIPT]
    starts = [u.start_s for u in transcript.utterances]
    assert starts == sorted(starts)
    for utterance in transcript.utterances:
        assert speaker_at((utterance.start_s + utterance.end_s) / 2) == utterance.speaker, utterance
        assert utterance.confidence is not None and utterance.confidence < 0
    text = {s: "".join(u.text for u in transcript.utterances if u.speaker == s) for s in ("agent", "customer")}
    # Each channel carries the other at -24 dB; none of it may come out under the wrong speaker.
    assert "申し訳" in text["agent"] and "申し訳" not in text["customer"]
    assert "間違" in text["customer"] and "間違" not in text["agent"]


@pytest.mark.slow
def test_agent_channel_mapping_and_unattributed_stereo(whisper_model):
    swapped = transcribe_call(STEREO, model=whisper_model, options=TranscribeOptions(agent_channel=1))
    assert speakers_in_order(swapped) == ["customer", "agent", "customer", "agent", "customer"]
    unknown = transcribe_call(STEREO, model=whisper_model, options=TranscribeOptions(agent_channel=None))
    assert not unknown.speakers_separated and {u.speaker for u in unknown.utterances} == {"unknown"}


@pytest.mark.slow
def test_mono_recording_is_one_unknown_speaker(tmp_path, whisper_model, write_audio):
    from transcribe.audio import decode_audio

    stereo = decode_audio(STEREO)
    mono = np.mean(np.stack(stereo.channels), axis=0, keepdims=True)
    path = write_audio(tmp_path / "mono.flac", mono, rate=16_000, fmt="flac", codec="flac")
    transcript = transcribe_call(path, model=whisper_model, options=TranscribeOptions(agent_channel=0))
    assert not transcript.speakers_separated
    assert transcript.utterances and {u.speaker for u in transcript.utterances} == {"unknown"}
    assert "申し訳" in "".join(u.text for u in transcript.utterances)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["silence", "noise", "hum"])
def test_no_text_from_silence_or_noise(tmp_path, whisper_model, write_audio, kind):
    rng = np.random.default_rng(3)
    n = 30 * 16_000
    if kind == "silence":
        signal = rng.normal(0, 1e-4, size=(2, n))
    elif kind == "noise":
        signal = rng.normal(0, 0.05, size=(2, n))
    else:
        t = np.arange(n) / 16_000
        signal = np.stack([0.1 * np.sin(2 * np.pi * 50 * t)] * 2) + rng.normal(0, 0.01, size=(2, n))
    path = write_audio(tmp_path / f"{kind}.wav", signal.astype(np.float32), rate=16_000, fmt="wav", codec="pcm_s16le")
    transcript = transcribe_call(path, model=whisper_model, options=TranscribeOptions())
    assert transcript.utterances == ()
    assert transcript.duration_s == pytest.approx(30.0, abs=0.01)
