"""The transcription stage: a recording in, a speaker-attributed :class:`~koe.records.Transcript` out.

Stereo call recordings carry one side per channel, which separates speakers better than any
diarization, so each channel is transcribed on its own and the results are merged in time order.
For each window of the call (see :func:`transcribe.audio.iter_audio_windows`):

1. bleed gate (:mod:`transcribe.bleed`): frames of a channel that only carry the other side's
   crosstalk are silenced;
2. Silero VAD (faster-whisper's) finds the speech of each channel;
3. the language is checked once per call (:mod:`transcribe.language`);
4. the speech chunks of both channels are packed, each cut from its own channel, into one
   Whisper input (:mod:`transcribe.packing`; ``pack_channels=False`` runs one Whisper pass per
   channel instead); Whisper transcribes with word timestamps and its lazy generator is consumed
   here; every word is mapped back to its channel and call time, and segments are split where
   the channel changes or words pause for ``split_gap_s``, so an utterance's span is speech, not
   speech plus a pause (the metrics depend on it);
5. hallucination guards (:mod:`transcribe.guards`) clean or drop segments;
6. the quieter copy of words heard on both channels is dropped (:mod:`transcribe.bleed`).

Mono recordings (and stereo files whose two channels are the same signal) give one speaker,
``unknown``, with ``speakers_separated=False``. So does a stereo recording with
``agent_channel=None``: both channels are still transcribed separately, but koe does not guess
which side is the agent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from faster_whisper.vad import VadOptions, get_speech_timestamps

from koe.errors import InputError
from koe.records import Speaker, Transcript, Utterance
from transcribe.audio import SAMPLE_RATE, AudioWindow, iter_audio_windows
from transcribe.bleed import BleedOptions, drop_bleed_duplicates, gate_bleed
from transcribe.guards import GuardOptions, RawSegment, guard_segment
from transcribe.language import LID_SAMPLES, check_language
from transcribe.model import model_label
from transcribe.packing import Piece, pack_chunks, packed_audio, unpack_segments

logger = logging.getLogger(__name__)


class SpeechModel(Protocol):
    """What the stage needs from a Whisper model (``faster_whisper.WhisperModel`` or a fake)."""

    def transcribe(self, audio: np.ndarray, **kwargs: Any) -> tuple[Iterable[Any], Any]:
        """Transcribe 16 kHz float32 audio; return (segments, info) like faster-whisper."""
        ...

    def detect_language(self, audio: np.ndarray) -> tuple[str, float, list[tuple[str, float]]]:
        """Identify the language of 16 kHz audio: (code, probability, [(code, probability)])."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class VadParams:
    """Silero VAD parameters (see ``faster_whisper.vad.VadOptions``).

    Attributes:
        threshold: Speech probability above which a 32 ms frame is speech.
        min_speech_duration_ms: Drop speech chunks shorter than this.
        min_silence_duration_ms: Silence needed to end a chunk, in milliseconds.
        speech_pad_ms: Padding added on each side of a chunk, in milliseconds.

    """

    threshold: float = 0.5
    min_speech_duration_ms: int = 150
    min_silence_duration_ms: int = 700
    speech_pad_ms: int = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class TranscribeOptions:
    """How a call is transcribed.

    Attributes:
        agent_channel: Channel (0 or 1) of the agent in stereo recordings; None: speakers are
            not attributed (all ``unknown``). Ignored for mono recordings.
        language: ISO 639-1 code of the expected language; None accepts the detected language.
        language_min_probability: Reject the call when another language is detected with at
            least this probability.
        language_check_min_speech_s: Skip the language check with less speech than this, seconds.
        beam_size: Whisper beam size.
        condition_on_previous_text: Feed the previous window's text as a prompt (Whisper's
            default); off by default because it lets one hallucination loop across windows.
        word_timestamps: Use word timestamps to tighten and split utterance spans (needed for
            ``pack_channels``).
        pack_channels: Transcribe the speech of both channels in one packed Whisper input
            (see :mod:`transcribe.packing`) instead of one Whisper pass per channel.
        switch_gap_s: Silence put between packed chunks of different channels, in seconds.
        split_gap_s: Split a segment into two utterances at a pause between words this long.
        vad: Silero VAD parameters.
        guards: Hallucination guard thresholds.
        bleed: Channel-bleed thresholds.
        same_channel_db: Treat a stereo file as mono when its channels differ by less than
            this, in dB of difference energy below the signal (a mono call saved as stereo).
        window_s: Process long calls in windows of about this many seconds (bounds memory).

    """

    agent_channel: int | None = 0
    language: str | None = "ja"
    language_min_probability: float = 0.8
    language_check_min_speech_s: float = 3.0
    beam_size: int = 5
    condition_on_previous_text: bool = False
    word_timestamps: bool = True
    pack_channels: bool = True
    switch_gap_s: float = 0.6
    split_gap_s: float = 1.0
    vad: VadParams = field(default_factory=VadParams)
    guards: GuardOptions = field(default_factory=GuardOptions)
    bleed: BleedOptions = field(default_factory=BleedOptions)
    same_channel_db: float = 40.0
    window_s: float = 600.0
    hotwords: str | None = None


@dataclass(slots=True)
class _CallState:
    """What carries over between windows of one call."""

    stereo: bool
    language: str | None
    language_probability: float | None = None
    language_checked: bool = False
    segments: list[RawSegment] = field(default_factory=list)


def transcribe_call(audio_path: str | Path, *, model: SpeechModel, options: TranscribeOptions) -> Transcript:
    """Transcribe one call recording into time-ordered, speaker-attributed utterances.

    Args:
        audio_path: The recording (any format PyAV reads; mono or stereo; any sample rate).
        model: A loaded Whisper model (see :func:`transcribe.model.load_whisper_model`).
        options: Channel mapping, language, Whisper, VAD, guard and bleed settings.

    Returns:
        The transcript; ``utterances`` sorted by start time, ``confidence`` = Whisper's average
        log-probability of the segment each utterance came from.

    Raises:
        AudioDecodeError: If the recording cannot be decoded, is truncated or too short.
        UnsupportedLanguageError: If the speech is clearly in another language.
        InputError: If ``agent_channel`` is not 0, 1 or None for a stereo recording.

    """
    path = Path(audio_path)
    state: _CallState | None = None
    duration_s = 0.0
    for window in iter_audio_windows(path, window_s=options.window_s):
        if state is None:
            state = _CallState(stereo=_is_stereo(window, options), language=options.language)
            if state.stereo and options.agent_channel not in (0, 1, None):
                raise InputError(
                    f"{path}: agent_channel must be 0, 1 or empty for a stereo recording, got "
                    f"{options.agent_channel!r}; fix the manifest's agent_channel column"
                )
        _transcribe_window(path, window, model, options, state)
        duration_s = window.start_s + window.duration_s
    assert state is not None  # iter_audio_windows yields at least one window or raises
    separated = state.stereo and options.agent_channel is not None
    utterances = sorted(
        (
            Utterance(
                speaker=_speaker(seg.channel, state.stereo, options.agent_channel),
                start_s=max(0.0, seg.start_s),
                end_s=min(duration_s, max(seg.end_s, seg.start_s)),
                text=seg.text,
                confidence=round(seg.avg_logprob, 4),
            )
            for seg in state.segments
        ),
        key=lambda u: (u.start_s, u.end_s, u.speaker),
    )
    return Transcript(
        utterances=tuple(utterances),
        duration_s=round(duration_s, 3),
        speakers_separated=separated,
        language=state.language or options.language or "ja",
        source=f"whisper:{model_label(model)}",
        language_probability=state.language_probability,
    )


def _transcribe_window(
    path: Path, window: AudioWindow, model: SpeechModel, options: TranscribeOptions, state: _CallState
) -> None:
    raw = window.channels[:2] if state.stereo else (_mono(window.channels),)
    gated = gate_bleed(raw[0], raw[1], options.bleed) if state.stereo else raw
    vad = VadOptions(
        threshold=options.vad.threshold,
        min_speech_duration_ms=options.vad.min_speech_duration_ms,
        min_silence_duration_ms=options.vad.min_silence_duration_ms,
        speech_pad_ms=options.vad.speech_pad_ms,
    )
    chunks = [get_speech_timestamps(channel, vad) for channel in gated]
    if not state.language_checked:
        _check_language(path, gated, chunks, model, options, state)
    if options.pack_channels and options.word_timestamps:
        found = _transcribe_pieces(gated, pack_chunks(chunks, switch_gap_s=options.switch_gap_s), window, model, options, state)
    else:
        found = []
        for index, channel_chunks in enumerate(chunks):
            only = [[] if other != index else channel_chunks for other in range(len(chunks))]
            found.extend(_transcribe_pieces(gated, pack_chunks(only), window, model, options, state))
    per_channel: list[list[RawSegment]] = [[] for _ in gated]
    last = {seg.channel: i for i, seg in enumerate(found)}
    for i, segment in enumerate(found):
        coverage = _speech_coverage(segment, chunks[segment.channel], window.start_s)
        is_last = window.is_last and last[segment.channel] == i
        guarded = guard_segment(segment, speech_coverage=coverage, is_last=is_last, options=options.guards)
        if guarded is None:
            logger.debug("guard dropped ch%d %.2f-%.2f %r", segment.channel, segment.start_s, segment.end_s, segment.text)
            continue
        per_channel[segment.channel].append(guarded)
    if state.stereo:
        first, second = drop_bleed_duplicates(
            per_channel[0], per_channel[1], (raw[0], raw[1]), options.bleed, window.start_s
        )
        per_channel = [first, second]
    for segments in per_channel:
        state.segments.extend(segments)


def _transcribe_pieces(
    channels: Sequence[np.ndarray],
    pieces: list[Piece],
    window: AudioWindow,
    model: SpeechModel,
    options: TranscribeOptions,
    state: _CallState,
) -> list[RawSegment]:
    if not pieces:
        return []
    segments, _info = model.transcribe(
        packed_audio(channels, pieces),
        language=state.language,
        beam_size=options.beam_size,
        word_timestamps=options.word_timestamps,
        condition_on_previous_text=options.condition_on_previous_text,
        vad_filter=False,
        hotwords=options.hotwords,
    )
    found = list(segments)  # consume faster-whisper's lazy generator inside the stage
    return unpack_segments(found, pieces, offset_s=window.start_s, split_gap_s=options.split_gap_s)


def _speech_coverage(segment: RawSegment, chunks: Sequence[dict[str, int]], offset_s: float) -> float:
    """Fraction of the segment's span inside VAD speech chunks."""
    span = segment.end_s - segment.start_s
    if span <= 0:
        return 1.0
    covered = 0.0
    for chunk in chunks:
        lo = max(segment.start_s, offset_s + chunk["start"] / SAMPLE_RATE)
        hi = min(segment.end_s, offset_s + chunk["end"] / SAMPLE_RATE)
        covered += max(0.0, hi - lo)
    return min(1.0, covered / span)


def _check_language(
    path: Path,
    channels: Sequence[np.ndarray],
    chunks: Sequence[list[dict[str, int]]],
    model: SpeechModel,
    options: TranscribeOptions,
    state: _CallState,
) -> None:
    """Check the language once per call, on the channel with the most speech so far."""
    speech_samples = [sum(c["end"] - c["start"] for c in found) for found in chunks]
    best = int(np.argmax(speech_samples))
    if speech_samples[best] < options.language_check_min_speech_s * SAMPLE_RATE:
        return  # too little speech so far; try again on the next window
    state.language_checked = True
    pieces, total = [], 0
    for chunk in chunks[best]:
        pieces.append(channels[best][chunk["start"] : chunk["end"]])
        total += chunk["end"] - chunk["start"]
        if total >= LID_SAMPLES:
            break
    state.language, state.language_probability = check_language(
        path,
        np.concatenate(pieces)[:LID_SAMPLES],
        model,
        expected=options.language,
        min_probability=options.language_min_probability,
    )


def _is_stereo(window: AudioWindow, options: TranscribeOptions) -> bool:
    """Two channels carrying different signals (not a mono call duplicated to stereo)."""
    if len(window.channels) < 2:
        return False
    left, right = window.channels[0], window.channels[1]
    signal = float(np.dot(left, left) + np.dot(right, right)) / 2
    if signal <= 0:
        return True
    diff = left - right
    residual = float(np.dot(diff, diff))
    if residual <= 0:
        return False
    return bool(10 * np.log10(signal / residual) < options.same_channel_db)


def _mono(channels: Sequence[np.ndarray]) -> np.ndarray:
    if len(channels) == 1:
        return channels[0]
    return np.mean(np.stack(channels[:2]), axis=0).astype(np.float32)


def _speaker(channel: int, stereo: bool, agent_channel: int | None) -> Speaker:
    if not stereo or agent_channel is None:
        return "unknown"
    return "agent" if channel == agent_channel else "customer"
