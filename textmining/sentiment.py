"""Utterance sentiment in [-1, 1]: the scorer protocol, the lexicon scorer and the label of a score.

Scorers follow the :class:`SentimentScorer` protocol, so the lexicon scorer, a scikit-learn model
trained on the user's labels (:mod:`textmining.sentiment_model`) or a fake in tests are
interchangeable. The lexicon itself is :mod:`textmining.sentiment_lexicon`; a call's summary of its
utterance scores is :mod:`textmining.sentiment_summary`.

Agent politeness formulas (申し訳ございません, ご不便をおかけして) are neutral phrases that mask
the words inside them, so an apologising agent is not scored as a complaint.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import fugashi

from koe.records import SentimentLabel
from textmining.grammar import NEGATING_LEMMAS
from textmining.normalise import restore_kanji, strip_fillers
from textmining.sentiment_lexicon import Lexicon, default_lexicon
from textmining.tokens import Token, load_tagger, tokenize

__all__ = ["LABEL_THRESHOLD", "LexiconScorer", "SentimentScorer", "score_label"]

#: ``score >= LABEL_THRESHOLD`` is positive, ``score <= -LABEL_THRESHOLD`` negative, else neutral.
#: 0.15 keeps a single mild word (悪くない, ~+0.24) on its side while a lone ええ or はい stays 0.
LABEL_THRESHOLD = 0.15

# Weight of words before a contrastive が/けど/でも when words follow it: the clause after counts more.
_BEFORE_CONTRAST = 0.5
# A positive word under たい/ほしい/ください is wished for, not had: 早く直してほしい is mildly negative.
_UNREALISED = -0.2
# Positive words in a question count this much.
_QUESTION = 0.2
# How far (in tokens) negation is looked for after a scored word.
_NEGATION_WINDOW = 6
_LIGHT_VERBS = frozenset(
    {"為る", "出来る", "居る", "有る", "御座る", "成る", "行く", "来る", "仕舞う", "見る", "呉れる",
     "貰う", "頂く", "下さる", "致す", "得る", "過ぎる", "置く", "てる", "ちゃう"}
)
_FORMAL_NOUNS = frozenset({"訳", "積り", "積もり", "筈", "事"})
_WISH = frozenset({"たい", "欲しい", "下さる", "頂く"})
_CONTRAST_PARTICLES = frozenset({"が", "けれど", "けれども", "けど", "のに"})
_CONTRAST_CONJUNCTIONS = frozenset({"でも", "しかし", "だけど", "けど", "けれど", "ただ", "だが", "ところが", "ですが"})
_NEGATING_PREFIXES = frozenset({"不", "無", "非", "未"})


@runtime_checkable
class SentimentScorer(Protocol):
    """Anything that scores texts in [-1, 1] (negative to positive)."""

    def score(self, texts: Sequence[str]) -> list[float]:
        """Score each text in [-1, 1]."""
        ...


@dataclass(frozen=True, slots=True)
class _Hit:
    start: int
    end: int
    value: float


class LexiconScorer:
    """Score utterances with the call-centre lexicon, negation, intensifiers and contrast.

    For each utterance: phrases are matched on the normalised text (and mask the words inside
    them), then lemmas; a lemma followed within the same clause by a negation (〜ない, 〜ません,
    〜なかった, 〜ず, じゃない), or preceded by 不/無/非, takes its negated weight; an intensifier
    (とても, 全然, 少し) multiplies the next scored word; words before a contrastive が/けど/でも
    count half when words follow it. The sum is squashed with ``tanh`` into [-1, 1].
    """

    def __init__(self, lexicon: Lexicon | None = None, *, tagger: fugashi.Tagger | None = None) -> None:
        """Create a scorer.

        Args:
            lexicon: A loaded lexicon; defaults to the bundled one with the ML-Ask back-off.
            tagger: A fugashi Tagger; defaults to :func:`~textmining.tokens.load_tagger`.

        """
        self.lexicon = lexicon or default_lexicon()
        self._tagger = tagger

    def score(self, texts: Sequence[str]) -> list[float]:
        """Score each text.

        Args:
            texts: Utterance texts (raw or normalised).

        Returns:
            One score in [-1, 1] per text; 0.0 for texts without sentiment words.

        """
        tagger = self._tagger or load_tagger()
        return [self.score_one(text, tagger=tagger) for text in texts]

    def score_one(self, text: str, *, tagger: fugashi.Tagger | None = None) -> float:
        """Score one text in [-1, 1]; see the class docstring for the rules."""
        # The same form content_tokens() tokenises, so the per-text token cache is shared.
        norm = restore_kanji(strip_fillers(text))
        if not norm:
            return 0.0
        tokens = tokenize(norm, tagger=tagger or self._tagger or load_tagger())
        offsets = _offsets(norm, tokens)
        hits = self._phrase_hits(norm)
        # Intensifiers (大変, 全然) only scale: their words are never scored themselves.
        spans = [(h.start, h.end) for h in hits] + [
            (m, m + len(term)) for term in self.lexicon.intensifiers for m in _find_all(norm, term)
        ]
        masked = [any(a <= s < b for a, b in spans) for s in offsets]
        hits += self._lemma_hits(tokens, offsets, masked)
        hits = self._intensify(norm, hits)
        contrast = _last_contrast(tokens, offsets)
        if _is_question(tokens):
            # 解決しますか？ / きちんと説明してもらえますか asks for the good thing, it does not report it.
            hits = [_Hit(h.start, h.end, h.value * _QUESTION) if h.value > 0 else h for h in hits]
        after = contrast is not None and any(h.start > contrast for h in hits)
        total = sum(
            hit.value * (_BEFORE_CONTRAST if after and contrast is not None and hit.start < contrast else 1.0)
            for hit in hits
        )
        return math.tanh(total)

    def _phrase_hits(self, norm: str) -> list[_Hit]:
        taken = [False] * len(norm)
        hits: list[_Hit] = []
        # Longest phrases first, so 申し訳ございませんでした wins over 申し訳ございません.
        for phrase in sorted(self.lexicon.phrases, key=len, reverse=True):
            start = norm.find(phrase)
            while start >= 0:
                end = start + len(phrase)
                if not any(taken[start:end]):
                    taken[start:end] = [True] * len(phrase)
                    hits.append(_Hit(start, end, self.lexicon.phrases[phrase]))
                start = norm.find(phrase, end)
        return hits

    def _lemma_hits(self, tokens: Sequence[Token], offsets: Sequence[int], masked: Sequence[bool]) -> list[_Hit]:
        lemmas = self.lexicon.lemmas
        hits: list[_Hit] = []
        skip_next = False
        for i, token in enumerate(tokens):
            if skip_next or masked[i]:
                skip_next = False
                continue
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            entry, span_end, prefix_negated = lemmas.get(token.lemma), i, False
            if nxt is not None and not masked[i + 1] and (token.lemma + nxt.lemma) in lemmas:
                # 不+具合, 面倒+臭い: the dictionary splits words the lexicon lists whole.
                entry, span_end, skip_next = lemmas[token.lemma + nxt.lemma], i + 1, True
            elif token.pos == "接頭辞" and token.lemma in _NEGATING_PREFIXES and nxt and nxt.lemma in lemmas:
                entry, span_end, skip_next, prefix_negated = lemmas[nxt.lemma], i + 1, True, True
            if entry is None or token.pos in ("助詞", "助動詞", "補助記号"):
                continue
            negated, wished = _negation_after(tokens, span_end)
            value = entry.negated if negated != prefix_negated else entry.weight
            if wished and value > 0:
                value = _UNREALISED
            if value:
                end = offsets[span_end] + len(tokens[span_end].surface)
                hits.append(_Hit(offsets[i], end, value))
        return hits

    def _intensify(self, norm: str, hits: list[_Hit]) -> list[_Hit]:
        if not hits:
            return hits
        hits = sorted(hits, key=lambda h: h.start)
        out = list(hits)
        for term, factor in self.lexicon.intensifiers.items():
            start = norm.find(term)
            while start >= 0:
                end = start + len(term)
                for k, hit in enumerate(out):
                    # The next scored word within 12 characters and not across a sentence end.
                    if hit.start >= end and hit.start - end <= 12 and not any(c in "。!?" for c in norm[end:hit.start]):
                        out[k] = _Hit(hit.start, hit.end, hit.value * factor)
                        break
                start = norm.find(term, end)
        return out


def _find_all(text: str, term: str) -> list[int]:
    starts, start = [], text.find(term)
    while start >= 0:
        starts.append(start)
        start = text.find(term, start + len(term))
    return starts


def _offsets(text: str, tokens: Sequence[Token]) -> list[int]:
    offsets, position = [], 0
    for token in tokens:
        found = text.find(token.surface, position)
        start = found if found >= 0 else position
        offsets.append(start)
        position = start + len(token.surface)
    return offsets


def _negation_after(tokens: Sequence[Token], index: int) -> tuple[bool, bool]:
    """Look past auxiliaries after ``tokens[index]`` for a negation and for a wish (たい, ほしい)."""
    negated, wished = False, False
    start = index + 1
    for position, token in enumerate(tokens[start : start + _NEGATION_WINDOW], start=start):
        if token.lemma in NEGATING_LEMMAS and token.pos in ("助動詞", "形容詞"):
            if not _rhetorical(tokens, position):
                negated = not negated
        elif token.lemma in _FORMAL_NOUNS or token.pos2 == "準体助詞":
            continue  # 怒ってるわけじゃない, 乗り換えるつもりはない: the negation reaches through
        elif token.lemma in _WISH:
            wished = True
        elif token.pos == "助動詞" or (token.pos == "動詞" and token.lemma in _LIGHT_VERBS) or (token.pos == "形容詞" and token.pos2 == "非自立可能") or (token.pos == "助詞" and (token.pos2 in ("係助詞", "副助詞", "格助詞") or token.lemma in ("て", "で"))) or (token.pos == "接尾辞" and token.pos2 == "動詞的"):
            continue
        else:
            break
    return negated, wished


def _is_question(tokens: Sequence[Token]) -> bool:
    content = [t for t in tokens if t.pos not in ("補助記号", "空白")]
    last = tokens[-1] if tokens else None
    return bool(content) and (
        (last is not None and last.surface in ("?", "？"))
        or (content[-1].pos == "助詞" and content[-1].pos2 == "終助詞" and content[-1].lemma in ("か", "かな"))
    )


def _rhetorical(tokens: Sequence[Token], position: int) -> bool:
    """True for the tag じゃないですか / ではないか, which asserts rather than negates."""
    if position == 0 or tokens[position - 1].lemma != "だ":
        return False
    rest = [t for t in tokens[position + 1 : position + 4] if t.lemma not in ("です", "でしょう", "だ")]
    return bool(rest) and rest[0].lemma == "か" and rest[0].pos == "助詞"


def _last_contrast(tokens: Sequence[Token], offsets: Sequence[int]) -> int | None:
    last = None
    for i, token in enumerate(tokens):
        if (token.pos == "助詞" and token.pos2 == "接続助詞" and token.lemma in _CONTRAST_PARTICLES) or (
            token.pos == "接続詞" and token.surface in _CONTRAST_CONJUNCTIONS
        ):
            last = offsets[i]
    return last


def score_label(score: float) -> SentimentLabel:
    """Label a score: ``>= 0.15`` positive, ``<= -0.15`` negative, otherwise neutral.

    Args:
        score: Sentiment score in [-1, 1].

    Returns:
        ``positive``, ``negative`` or ``neutral`` (threshold :data:`LABEL_THRESHOLD`).

    """
    if score >= LABEL_THRESHOLD:
        return "positive"
    if score <= -LABEL_THRESHOLD:
        return "negative"
    return "neutral"

