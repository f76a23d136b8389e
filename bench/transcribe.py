"""Speed and memory of koe's transcription stage on the sample calls.

    .venv/bin/python bench/transcribe.py                 # every sample call, bundled-base, CPU
    .venv/bin/python bench/transcribe.py --save var/bench/transcripts.json   # then bench/cer.py --from ...
    .venv/bin/python bench/transcribe.py --long 3        # memory of a 3-hour stereo call (see below)
    .venv/bin/python bench/transcribe.py --long-real 3   # the same with the real model, sparse speech
    .venv/bin/python bench/transcribe.py --padded 520    # each call alone vs behind 520 s of silence

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

``--long-real H`` runs the real model (koe's settings) on an H-hour stereo 8 kHz WAV of sparse
speech: the stereo sample calls, agent always on channel 0, one after another with silence after
each copy, so that ``--copies`` copies spread evenly over the H hours; VAD skips most of the file
and only the copies' speech reaches Whisper.
Reported: peak RSS after loading and warming the model and after the call (``ru_maxrss``), the
largest RSS sampled every 0.2 s during the call, audio and speech duration, wall and CPU time,
the largest Whisper input, and the CER of the whole transcript against the copies' references.

``--padded S`` transcribes each stereo sample call at 8 kHz twice, alone and behind S seconds of
digital silence, and prints the CER of both: whether a call's place inside a long quiet window
(as in a long recording) changes its transcript.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import threading
import time
import wave
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
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


def telephone_band(channels: tuple[np.ndarray, ...]) -> np.ndarray:
    """16 kHz float channels -> 8 kHz int16 frames (low-passed at 3.8 kHz first, so nothing aliases)."""
    out = []
    for channel in channels:
        spectrum = np.fft.rfft(channel)
        spectrum[int(len(channel) * 3800 / 16_000) :] = 0
        out.append(np.fft.irfft(spectrum, n=len(channel))[::2])
    return (np.clip(np.stack(out).T, -1, 1) * 32767).astype("<i2")


def sample_blocks(calls_dir: Path) -> list[tuple[dict[str, Any], np.ndarray]]:
    """Each stereo sample call's reference and its audio as 8 kHz frames, agent on channel 0."""
    from transcribe.audio import decode_audio

    blocks = []
    for path in sorted((calls_dir / "reference").glob("*.json")):
        ref = json.loads(path.read_text(encoding="utf-8"))
        if ref.get("agent_channel") not in (0, 1):
            continue
        channels = decode_audio(calls_dir / ref["audio_path"]).channels
        blocks.append((ref, telephone_band(channels if ref["agent_channel"] == 0 else channels[::-1])))
    return blocks


@contextmanager
def wav_writer(dest: Path) -> Iterator[wave.Wave_write]:
    """A stereo 8 kHz 16-bit WAV open for writing."""
    with wave.open(str(dest), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(8000)
        yield out


def write_sparse_call(
    blocks: list[tuple[dict[str, Any], np.ndarray]], hours: float, copies: int, dest: Path
) -> tuple[float, list[tuple[float, float, dict[str, Any]]]]:
    """Write an ``hours``-long WAV: ``copies`` of the blocks, in turn, spread out by silence.

    Returns:
        The duration in seconds, and where each copy lies: ``(start_s, end_s, reference)``.

    """
    total_frames = int(hours * 3600 * 8000)
    speech_frames = sum(len(blocks[i % len(blocks)][1]) for i in range(copies))
    gap_frames = max(0, (total_frames - speech_frames) // copies)
    silence = np.zeros((8000 * 60, 2), dtype="<i2")  # written a minute at a time
    placed, written = [], 0
    with wav_writer(dest) as out:
        for index in range(copies):
            ref, block = blocks[index % len(blocks)]
            placed.append((written / 8000, (written + len(block)) / 8000, ref))
            out.writeframes(block.tobytes())
            written += len(block)
            pause = gap_frames if index < copies - 1 else total_frames - written
            while pause > 0:
                take = min(pause, len(silence))
                out.writeframes(silence[:take].tobytes())
                written, pause = written + take, pause - take
    return written / 8000, placed


class RssSampler:
    """Samples this process's resident set size in a thread; keeps the largest value, in MB."""

    def __init__(self, interval_s: float = 0.2) -> None:
        self.interval_s, self.peak_mb = interval_s, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        page_mb = os.sysconf("SC_PAGE_SIZE") / 2**20
        with open("/proc/self/statm") as statm:
            while not self._stop.is_set():
                statm.seek(0)
                self.peak_mb = max(self.peak_mb, int(statm.read().split()[1]) * page_mb)
                self._stop.wait(self.interval_s)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


class CountingModel:
    """Passes everything to the real model; records how much audio Whisper was given."""

    def __init__(self, model: Any) -> None:
        self.model, self.total_input_s, self.largest_input_s = model, 0.0, 0.0

    def transcribe(self, audio: np.ndarray, **kwargs: Any) -> Any:
        self.total_input_s += len(audio) / 16_000
        self.largest_input_s = max(self.largest_input_s, len(audio) / 16_000)
        return self.model.transcribe(audio, **kwargs)

    def detect_language(self, audio: np.ndarray) -> Any:
        return self.model.detect_language(audio)


def add_scores(totals: dict[str, list[int]], scores: Mapping[str, Sequence[int]]) -> None:
    """Add one call's ``{speaker: (edits, reference chars)}`` to running totals."""
    for key, (edits, chars) in scores.items():
        total = totals.setdefault(key, [0, 0])
        total[0] += edits
        total[1] += chars


def cer_line(scores: Mapping[str, Sequence[int]]) -> str:
    """``all 11.8%  agent 11.2%  customer 13.5%`` from ``{speaker: (edits, reference chars)}``."""
    return "  ".join(f"{key} {100 * edits / chars:.1f}%" for key, (edits, chars) in scores.items())


def bench_long_real(calls_dir: Path, hours: float, copies: int) -> int:
    from bench.cer import score_call
    from transcribe.model import ModelOptions, load_whisper_model

    settings = load_settings()
    model = load_whisper_model(ModelOptions.from_settings(settings))
    options = TranscribeOptions(agent_channel=0, language=settings.language, beam_size=settings.beam_size)
    blocks = sample_blocks(calls_dir)
    with tempfile.TemporaryDirectory() as tmp:
        # The same 8 kHz audio call by call first: the accuracy to compare with, and the warm-up,
        # so that "before" already includes the model's own working memory.
        alone = {}
        for ref, block in blocks:
            single = Path(tmp) / f"{ref['call_id']}.wav"
            with wav_writer(single) as out:
                out.writeframes(block.tobytes())
            alone[ref["call_id"]] = transcript_record(transcribe_call(single, model=model, options=options))
        path = Path(tmp) / "long-call.wav"
        seconds, placed = write_sparse_call(blocks, hours, copies, path)
        size_mb = path.stat().st_size / 1e6
        before = peak_rss_mb()
        counting = CountingModel(model)
        with RssSampler() as sampler:
            transcript, wall, cpu = timed(lambda: transcribe_call(path, model=counting, options=options))
            compute_metrics(transcript)
    long_utterances = transcript_record(transcript)["utterances"]
    totals: dict[str, dict[str, list[int]]] = {"one 3-hour file": {}, "call by call": {}}
    for start_s, end_s, ref in placed:
        # Each copy's share of the long transcript, moved back to the copy's own time.
        mine = [
            {**u, "start_s": u["start_s"] - start_s, "end_s": u["end_s"] - start_s}
            for u in long_utterances
            if start_s - 1 <= u["start_s"] < end_s + 1
        ]
        for label, hyp in (("one 3-hour file", mine), ("call by call", alone[ref["call_id"]]["utterances"])):
            add_scores(totals[label], score_call(ref["utterances"], hyp, separated=True))
    speech_s = sum(u["end_s"] - u["start_s"] for _, _, ref in placed for u in ref["utterances"])
    print(f"model={settings.whisper_model} device={settings.device} beam={settings.beam_size}")
    print(f"long call: {seconds / 3600:.2f} h stereo 8 kHz WAV ({size_mb:.0f} MB), {copies} sample calls spread out")
    print(
        f"reference speech {speech_s / 60:.1f} min (sum of utterance spans, both sides); "
        f"Whisper input {counting.total_input_s / 60:.1f} min, largest {counting.largest_input_s:.0f} s"
    )
    print(f"stage with the real model: {wall:.0f} s wall, {cpu:.0f} s CPU; {len(transcript.utterances)} utterances")
    for label, scores in totals.items():
        print(f"CER of the {copies} copies, {label}: {cer_line(scores)}")
    print(
        f"peak RSS {peak_rss_mb():.0f} MB (ru_maxrss; before the call, model loaded and warmed: {before:.0f} MB); "
        f"largest sampled RSS during the call {sampler.peak_mb:.0f} MB"
    )
    return 0


def bench_padded(calls_dir: Path, pad_s: float) -> int:
    from bench.cer import score_call
    from transcribe.model import ModelOptions, load_whisper_model

    settings = load_settings()
    model = load_whisper_model(ModelOptions.from_settings(settings))
    options = TranscribeOptions(agent_channel=0, language=settings.language, beam_size=settings.beam_size)
    silence = np.zeros((int(8000 * pad_s), 2), dtype="<i2")
    totals: dict[str, dict[str, list[int]]] = {"alone": {}, "padded": {}}
    print(f"model={settings.whisper_model} beam={settings.beam_size}; each call alone and behind {pad_s:.0f} s of silence")
    with tempfile.TemporaryDirectory() as tmp:
        for ref, block in sample_blocks(calls_dir):
            cells = []
            for label, frames, offset_s in (("alone", block, 0.0), ("padded", np.concatenate([silence, block]), pad_s)):
                path = Path(tmp) / f"{label}.wav"
                with wav_writer(path) as out:
                    out.writeframes(frames.tobytes())
                utterances = transcript_record(transcribe_call(path, model=model, options=options))["utterances"]
                hyp = [{**u, "start_s": u["start_s"] - offset_s, "end_s": u["end_s"] - offset_s} for u in utterances]
                scores = score_call(ref["utterances"], hyp, separated=True)
                add_scores(totals[label], scores)
                cells.append(f"{label} {cer_line(scores)}")
            print(f"{ref['call_id']}: " + " | ".join(cells), flush=True)
    for label, summed in totals.items():
        print(f"all, {label}: {cer_line(summed)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=Path, default=DEFAULT_CALLS)
    parser.add_argument("--save", type=Path, help="write koe's transcripts here (for bench/cer.py --from)")
    parser.add_argument("--only", nargs="*", default=[], help="call ids to run (default: all)")
    parser.add_argument("--long", type=float, metavar="HOURS", help="measure memory on a call this many hours long")
    parser.add_argument("--long-real", type=float, metavar="HOURS", help="the same with the real model on sparse speech")
    parser.add_argument("--copies", type=int, default=16, help="sample calls in the --long-real file (default 16, ~20 min of speech)")
    parser.add_argument("--padded", type=float, metavar="SECONDS", help="each call alone and behind this much silence")
    args = parser.parse_args(argv)
    if args.padded:
        return bench_padded(args.calls, args.padded)
    if args.long_real:
        return bench_long_real(args.calls, args.long_real, args.copies)
    if args.long:
        return bench_long(args.calls, args.long)
    return bench_samples(args.calls, args.save, args.only)


if __name__ == "__main__":
    raise SystemExit(main())
