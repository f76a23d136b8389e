"""Channel bleed: keeping crosstalk from becoming a second copy of the other side's words.

In stereo call recordings each side has its own channel, but each channel often hears the other
faintly (crosstalk through the handset, echo, a shared mixer). Whisper transcribes that faint copy
happily, which would duplicate every utterance under the wrong speaker. Two passes remove it:

1. :func:`gate_bleed`, before Whisper: in 50 ms frames, a channel whose loudness (relative to its
   own speech level) is ``margin_db`` below the other channel's is silenced. Frames of genuine
   overtalk stay, because there both sides are near their own speech level. This also saves
   Whisper from transcribing bleed at all.
2. :func:`drop_bleed_duplicates`, after Whisper: a segment that overlaps a segment of the other
   channel in time, says nearly the same thing, and is at least ``min_level_gap_db`` quieter
   (raw RMS over the shared span) is the bleed copy and is dropped.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np

from transcribe.audio import SAMPLE_RATE, frame_rms_db

#: Frame length of the bleed gate, in seconds.
GATE_FRAME_S = 0.05


@dataclass(frozen=True, slots=True, kw_only=True)
class BleedOptions:
    """Thresholds of bleed removal.

    Attributes:
        enabled: Whether to remove bleed at all.
        margin_db: Gate a frame when its level above the channel's speech level is this many dB
            below the other channel's (both measured relative to their own speech level).
        floor_db: Only gate when the other channel is louder than this (dBFS): two quiet
            channels are left alone.
        hangover_frames: Keep this many frames on each side of a kept frame (50 ms each), so
            word onsets and endings are not clipped.
        min_overlap: Post-Whisper: fraction of the shorter segment that must overlap in time.
        min_similarity: Post-Whisper: share (0-1) of the shorter text found in the longer one.
        min_level_gap_db: Post-Whisper: the copy must be at least this much quieter (raw RMS).

    """

    enabled: bool = True
    margin_db: float = 10.0
    floor_db: float = -55.0
    hangover_frames: int = 3
    min_overlap: float = 0.5
    min_similarity: float = 0.6
    min_level_gap_db: float = 6.0


class TimedText(Protocol):
    """Anything with a time span and text (Whisper segments, utterances)."""

    @property
    def start_s(self) -> float: ...  # noqa: D102
    @property
    def end_s(self) -> float: ...  # noqa: D102
    @property
    def text(self) -> str: ...  # noqa: D102


T = TypeVar("T", bound=TimedText)


def speech_level_db(levels_db: np.ndarray, floor_db: float = -55.0) -> float:
    """A channel's typical speech loudness: the 95th percentile of its frames above ``floor_db``, in dBFS.

    Only frames with sound in them count. Over all frames, a side that speaks for less than 5% of a
    window (a 10-minute window of a long call, a hold, a customer who mostly listens) would get its
    silence as its "speech level", every faint frame would look loud for that side, and the other
    side's bleed on it would no longer be gated.
    """
    active = levels_db[levels_db > floor_db]
    if active.size == 0:
        return -120.0
    return float(np.percentile(active, 95))


def gate_bleed(left: np.ndarray, right: np.ndarray, options: BleedOptions) -> tuple[np.ndarray, np.ndarray]:
    """Silence the frames of each channel that only carry the other channel's bleed.

    Args:
        left: Channel 0, 16 kHz float32.
        right: Channel 1, same length.
        options: Gate thresholds.

    Returns:
        ``(left, right)``; copies with bleed frames zeroed, or the inputs themselves when
        nothing needed gating (no copy is made then).

    """
    if not options.enabled:
        return left, right
    db_l = frame_rms_db(left, GATE_FRAME_S)
    db_r = frame_rms_db(right, GATE_FRAME_S)
    rel_l = db_l - speech_level_db(db_l, options.floor_db)
    rel_r = db_r - speech_level_db(db_r, options.floor_db)
    # A frame is the channel's own speech when it is loud and not far below the other side;
    # it is bleed when the other side is loud and this one far below it. Quiet frames of both
    # are left alone, and frames next to own speech are kept so onsets are not clipped.
    own_l = (rel_l >= rel_r - options.margin_db) & (db_l > options.floor_db)
    own_r = (rel_r >= rel_l - options.margin_db) & (db_r > options.floor_db)
    bleed_l = (rel_l < rel_r - options.margin_db) & (db_r > options.floor_db)
    bleed_r = (rel_r < rel_l - options.margin_db) & (db_l > options.floor_db)
    return (
        _apply_gate(left, bleed_l & ~_dilate(own_l, options.hangover_frames)),
        _apply_gate(right, bleed_r & ~_dilate(own_r, options.hangover_frames)),
    )


def _dilate(mask: np.ndarray, frames: int) -> np.ndarray:
    if frames <= 0 or not mask.any():
        return mask
    kernel = np.ones(2 * frames + 1, dtype=np.int32)
    return np.convolve(mask.astype(np.int32), kernel, mode="same") > 0


def _apply_gate(samples: np.ndarray, gate: np.ndarray) -> np.ndarray:
    if not gate.any():
        return samples
    frame = int(GATE_FRAME_S * SAMPLE_RATE)
    mask = np.repeat(gate, frame)
    out = samples.copy()
    out[: mask.size][mask] = 0.0
    return out


def span_level_db(samples: np.ndarray, start_s: float, end_s: float, offset_s: float = 0.0) -> float:
    """RMS loudness of ``samples`` between two call times, in dBFS.

    Args:
        samples: 16 kHz float32 channel whose first sample is at ``offset_s`` in the call.
        start_s: Span start, seconds from the beginning of the call.
        end_s: Span end, seconds.
        offset_s: Call time of ``samples[0]``, seconds.

    Returns:
        The level in dBFS (-120 for an empty or silent span).

    """
    lo = max(0, int((start_s - offset_s) * SAMPLE_RATE))
    hi = min(len(samples), int((end_s - offset_s) * SAMPLE_RATE))
    if hi <= lo:
        return -120.0
    piece = samples[lo:hi]
    power = float(np.dot(piece, piece)) / len(piece)
    return 10.0 * float(np.log10(max(power, 1e-12)))


def text_similarity(a: str, b: str) -> float:
    """How much of the shorter text appears in the longer one, in [0, 1].

    Characters of matching blocks divided by the length of the shorter text, after removing
    punctuation, spaces and width differences: a bleed copy is often a fragment of the original
    utterance (「間違っています」 inside 「請求金額が間違っているようなんです」).
    """
    left, right = _normalise(a), _normalise(b)
    if not left or not right:
        return 0.0
    matcher = difflib.SequenceMatcher(None, left, right, autojunk=False)
    matched = sum(block.size for block in matcher.get_matching_blocks())
    return matched / min(len(left), len(right))


def drop_bleed_duplicates(
    first: Sequence[T],
    second: Sequence[T],
    channels: tuple[np.ndarray, np.ndarray],
    options: BleedOptions,
    offset_s: float = 0.0,
) -> tuple[list[T], list[T]]:
    """Remove the quieter copy of words that both channels transcribed.

    Args:
        first: Segments of channel 0.
        second: Segments of channel 1.
        channels: The raw (ungated) audio of channels 0 and 1.
        options: Overlap, similarity and level-gap thresholds.
        offset_s: Call time of the first sample of ``channels``, in seconds.

    Returns:
        The kept segments of each channel, in their original order.

    """
    if not options.enabled:
        return list(first), list(second)
    drop_first: set[int] = set()
    drop_second: set[int] = set()
    for i, a in enumerate(first):
        for j, b in enumerate(second):
            overlap = min(a.end_s, b.end_s) - max(a.start_s, b.start_s)
            shorter = min(a.end_s - a.start_s, b.end_s - b.start_s)
            if overlap <= 0 or shorter <= 0 or overlap < options.min_overlap * shorter:
                continue
            if text_similarity(a.text, b.text) < options.min_similarity:
                continue
            lo, hi = max(a.start_s, b.start_s), min(a.end_s, b.end_s)
            level_a = span_level_db(channels[0], lo, hi, offset_s)
            level_b = span_level_db(channels[1], lo, hi, offset_s)
            if level_a <= level_b - options.min_level_gap_db:
                drop_first.add(i)
            elif level_b <= level_a - options.min_level_gap_db:
                drop_second.add(j)
    return (
        [a for i, a in enumerate(first) if i not in drop_first],
        [b for j, b in enumerate(second) if j not in drop_second],
    )


def _normalise(text: str) -> str:
    # Katakana folded to hiragana: the two channels' copies may be written either way (はい/ハイ).
    text = unicodedata.normalize("NFKC", text)
    return "".join(
        chr(ord(ch) - 0x60) if "ァ" <= ch <= "ヶ" else ch for ch in text if unicodedata.category(ch)[0] in "LN"
    )
