from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

DATA = Path(__file__).parent / "data"


def _write_audio(path: Path, signal: np.ndarray, *, rate: int, fmt: str, codec: str) -> Path:
    """Encode a (channels, samples) float32 signal at ``rate`` with PyAV."""
    layout = "stereo" if signal.shape[0] == 2 else "mono"
    with av.open(str(path), "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=rate, layout=layout)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(signal, dtype=np.float32), format="fltp", layout=layout)
        frame.sample_rate = rate
        resampler = av.AudioResampler(
            format=stream.codec_context.format.name, layout=layout, rate=rate, frame_size=stream.codec_context.frame_size or None
        )
        for out in [*resampler.resample(frame), *resampler.resample(None)]:
            for packet in stream.encode(out):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def _tones(rate: int, seconds: float, channels: int = 2) -> np.ndarray:
    """440 Hz on channel 0 and 300 Hz on channel 1 (distinguishable after any codec)."""
    t = np.arange(int(rate * seconds)) / rate
    return np.stack([0.3 * np.sin(2 * np.pi * 440 * t), 0.2 * np.sin(2 * np.pi * 300 * t)][:channels]).astype(np.float32)


@pytest.fixture(scope="session")
def whisper_model(tmp_path_factory):
    from transcribe.model import ModelOptions, load_whisper_model

    return load_whisper_model(ModelOptions(cache_dir=tmp_path_factory.mktemp("models"), device="cpu"))


@pytest.fixture(scope="session")
def write_audio():
    """``write_audio(path, signal, *, rate, fmt, codec) -> path``: encode a test recording."""
    return _write_audio


@pytest.fixture(scope="session")
def tones():
    """``tones(rate, seconds, channels=2)``: 440 Hz left, 300 Hz right."""
    return _tones
