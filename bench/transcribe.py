"""Speed and memory of koe's transcription stage on the sample calls.

    .venv/bin/python bench/transcribe.py                 # every sample call, bundled-base, CPU
    .venv/bin/python bench/transcribe.py --save var/bench/transcripts.json   # then bench/cer.py --from ...
    .venv/bin/python bench/transcribe.py --long 3        # memory of a 3-hour stereo call (see below)

For each call, in the same process and with the same loaded model and decoding settings
(language, beam size, condition_on_previous_text):

- ``koe``: the whole stage: decode, stereo channels, bleed gate, VAD, Whisper, guards, bleed
  dedupe, merge, then :func:`transcribe.metrics.compute_metrics`;
- ``plain``: ``WhisperModel.transcribe(path)`` (faster-whisper decodes and mixes the file down
  to mono itself), its segment generator consumed.

The two runs of a call alternate (koe first on odd calls, plain first on even ones) so that
neither profits from a warmer cache. Reported: audio seconds per wall second for each, and the
koe/plain ratio of wall time and of process CPU time (the machine's cores are shared, so CPU time
is the steadier figure). Peak memory is the process's peak RSS.

``--long H`` builds an H-hour stereo 8 kHz WAV (a sample call repeated, written in blocks) and
runs the stage's decode/window/gate/VAD/pack path on it with a stand-in model that returns no
text (transcribing three hours on a shared 2-core machine takes hours); Whisper's own memory per
window is bounded by the window length and shows in the peak RSS of the normal run.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.cer import DEFAULT_CALLS, transcript_record  # noqa: E402
from koe.settings import load_settings  # noqa: E402
from transcribe.engine import TranscribeOptions, transcribe_call  # noqa: E402
from transcribe.metrics import compute_metrics  # noqa: E402


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn: Any) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def bench_samples(calls_dir: Path, save: Path | None, only: list[str]) -> int:
    from transcribe.model import ModelOptions, load_whisper_model

    settings = load_settings()
    model = load_whisper_model(ModelOptions.from_settings(settings))
    references = sorted((calls_dir / "reference").glob("*.json"))
    if not references:
        print(f"no reference/*.json under {calls_dir}", file=sys.stderr)
        return 1
    rows, saved = [], {}
    for index, ref_path in enumerate(references):
        ref = json.loads(ref_path.read_text(encoding="utf-8"))
        if only and ref["call_id"] not in only:
            continue
        path = calls_dir / ref["audio_path"]
        options = TranscribeOptions(agent_channel=ref.get("agent_channel"), language=settings.language, beam_size=settings.beam_size)

        def koe(path: Path = path, options: TranscribeOptions = options) -> Any:
            transcript = transcribe_call(path, model=model, options=options)
            return transcript, compute_metrics(transcript)

        def plain(path: Path = path, options: TranscribeOptions = options) -> Any:
            segments, _info = model.transcribe(
                str(path),
                language=options.language,
                beam_size=options.beam_size,
                condition_on_previous_text=options.condition_on_previous_text,
            )
            return list(segments)

        order = (koe, plain) if index % 2 == 0 else (plain, koe)
        results = {fn.__name__: timed(fn) for fn in order}
        (transcript, _metrics), koe_wall, koe_cpu = results["koe"]
        _segments, plain_wall, plain_cpu = results["plain"]
        saved[ref["call_id"]] = transcript_record(transcript)
        rows.append((ref["call_id"], transcript.duration_s, koe_wall, koe_cpu, plain_wall, plain_cpu))
        print(f"{ref['call_id']}: koe {koe_wall:.1f}s plain {plain_wall:.1f}s", file=sys.stderr)

    print(f"model={settings.whisper_model} device={settings.device} beam={settings.beam_size} language={settings.language}")
    print(f"{'call':<10} {'audio s':>8} {'koe s':>7} {'koe x':>7} {'plain s':>8} {'plain x':>8} {'wall ratio':>11} {'cpu ratio':>10}")
    for call_id, audio, kw, kc, pw, pc in rows:
        print(f"{call_id:<10} {audio:8.1f} {kw:7.1f} {audio / kw:7.2f} {pw:8.1f} {audio / pw:8.2f} {kw / pw:11.2f} {kc / pc:10.2f}")
    audio = sum(r[1] for r in rows)
    kw, kc, pw, pc = (sum(r[i] for r in rows) for i in (2, 3, 4, 5))
    print(f"{'all':<10} {audio:8.1f} {kw:7.1f} {audio / kw:7.2f} {pw:8.1f} {audio / pw:8.2f} {kw / pw:11.2f} {kc / pc:10.2f}")
    print(f"peak RSS {peak_rss_mb():.0f} MB (whole process: model, both runs)")
    if save:
        save.parent.mkdir(parents=True, exist_ok=True)
        save.write_text(json.dumps(saved, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


class SilentModel:
    """Stand-in for Whisper that returns no text and records the largest input it was given."""

    def __init__(self) -> None:
        self.largest_input_s = 0.0

    def transcribe(self, audio: np.ndarray, **_: Any) -> tuple[list[Any], None]:
        self.largest_input_s = max(self.largest_input_s, len(audio) / 16_000)
        return [], None

    def detect_language(self, audio: np.ndarray) -> tuple[str, float, list[tuple[str, float]]]:
        return "ja", 1.0, [("ja", 1.0)]


def build_long_call(calls_dir: Path, hours: float, dest: Path) -> float:
    """Write an ``hours``-long stereo 8 kHz WAV by repeating the first stereo sample call."""
    from transcribe.audio import decode_audio

    source = next(p for p in sorted(calls_dir.glob("call-*")) if decode_audio(p).is_stereo)
    audio = decode_audio(source)
    # 16 kHz -> 8 kHz by dropping every other sample (the band is speech; a test signal is fine).
    block = np.stack([c[::2] for c in audio.channels]).T
    pcm = (np.clip(block, -1, 1) * 32767).astype("<i2").tobytes()
    frames_needed, written = int(hours * 3600 * 8000), 0
    with wave.open(str(dest), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(8000)
        while written < frames_needed:
            take = min(len(block), frames_needed - written)
            out.writeframes(pcm[: take * 4])
            written += take
    return written / 8000


def bench_long(calls_dir: Path, hours: float) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "long-call.wav"
        seconds = build_long_call(calls_dir, hours, path)
        size_mb = path.stat().st_size / 1e6
        before = peak_rss_mb()
        model = SilentModel()
        (transcript, wall, cpu) = timed(lambda: transcribe_call(path, model=model, options=TranscribeOptions()))
        compute_metrics(transcript)
    print(f"long call: {seconds / 3600:.1f} h stereo 8 kHz WAV ({size_mb:.0f} MB)")
    print(f"stage without Whisper: {wall:.0f} s wall, {cpu:.0f} s CPU; largest Whisper input {model.largest_input_s:.0f} s")
    print(f"peak RSS {peak_rss_mb():.0f} MB (before the call: {before:.0f} MB)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=Path, default=DEFAULT_CALLS)
    parser.add_argument("--save", type=Path, help="write koe's transcripts here (for bench/cer.py --from)")
    parser.add_argument("--only", nargs="*", default=[], help="call ids to run (default: all)")
    parser.add_argument("--long", type=float, metavar="HOURS", help="measure memory on a call this many hours long")
    args = parser.parse_args(argv)
    if args.long:
        return bench_long(args.calls, args.long)
    return bench_samples(args.calls, args.save, args.only)


if __name__ == "__main__":
    raise SystemExit(main())
