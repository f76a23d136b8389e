"""Cue words matched on their kana readings: homophone ASR slips respelled before the tag rules run.

Whisper writes what it hears, and Japanese has many homophones: 折り返し comes out as 織り返し,
解約 as 開約, 前回 as 全開, and kana runs (かいやく) are split by MeCab into unrelated words
(甲斐 + 役). Listing every slip as a regex would fit the rules to the slips one has seen. Instead
each cue word of ``rules/tags.yaml`` (``cues:``) is kept with its reading, and an utterance is
respelled wherever a run of its tokens, or of its kanji read one by one, reads like a cue but is
written otherwise. The rules then match the cue's usual spelling whatever the recogniser wrote.

Two readings of the utterance are tried, because neither alone is enough: the tokens' UniDic
readings catch slips that are real words (織り+返し reads オリカエシ, 全開 reads ゼンカイ), and
the readings of single kanji catch non-words that MeCab mis-splits (開約 is 開ける + 約する, but
開 reads カイ and 約 reads ヤク on their own).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from textmining.normalise import to_katakana
from textmining.tokens import Token, tokenize

__all__ = ["Cue", "Respelling", "load_cues", "respell"]

_KANJI = re.compile(r"[\u4e00-\u9fff々]+")
_HIRAGANA = re.compile(r"^[ぁ-ゖー]+$")
#: Tokens joined into one cue reading, at most.
_MAX_TOKENS = 5


@dataclass(frozen=True, slots=True)
class Cue:
    """A cue word: its usual spelling and its reading in katakana."""

    surface: str
    reading: str


@dataclass(frozen=True, slots=True)
class Respelling:
    """An utterance with homophone slips of cue words respelled.

    Attributes:
        text: The respelled text (the rules run on it).
        origin: For each character of ``text``, the index of the character of the original
            text it comes from (a respelled run maps onto the run it replaced).
        original: The text before respelling.

    """

    text: str
    origin: tuple[int, ...]
    original: str

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text behind ``text[start:end]``."""
        if not self.origin or start >= len(self.origin):
            return (len(self.original), len(self.original))
        a = self.origin[start]
        b = self.origin[end - 1] + 1 if end > start else a
        if end < len(self.origin):
            b = max(b, min(self.origin[end], len(self.original)) if self.origin[end] > b else b)
        return (a, max(b, a))


def _reading(token: Token) -> str:
    if token.reading:
        return token.reading
    if _HIRAGANA.match(token.surface):
        return to_katakana(token.surface)
    return token.surface


def load_cues(words: Iterable[str]) -> tuple[Cue, ...]:
    """Cue words with their readings (from the tokeniser), longest reading first.

    Args:
        words: Cue words in their usual spelling (折り返し, 解約, 責任者).

    Returns:
        The cues; words without a kana reading are skipped.

    """
    cues = {Cue(w, "".join(_reading(t) for t in tokenize(w))) for w in words if w}
    return tuple(sorted((c for c in cues if len(c.reading) >= 2), key=lambda c: (-len(c.reading), c.surface)))


@lru_cache(maxsize=4096)
def _char_reading(char: str) -> str:
    tokens = tokenize(char)
    return tokens[0].reading if len(tokens) == 1 else ""


def _token_offsets(text: str, tokens: Sequence[Token]) -> list[tuple[int, int, str]]:
    """(start, end, reading) of each token in ``text`` (MeCab drops spaces, so search forward)."""
    out = []
    pos = 0
    for token in tokens:
        at = text.find(token.surface, pos)
        if at < 0:
            continue
        out.append((at, at + len(token.surface), _reading(token)))
        pos = at + len(token.surface)
    return out


def _candidates(pieces: Sequence[tuple[int, int, str]], by_reading: dict[str, str]) -> list[tuple[int, int, str]]:
    """Runs of consecutive pieces whose joined reading is a cue's reading: (start, end, cue)."""
    found = []
    for i in range(len(pieces)):
        reading = ""
        for j in range(i, min(len(pieces), i + _MAX_TOKENS)):
            if j > i and pieces[j][0] != pieces[j - 1][1]:
                break  # a gap (space) between pieces: not one word
            reading += pieces[j][2]
            cue = by_reading.get(reading)
            if cue is not None:
                found.append((pieces[i][0], pieces[j][1], cue))
    return found


def respell(text: str, cues: Sequence[Cue], tokens: Sequence[Token] | None = None) -> Respelling:
    """Respell runs of ``text`` that read like a cue word but are written otherwise.

    Args:
        text: The utterance in mining form.
        cues: From :func:`load_cues`.
        tokens: The text's tokens, when the caller has them (tokenised here otherwise).

    Returns:
        The respelled text and where each of its characters comes from.

    """
    if not cues or not text:
        return Respelling(text, tuple(range(len(text))), text)
    by_reading = {c.reading: c.surface for c in cues}
    toks = tokens if tokens is not None else tokenize(text)
    found = _candidates(_token_offsets(text, toks), by_reading)
    for run in _KANJI.finditer(text):
        if len(run.group()) >= 2:
            chars = [(run.start() + k, run.start() + k + 1, _char_reading(ch)) for k, ch in enumerate(run.group())]
            found += [f for f in _candidates(chars, by_reading) if f[1] - f[0] >= 2]
    # Longest first, then leftmost; a run already spelled as a cue is left alone (and blocks
    # shorter respellings inside it).
    found.sort(key=lambda f: (-(f[1] - f[0]), f[0]))
    taken: list[tuple[int, int, str]] = []
    for start, end, cue in found:
        if any(start < e and s < end for s, e, _ in taken):
            continue
        span = text[start:end]
        if _HIRAGANA.match(span) and len(span) < 3:
            continue  # short kana runs are particles and endings, not slips
        taken.append((start, end, cue))
    out: list[str] = []
    origin: list[int] = []
    pos = 0
    for start, end, cue in sorted(taken):
        out.append(text[pos:start])
        origin.extend(range(pos, start))
        out.append(cue)
        # Spread the replaced run over the cue's characters, so spans map back to the whole run.
        origin.extend(start + min(k * (end - start) // max(1, len(cue)), end - start - 1) for k in range(len(cue)))
        pos = end
    out.append(text[pos:])
    origin.extend(range(pos, len(text)))
    return Respelling("".join(out), tuple(origin), text)
