from __future__ import annotations

import math

import numpy as np
import pytest

from koe.errors import AudioDecodeError
from transcribe.audio import SAMPLE_RATE, decode_audio, iter_audio_windows, probe_audio

FORMATS = [
    ("call.wav", "wav", "pcm_s16le", 44_100),
    ("call-8k.wav", "wav", "pcm_s16le", 8_000),
    ("call-ulaw.wav", "wav", "pcm_mulaw", 8_000),
    ("call.flac", "flac", "flac", 8_000),
    ("call.mp3", "mp3", "libmp3lame", 22_050),
    ("call.m4a", "ipod", "aac", 48_000),
    ("call.ogg", "ogg", "libopus", 48_000),
]


def dominant_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.argmax(spectrum) * SAMPLE_RATE / len(samples))


@pytest.mark.parametrize(("name", "fmt", "codec", "rate"), FORMATS)
def test_decodes_every_format_to_16k_float_channels(tmp_path, write_audio, tones, name, fmt, codec, rate):
    path = write_audio(tmp_path / name, tones(rate, 3.0), rate=rate, fmt=fmt, codec=codec)
    audio = decode_audio(path)
    assert audio.is_stereo and audio.source_sample_rate == rate
    assert audio.duration_s == pytest.approx(3.0, abs=0.06)  # AAC adds priming samples
    for channel, hz in zip(audio.channels, (440, 300), strict=True):
        assert channel.dtype == np.float32 and len(channel) == pytest.approx(3 * SAMPLE_RATE, abs=1000)
        assert dominant_hz(channel[SAMPLE_RATE : 2 * SAMPLE_RATE]) == pytest.approx(hz, abs=3)


def test_mono_and_multichannel(tmp_path, write_audio, tones):
    mono = decode_audio(write_audio(tmp_path / "m.wav", tones(16_000, 1.0, 1), rate=16_000, fmt="wav", codec="pcm_s16le"))
    assert len(mono.channels) == 1 and not mono.is_stereo
    assert probe_audio(tmp_path / "m.wav").channel_count == 1


def test_windows_cut_in_pauses_and_cover_everything(tmp_path, write_audio, tones):
    rate = 16_000
    signal = tones(rate, 25.0)
    signal[:, int(8.5 * rate) : int(8.6 * rate)] = 0.0  # the only pause near the 10 s target
    path = write_audio(tmp_path / "long.flac", signal, rate=rate, fmt="flac", codec="flac")
    windows = list(iter_audio_windows(path, window_s=10.0, cut_search_s=3.0))
    assert [w.is_last for w in windows] == [False, False, True]
    assert windows[0].duration_s == pytest.approx(8.5, abs=0.01)
    assert sum(w.duration_s for w in windows) == pytest.approx(25.0, abs=0.01)
    assert windows[1].start_s == pytest.approx(windows[0].duration_s)
    joined = np.concatenate([w.channels[0] for w in windows])
    np.testing.assert_allclose(joined, decode_audio(path).channels[0])
    assert len(list(iter_audio_windows(path, window_s=math.inf))) == 1


def test_empty_file(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioDecodeError, match=r"empty\.wav: the file is empty"):
        decode_audio(path)


def test_not_audio(tmp_path):
    path = tmp_path / "notes.mp3"
    path.write_text("これは音声ではありません\n" * 50)
    with pytest.raises(AudioDecodeError, match=r"notes\.mp3: .*(cannot decode|no audio).*re-export"):
        decode_audio(path)


def test_truncated_file(tmp_path, write_audio, tones):
    path = write_audio(tmp_path / "full.wav", tones(16_000, 4.0), rate=16_000, fmt="wav", codec="pcm_s16le")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    with pytest.raises(AudioDecodeError, match=r"cut\.wav: truncated recording \(header says \d+ bytes"):
        decode_audio(cut)


@pytest.mark.parametrize(("name", "fmt", "codec"), [("cut.flac", "flac", "flac"), ("cut.m4a", "ipod", "aac")])
def test_truncated_compressed_file(tmp_path, write_audio, tones, name, fmt, codec):
    path = write_audio(tmp_path / ("full-" + name), tones(16_000, 6.0), rate=16_000, fmt=fmt, codec=codec)
    cut = tmp_path / name
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(AudioDecodeError, match=name.replace(".", r"\.") + r": (truncated|cannot decode)"):
        decode_audio(cut)


def test_header_only_file(tmp_path, write_audio, tones):
    path = write_audio(tmp_path / "full.wav", tones(16_000, 4.0), rate=16_000, fmt="wav", codec="pcm_s16le")
    cut = tmp_path / "header.wav"
    cut.write_bytes(path.read_bytes()[:44])
    with pytest.raises(AudioDecodeError, match=r"header\.wav"):
        decode_audio(cut)


def test_too_short(tmp_path, write_audio, tones):
    path = write_audio(tmp_path / "blip.wav", tones(8_000, 0.3), rate=8_000, fmt="wav", codec="pcm_s16le")
    with pytest.raises(AudioDecodeError, match=r"blip\.wav: only 0\.30 s of audio"):
        decode_audio(path)


def test_missing_file(tmp_path):
    with pytest.raises(AudioDecodeError, match=r"nowhere\.wav: no such file"):
        decode_audio(tmp_path / "nowhere.wav")
