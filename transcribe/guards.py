"""Hallucination guards: Whisper invents text on silence, noise and music; these take it back out.

The stage already runs Silero VAD before Whisper, so most silence never reaches the model. What
gets through is handled per segment by :func:`guard_segment`, in this order:

1. Sound-event captions (``(音楽)``, ``［拍手］``, ``♪``) are removed from the text; a segment left
   with no letters or digits is dropped.
2. Repetition loops (``はいはいはいはいはい…``, a phrase repeated a dozen times) are collapsed: a
   unit of 1-15 characters repeated more than ``max_repeats`` times in a row becomes one copy.
   Digit-only units are left alone, because spoken phone and account numbers repeat digits.
3. Low-confidence silence: ``no_speech_prob > no_speech_prob_max`` *and*
   ``avg_logprob < logprob_min`` (Whisper's own rule, applied after its temperature fallback).
4. Compression ratio (gzip, as Whisper computes it) above ``compression_ratio_max`` after the
   collapse: the text is still a loop, so it is dropped.
5. Known Japanese silence hallucinations, learnt by Whisper from video subtitles
   (「ご視聴ありがとうございました」, 「チャンネル登録お願いします」, 「字幕：…」, …, and
   「お疲れ様でした」/「おやすみなさい」 as the last segment of a channel; a plain
   「ありがとうございました」 is an ordinary closing in a support call and is never dropped) are dropped when
   the whole segment is such a phrase *and* the audio under it does not look like speech: VAD
   covers less than half of it, or Whisper itself doubted it (``no_speech_prob`` above
   ``suspicious_no_speech_prob`` or ``avg_logprob`` below ``suspicious_logprob``). A customer who
   really says 「お疲れ様でした」 clearly keeps it.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from dataclasses import dataclass, replace

#: Phrases Whisper emits on silence (from subtitle training data); matched on normalised text.
SILENCE_HALLUCINATIONS: tuple[str, ...] = (
    r"(最後まで)?ご(視聴|清聴)(いただき|頂き|して頂き|していただき)?(まこと|誠)?に?(ありがとう|有難う)(ございました|ございます)",
    r"チャンネル登録(を|と)?(高評価)?(を)?(よろしく)?(お願い(します|いたします|致します)|してね|してください)?",
    r"(高評価|グッドボタン)(を)?(よろしく)?(お願いします)?",
    r"字幕.*",
    r"(次回|次の動画)(も|で)?(お楽しみに|お会いしましょう|また会いましょう)",
    r"(それでは|では)?また(次回|来週|明日)",
    r"thank(s| you) for watching",
)
#: Phrases that are hallucinations only as the last segment of a channel (Whisper's outro).
TRAILING_HALLUCINATIONS: tuple[str, ...] = (
    r"(お|ご)疲れ(様|さま)(でした|です)",
    r"おやすみなさい",
    r"バイバイ",
)
_CAPTION = re.compile(r"[\(（\[［【<〈《][^\)）\]］】>〉》]{0,12}[\)）\]］】>〉》]|[♪♫♬]")


@dataclass(frozen=True, slots=True)
class RawSegment:
    """A Whisper segment of one channel, with the numbers the guards need.

    Attributes:
        channel: Channel index it came from (0 or 1; 0 for mono).
        start_s: Start in seconds from the beginning of the call.
        end_s: End in seconds.
        text: Transcribed text.
        avg_logprob: Mean token log-probability (<= 0).
        no_speech_prob: Whisper's probability that the window holds no speech.
        compression_ratio: gzip compression ratio of the text, as Whisper reports it.

    """

    channel: int
    start_s: float
    end_s: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float


@dataclass(frozen=True, slots=True, kw_only=True)
class GuardOptions:
    """Thresholds of the hallucination guards.

    Attributes:
        no_speech_prob_max: Drop when no-speech probability exceeds this ...
        logprob_min: ... and the average log-probability is below this.
        compression_ratio_max: Drop when the gzip compression ratio exceeds this after collapsing.
        max_repeats: A unit repeated more than this many times in a row is collapsed to one.
        min_speech_coverage: A known hallucination phrase is dropped when VAD speech covers less
            than this fraction of its span.
        suspicious_no_speech_prob: ... or when its no-speech probability exceeds this ...
        suspicious_logprob: ... or its average log-probability is below this.

    """

    no_speech_prob_max: float = 0.6
    logprob_min: float = -1.0
    compression_ratio_max: float = 2.4
    max_repeats: int = 3
    min_speech_coverage: float = 0.5
    suspicious_no_speech_prob: float = 0.3
    suspicious_logprob: float = -0.6


def guard_segment(
    segment: RawSegment, *, speech_coverage: float, is_last: bool, options: GuardOptions
) -> RawSegment | None:
    """Apply the guards to one segment.

    Args:
        segment: The Whisper segment.
        speech_coverage: Fraction (0-1) of the segment's span that VAD found to be speech.
        is_last: Whether this is the last segment of its channel (trailing-outro check).
        options: Guard thresholds.

    Returns:
        The segment (text cleaned and collapsed), or None when it is a hallucination.

    """
    text = _CAPTION.sub("", segment.text).strip()
    text = collapse_repetitions(text, options.max_repeats)
    if not normalise(text):
        return None
    if segment.no_speech_prob > options.no_speech_prob_max and segment.avg_logprob < options.logprob_min:
        return None
    if compression_ratio(text) > options.compression_ratio_max:
        return None
    doubtful = (
        speech_coverage < options.min_speech_coverage
        or segment.no_speech_prob > options.suspicious_no_speech_prob
        or segment.avg_logprob < options.suspicious_logprob
    )
    if doubtful and is_silence_hallucination(text, is_last=is_last):
        return None
    return replace(segment, text=text)


def is_silence_hallucination(text: str, *, is_last: bool = False) -> bool:
    """Whether ``text`` consists only of phrases Whisper typically invents on silence.

    Args:
        text: Segment text.
        is_last: Also accept the outro phrases (「お疲れ様でした」, ...) that are only suspicious
            at the end of a recording.

    Returns:
        True if every part of the normalised text is a known hallucination phrase.

    """
    phrases = SILENCE_HALLUCINATIONS + (TRAILING_HALLUCINATIONS if is_last else ())
    body = normalise(text).lower()
    if not body:
        return False
    pattern = "(?:" + "|".join(phrases) + ")+"
    return re.fullmatch(pattern, body) is not None


def collapse_repetitions(text: str, max_repeats: int) -> str:
    """Collapse a unit repeated more than ``max_repeats`` times in a row to a single copy.

    Args:
        text: Transcribed text.
        max_repeats: Largest run that is left alone (「はいはいはい」 with 3 is kept).

    Returns:
        The text with loops collapsed; digit-only units (phone numbers) are never collapsed.

    """
    pattern = re.compile(r"(.{1,15}?)\1{" + str(max_repeats) + ",}", re.DOTALL)

    def shorten(match: re.Match[str]) -> str:
        unit = match.group(1)
        if normalise(unit).isdigit():
            return match.group(0)
        return unit

    return pattern.sub(shorten, text)


def compression_ratio(text: str) -> float:
    """Gzip compression ratio of ``text`` (UTF-8 bytes / compressed bytes), as Whisper computes it."""
    data = text.encode("utf-8")
    if not data:
        return 0.0
    return len(data) / len(zlib.compress(data))


def normalise(text: str) -> str:
    """NFKC text with everything but letters and digits removed (punctuation, spaces, symbols)."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")
