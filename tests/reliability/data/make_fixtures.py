"""Regenerate ``english_call.opus``: a short ENGLISH support-call utterance (espeak-ng), Opus mono.

Used by the bad-input suite: non-Japanese speech must be recorded as unsupported, not as garbage
Japanese. Needs ``apt-get install espeak-ng``; run ``python tests/reliability/data/make_fixtures.py``.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import av
import numpy as np

HERE = Path(__file__).parent
TEXT = (
    "Hello, thank you for calling Green Mobile support. My internet connection has been down since last week, "
    "and I have already called twice about it. Can you please send a technician to my house tomorrow morning? "
    "Otherwise I would like to cancel my contract."
)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "en.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(wav), TEXT], check=True)
        with av.open(str(wav)) as container:
            resampler = av.AudioResampler(format="flt", layout="mono", rate=16_000)
            chunks = [
                out.to_ndarray().reshape(-1)
                for frame in container.decode(audio=0)
                for out in resampler.resample(frame)
            ]
    signal = np.concatenate(chunks).astype(np.float32)
    with av.open(str(HERE / "english_call.opus"), "w", format="ogg") as out:
        stream = out.add_stream("libopus", rate=16_000, layout="mono")
        stream.bit_rate = 24_000
        frame = av.AudioFrame.from_ndarray(signal[None, :], format="flt", layout="mono")
        frame.sample_rate = 16_000
        resampler = av.AudioResampler(format=stream.codec_context.format.name, layout="mono", rate=16_000,
                                      frame_size=stream.codec_context.frame_size or None)
        for piece in [*resampler.resample(frame), *resampler.resample(None)]:
            for packet in stream.encode(piece):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


if __name__ == "__main__":
    main()
