"""Conversation metrics of a call, computed from the utterance timeline of its Transcript.

Exact definitions (all times in seconds; an utterance covers ``[start_s, end_s]``, clipped to
``[0, duration_s]``):

- ``duration_s``: ``Transcript.duration_s``.
- ``talk_s_<speaker>``: length of the union of that speaker's utterance spans (overlapping
  utterances of one speaker are not counted twice).
- ``talk_ratio_agent``: ``talk_s_agent / (talk_s_agent + talk_s_customer)``; None when speakers
  are not separated (mono) or neither side spoke.
- Silence: a gap of >= ``silence_min_s`` (3 s, the MiiTel / Contact Lens rule) in the union of
  *all* speakers' spans, between the first utterance's start and the last utterance's end.
  Lead-in before the first word (ringing, IVR) and the tail after the last word (hang-up) are
  not conversation and are not silence. ``silence_count``, ``silence_s`` (sum),
  ``longest_silence_s``, ``silence_ratio = silence_s / duration_s``; holds are silences too.
- Overtalk: a period of >= ``overtalk_min_s`` (1 s) in the intersection of the agent's and the
  customer's spans, where backchannels are left out of both first. A backchannel (相槌) is an
  utterance shorter than ``backchannel_max_s`` (1.2 s) whose text is only backchannel words
  (はい, ええ, うん, そうですね, なるほど, ...; :data:`BACKCHANNELS`). ``Interval.speaker`` of an
  overtalk is who started it: the speaker whose utterance began later (the one who cut in);
  None when both began at the same instant. ``overtalk_count``, ``overtalk_s`` (sum).
- Hold: a gap (as for silence: nobody speaks, between first and last utterance) that lasts
  >= ``hold_after_request_min_s`` (8 s) and begins within ``hold_request_window_s`` (15 s) after
  the end of an agent utterance asking the customer to wait (少々お待ちください,
  お待ちいただけますか, 保留にさせていただきます, ...; :data:`HOLD_REQUEST`), or any such gap
  >= ``hold_any_min_s`` (20 s). 「お待たせしました」 ends a hold and is deliberately not a request;
  neither is 「お待ちしております」 (we look forward to ...). ``hold_count``, ``hold_s`` (sum).
  Mono calls have no agent utterances, so only the 20 s rule applies there. A hold's
  ``Interval.speaker`` is ``agent`` when a request started it, else None.
- ``turn_count``: number of times the speaker changes from one utterance to the next, in
  ``Transcript.utterances`` order (start time); backchannels count, ``unknown`` (mono) never
  changes.
- ``speaking_rate_<speaker>``: morae spoken / ``talk_s`` of that speaker, in morae per second;
  None for mono or a side that never spoke. Morae come from ``count_morae`` (the text-mining
  stage supplies a reading-based counter); without one, :func:`estimate_morae` is used: kana
  are counted exactly (small ゃゅょ merge with the previous kana; っ, ん and ー count), each kanji
  as 2 morae (the mean mora length of on/kun readings in everyday text), digits as 2, Latin
  letters as 1. The estimate is for comparisons between calls, not phonetics.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from koe.records import CallMetrics, Interval, Speaker, Transcript, Utterance

#: Backchannel words (相槌); an utterance made only of these (repeated or combined) is a backchannel.
BACKCHANNELS: tuple[str, ...] = (
    "はい", "ええ", "えー", "うん", "ああ", "あー", "あっ", "はあ", "へえ", "ほう", "おお",
    "そうですね", "そうですか", "そうなんですね", "そうなんですか", "そうですよね", "そう", "そうね",
    "なるほど", "なるほどですね", "確かに", "たしかに", "ですね", "ですよね", "ね", "はいはい",
    "わかりました", "分かりました", "かしこまりました", "承知しました", "了解です", "うんうん",
)  # fmt: skip
#: Agent requests to wait (hold), tolerant of politeness variants, kanji/kana and ASR slips.
HOLD_REQUEST = re.compile(
    r"(お|御)?待ち(ください|下さい|くださ|いただけ|頂け|いただい|頂い|いただき|頂き|願え|ねがえ)"
    r"|(お|御)?時間(を)?(いただ|頂)(け|き|い)"
    r"|保留(に|と|を|で)?(させ|いたし|致し|し|さ)"
    r"|待って(て)?(ください|下さい|もらえ|いただけ)"
    r"|確認(いたします|します|してまいります|して参ります)ので"
)
_SMALL_KANA = set("ゃゅょぁぃぅぇぉゎャュョァィゥェォヮ")


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricsOptions:
    """Thresholds of the metric definitions (see the module docstring).

    Attributes:
        silence_min_s: Shortest gap that counts as silence, seconds.
        overtalk_min_s: Shortest overlap that counts as overtalk, seconds.
        backchannel_max_s: Utterances shorter than this made of backchannel words are ignored
            for overtalk, seconds.
        hold_after_request_min_s: Shortest gap after a wait request that counts as hold, seconds.
        hold_request_window_s: The gap must begin within this long after the request ends, seconds.
        hold_any_min_s: Any gap at least this long counts as hold, seconds.

    """

    silence_min_s: float = 3.0
    overtalk_min_s: float = 1.0
    backchannel_max_s: float = 1.2
    hold_after_request_min_s: float = 8.0
    hold_request_window_s: float = 15.0
    hold_any_min_s: float = 20.0


def compute_metrics(
    transcript: Transcript,
    *,
    count_morae: Callable[[str], int] | None = None,
    options: MetricsOptions | None = None,
) -> CallMetrics:
    """Compute the conversation metrics of one call (definitions in the module docstring).

    Args:
        transcript: The call's utterances and duration.
        count_morae: Morae in a text (reading-based); None uses :func:`estimate_morae`.
        options: Thresholds; defaults to :class:`MetricsOptions`.

    Returns:
        The metrics, with the silence, overtalk and hold intervals.

    """
    opts = options or MetricsOptions()
    morae = count_morae or estimate_morae
    duration = max(0.0, transcript.duration_s)
    utterances = [_clip(u, duration) for u in transcript.utterances]
    spans = {s: union([(u.start_s, u.end_s) for u in utterances if u.speaker == s]) for s in ("agent", "customer", "unknown")}
    talk = {s: _total(v) for s, v in spans.items()}
    separated = transcript.speakers_separated

    gaps = _gaps(union([(u.start_s, u.end_s) for u in utterances]))
    silences = [Interval(a, b) for a, b in gaps if b - a >= opts.silence_min_s - 1e-9]
    holds = _holds(gaps, utterances, opts)
    overtalks = _overtalks(utterances, opts) if separated else []
    silence_s = sum(i.duration_s for i in silences)

    def rate(speaker: Speaker) -> float | None:
        if not separated or talk[speaker] <= 0:
            return None
        spoken = sum(morae(u.text) for u in utterances if u.speaker == speaker)
        return round(spoken / talk[speaker], 3)

    both = talk["agent"] + talk["customer"]
    return CallMetrics(
        duration_s=round(duration, 3),
        talk_s_agent=round(talk["agent"], 3),
        talk_s_customer=round(talk["customer"], 3),
        talk_s_unknown=round(talk["unknown"], 3),
        talk_ratio_agent=round(talk["agent"] / both, 4) if separated and both > 0 else None,
        silence_count=len(silences),
        silence_s=round(silence_s, 3),
        longest_silence_s=round(max((i.duration_s for i in silences), default=0.0), 3),
        silence_ratio=round(silence_s / duration, 4) if duration > 0 else 0.0,
        overtalk_count=len(overtalks),
        overtalk_s=round(sum(i.duration_s for i in overtalks), 3),
        hold_count=len(holds),
        hold_s=round(sum(i.duration_s for i in holds), 3),
        turn_count=_turns(utterances),
        speaking_rate_agent=rate("agent"),
        speaking_rate_customer=rate("customer"),
        silences=tuple(_round(i) for i in silences),
        overtalks=tuple(_round(i) for i in overtalks),
        holds=tuple(_round(i) for i in holds),
    )


def is_backchannel(utterance: Utterance, max_s: float = 1.2) -> bool:
    """Whether an utterance is a backchannel (相槌): short and made only of backchannel words.

    Args:
        utterance: The utterance.
        max_s: Utterances this long or longer are never backchannels, seconds.

    Returns:
        True for e.g. 「はい」, 「ええ、ええ」, 「そうですね。」 under ``max_s``.

    """
    if utterance.duration_s >= max_s:
        return False
    text = _letters(utterance.text)
    if not text:
        return True
    words = sorted(BACKCHANNELS, key=len, reverse=True)
    return re.fullmatch("(?:" + "|".join(map(re.escape, words)) + ")+", text) is not None


def is_hold_request(text: str) -> bool:
    """Whether an agent's words ask the customer to wait (「少々お待ちください」, ...)."""
    return HOLD_REQUEST.search(_letters(text)) is not None


def estimate_morae(text: str) -> int:
    """Estimate the morae of Japanese text without a dictionary (rules in the module docstring).

    Args:
        text: Any text.

    Returns:
        Estimated number of morae.

    """
    count = 0
    for ch in unicodedata.normalize("NFKC", text):
        if ch in _SMALL_KANA:
            continue
        if "\u3041" <= ch <= "\u30ff":  # hiragana, katakana, ー
            count += 1 if ch not in "・゛゜" else 0
        elif "\u4e00" <= ch <= "\u9fff" or ch == "々" or ch.isdigit():
            count += 2
        elif ch.isalpha():
            count += 1
    return count


def union(spans: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """Merge overlapping or touching spans into disjoint, sorted spans."""
    merged: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def intersect(a: Sequence[tuple[float, float]], b: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Intersection of two disjoint sorted span lists."""
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if hi > lo:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def _overtalks(utterances: Sequence[Utterance], opts: MetricsOptions) -> list[Interval]:
    talking = {
        s: [u for u in utterances if u.speaker == s and not is_backchannel(u, opts.backchannel_max_s)]
        for s in ("agent", "customer")
    }
    agent = union((u.start_s, u.end_s) for u in talking["agent"])
    customer = union((u.start_s, u.end_s) for u in talking["customer"])
    found = []
    for lo, hi in intersect(agent, customer):
        if hi - lo < opts.overtalk_min_s - 1e-9:
            continue
        # Who cut in: the side whose speech (the utterance covering the overlap start) began later.
        began = {
            s: max((u.start_s for u in talking[s] if u.start_s <= lo + 1e-9 and u.end_s > lo), default=lo)
            for s in ("agent", "customer")
        }
        starter: Speaker | None = None
        if began["agent"] != began["customer"]:
            starter = "agent" if began["agent"] > began["customer"] else "customer"
        found.append(Interval(lo, hi, starter))
    return found


def _holds(gaps: Sequence[tuple[float, float]], utterances: Sequence[Utterance], opts: MetricsOptions) -> list[Interval]:
    requests = [u.end_s for u in utterances if u.speaker == "agent" and is_hold_request(u.text)]
    holds = []
    for start, end in gaps:
        length = end - start
        asked = any(start - opts.hold_request_window_s - 1e-9 <= t <= start + 1e-9 for t in requests)
        if length >= opts.hold_any_min_s - 1e-9 or (asked and length >= opts.hold_after_request_min_s - 1e-9):
            holds.append(Interval(start, end, "agent" if asked else None))
    return holds


def _gaps(spans: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Gaps between consecutive disjoint spans (inside the conversation, not lead-in or tail)."""
    return [(a[1], b[0]) for a, b in itertools.pairwise(spans) if b[0] > a[1]]


def _turns(utterances: Sequence[Utterance]) -> int:
    turns = 0
    for before, after in itertools.pairwise(utterances):
        if before.speaker != after.speaker and "unknown" not in (before.speaker, after.speaker):
            turns += 1
    return turns


def _clip(utterance: Utterance, duration: float) -> Utterance:
    start = min(max(0.0, utterance.start_s), duration)
    end = min(max(start, utterance.end_s), duration)
    if (start, end) == (utterance.start_s, utterance.end_s):
        return utterance
    return Utterance(utterance.speaker, start, end, utterance.text, utterance.confidence)


def _total(spans: Sequence[tuple[float, float]]) -> float:
    return sum(b - a for a, b in spans)


def _round(interval: Interval) -> Interval:
    return Interval(round(interval.start_s, 3), round(interval.end_s, 3), interval.speaker)


def _letters(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")
