"""Regenerate the committed test recordings of tests/transcribe/data.

Needs pyopenjtalk-plus (a TTS used only to make fixtures, never at run time):

    python -m venv /tmp/tts && /tmp/tts/bin/pip install pyopenjtalk-plus numpy av
    /tmp/tts/bin/python tests/transcribe/data/make_fixtures.py

``stereo_call.opus``: a 24 s two-channel call (agent on channel 0, customer on channel 1) in which
each channel also carries the other side at -24 dB (crosstalk), so the bleed removal is tested.
The script lines and their start times are in ``stereo_call.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pyopenjtalk

HERE = Path(__file__).parent
RATE = 16_000
# (speaker, pause before the line in seconds, text); pyopenjtalk adds ~0.2 s of silence itself.
LINES = [
    ("agent", 0.5, "お電話ありがとうございます。サポートセンターの佐藤でございます。"),
    ("customer", 0.4, "すみません、先月の請求金額が間違っているようなんです。"),
    ("agent", 0.4, "大変申し訳ございません。お客様の契約内容を確認いたします。"),
    ("customer", 0.3, "はい、よろしくお願いします。"),
    ("agent", 0.3, "ありがとうございます。"),
]
DURATION_S = 24.0
BLEED_DB = -24.0


def speak(text: str) -> np.ndarray:
    wave, rate = pyopenjtalk.tts(text)
    wave = (wave / 32768.0).astype(np.float32)
    # Resample 48 kHz -> 16 kHz by linear interpolation: plenty for a fixture.
    positions = np.arange(0, len(wave), rate / RATE)
    return np.interp(positions, np.arange(len(wave)), wave).astype(np.float32) * 0.5


def main() -> None:
    agent = np.zeros(int(DURATION_S * RATE), np.float32)
    customer = np.zeros_like(agent)
    script = []
    start = 0.0
    for speaker, pause, text in LINES:
        voice = speak(text)
        start = round(start + pause, 2)
        target = agent if speaker == "agent" else customer
        lo = int(start * RATE)
        target[lo : lo + len(voice)] += voice[: len(target) - lo]
        script.append({"speaker": speaker, "start_s": start, "end_s": round(start + len(voice) / RATE, 2), "text": text})
        start += len(voice) / RATE
    gain = 10 ** (BLEED_DB / 20)
    left, right = agent + gain * customer, customer + gain * agent
    rng = np.random.default_rng(7)
    noise = rng.normal(0, 10 ** (-60 / 20), size=(2, len(left))).astype(np.float32)
    stereo = np.stack([left, right]) + noise
    with av.open(str(HERE / "stereo_call.opus"), "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=48_000, layout="stereo")
        stream.bit_rate = 24_000
        frame = av.AudioFrame.from_ndarray(np.clip(stereo, -1, 1), format="fltp", layout="stereo")
        frame.sample_rate = RATE
        resampler = av.AudioResampler(format="s16", layout="stereo", rate=48_000, frame_size=960)
        for out in [*resampler.resample(frame), *resampler.resample(None)]:
            for packet in stream.encode(out):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    (HERE / "stereo_call.json").write_text(json.dumps(script, ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    main()
