"""Utterance sentiment in [-1, 1]: a call-centre lexicon scorer, a trainable scorer, per-call summaries.

Scorers follow the :class:`SentimentScorer` protocol, so the lexicon scorer, a scikit-learn model
trained on the user's labels (:func:`train_sentiment`) or a fake in tests are interchangeable.

The lexicon (``lexicon/sentiment_ja.tsv``, Apache-2.0) is matched on UniDic lemmas, so one entry
covers every politeness level and tense (助かる covers 助かった, 助かりました, 助かります). Words
about a topic (料金, 請求, 問題) carry no feeling by themselves; only their negation does
(問題ありません). Agent politeness formulas (申し訳ございません, ご不便をおかけして) are neutral
phrases that mask the words inside them, so an apologising agent is not scored as a complaint.
"""

from __future__ import annotations

import csv
import io
import json
import math
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Protocol, runtime_checkable

import fugashi

from koe.errors import InputError, TrainingError
from koe.records import SentimentLabel, SentimentSummary, Trajectory, Utterance
from textmining.grammar import NEGATING_LEMMAS
from textmining.normalise import normalise_text, restore_kanji, strip_fillers
from textmining.tokens import Token, load_tagger, tokenize

__all__ = [
    "DEFAULT_LEXICON",
    "LABEL_THRESHOLD",
    "TRAJECTORY_DELTA",
    "LexiconScorer",
    "SentimentScorer",
    "TrainedSentimentScorer",
    "TrainingReport",
    "load_lexicon",
    "score_label",
    "summarise_sentiment",
    "train_sentiment",
    "train_sentiment_from_file",
]

#: The bundled call-centre lexicon.
DEFAULT_LEXICON = Path(__file__).parent / "lexicon" / "sentiment_ja.tsv"
#: ``score >= LABEL_THRESHOLD`` is positive, ``score <= -LABEL_THRESHOLD`` negative, else neutral.
#: 0.15 keeps a single mild word (悪くない, ~+0.24) on its side while a lone ええ or はい stays 0.
LABEL_THRESHOLD = 0.15
#: A change of at least this much between the customer's first and last third is a trajectory.
TRAJECTORY_DELTA = 0.25
#: Utterances scoring closer to 0 than this say nothing evaluative and are left out of means.
EVALUATIVE_MIN = 0.05

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
class _Entry:
    weight: float
    negated: float


@dataclass(frozen=True, slots=True)
class Lexicon:
    """A loaded sentiment lexicon (see ``lexicon/sentiment_ja.tsv`` for the format)."""

    lemmas: dict[str, _Entry]
    phrases: dict[str, float]
    intensifiers: dict[str, float]


def _default_negated(weight: float) -> float:
    # 悪くない is mildly positive; 良くない is nearly as negative as 悪い.
    return -0.5 * weight if weight < 0 else -0.8 * weight


def load_lexicon(path: Path | None = None, *, use_mlask: bool = True) -> Lexicon:
    """Load a sentiment lexicon TSV.

    Args:
        path: A TSV of ``term, match, weight[, negated_weight]``; defaults to the bundled
            call-centre lexicon.
        use_mlask: Also load ML-Ask's emotion words (pymlask, BSD-3) as a weak back-off
            (±0.25) for lemmas the call-centre lexicon does not list. Skipped when pymlask is
            not installed.

    Returns:
        The lexicon.

    Raises:
        InputError: A line of the file is malformed.

    """
    if path is None:
        text = DEFAULT_LEXICON.read_text("utf-8")
        origin = "textmining/lexicon/sentiment_ja.tsv"
    else:
        text, origin = path.read_text("utf-8"), str(path)
    lemmas: dict[str, _Entry] = dict(_mlask_entries()) if use_mlask else {}
    phrases: dict[str, float] = {}
    intensifiers: dict[str, float] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        try:
            term, kind, weight = cells[0], cells[1], float(cells[2])
            negated = float(cells[3]) if len(cells) > 3 and cells[3].strip() else _default_negated(weight)
        except (IndexError, ValueError) as exc:
            raise InputError(f"{origin}:{number}: expected 'term<TAB>match<TAB>weight[<TAB>negated]'") from exc
        if kind == "lemma":
            lemmas[term] = _Entry(weight, negated)
        elif kind == "surface":
            phrases[normalise_text(term)] = weight
        elif kind == "intensifier":
            intensifiers[normalise_text(term)] = weight
        else:
            raise InputError(f"{origin}:{number}: match must be lemma, surface or intensifier, not {kind!r}")
    return Lexicon(lemmas, phrases, intensifiers)


# ML-Ask emotion classes used as back-off; surprise and excitement (驚, 昂) carry no polarity.
_MLASK_POLARITY = {
    "yorokobi": 0.25, "suki": 0.25, "yasu": 0.25,
    "ikari": -0.25, "iya": -0.25, "kowa": -0.25, "aware": -0.25, "haji": -0.25,
}


@lru_cache(maxsize=1)
def _mlask_entries() -> tuple[tuple[str, _Entry], ...]:
    try:
        base = resources.files("mlask").joinpath("emotions")
    except (ModuleNotFoundError, OSError, TypeError):
        return ()  # pymlask not installed (or not a regular package): no back-off
    tagger = load_tagger()
    entries: dict[str, _Entry] = {}
    for emotion, weight in _MLASK_POLARITY.items():
        try:
            words = base.joinpath(f"{emotion}_uncoded.txt").read_text("utf-8").split()
        except OSError:
            continue
        for word in words:
            tokens = [t for t in tokenize(normalise_text(word), tagger=tagger) if t.pos != "補助記号"]
            # Only single-word entries: multi-word idioms would need phrase matching.
            # Adverbs (きちんと, さっぱり) describe manner more often than feeling in a call.
            if len(tokens) == 1 and tokens[0].pos in ("名詞", "動詞", "形容詞", "形状詞"):
                entries.setdefault(tokens[0].lemma, _Entry(weight, _default_negated(weight)))
    return tuple(entries.items())


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
        self.lexicon = lexicon or _default_lexicon()
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


@lru_cache(maxsize=1)
def _default_lexicon() -> Lexicon:
    return load_lexicon()


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


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _speaker_mean(scores: Sequence[float], spoke: bool) -> float | None:
    evaluative = [s for s in scores if abs(s) >= EVALUATIVE_MIN]
    if evaluative:
        return _mean(evaluative)
    return 0.0 if spoke else None


def summarise_sentiment(utterances: Sequence[Utterance], scores: Sequence[float]) -> SentimentSummary:
    """Summarise one call's utterance scores per speaker and as the customer's trajectory.

    Means are over *evaluative* utterances (``|score| >= 0.05``), so a call full of はい and
    ええ does not dilute a complaint to zero; a speaker who spoke but said nothing evaluative
    gets 0.0, one who never spoke ``None``. The customer's evaluative utterances, ordered by
    ``start_s``, are split in thirds (at least one each): ``customer_start`` is the mean of the
    first third, ``customer_end`` of the last. Trajectory: ``end - start >= 0.25`` improving,
    ``<= -0.25`` worsening, otherwise by the customer mean: ``>= 0.15`` positive, ``<= -0.15``
    negative, else neutral. Mono calls (no ``customer`` utterances) are neutral.

    Args:
        utterances: The call's utterances.
        scores: One score in [-1, 1] per utterance, in the same order.

    Returns:
        The summary.

    Raises:
        InputError: ``scores`` and ``utterances`` differ in length.

    """
    if len(scores) != len(utterances):
        raise InputError(
            f"sentiment summary: got {len(scores)} scores for {len(utterances)} utterances; score every utterance"
        )
    by_speaker: dict[str, list[tuple[float, float]]] = {"agent": [], "customer": []}
    for utterance, score in zip(utterances, scores, strict=True):
        if utterance.speaker in by_speaker and utterance.text.strip():
            by_speaker[utterance.speaker].append((utterance.start_s, score))
    customer = sorted(by_speaker["customer"])
    agent_scores = [s for _, s in by_speaker["agent"]]
    customer_mean = _speaker_mean([s for _, s in customer], bool(customer))
    agent_mean = _speaker_mean(agent_scores, bool(agent_scores))
    evaluative = [s for _, s in customer if abs(s) >= EVALUATIVE_MIN]
    start = end = None
    if evaluative:
        third = max(1, len(evaluative) // 3)
        start, end = _mean(evaluative[:third]), _mean(evaluative[-third:])
    elif customer:
        start = end = 0.0
    return SentimentSummary(
        customer_mean=customer_mean,
        agent_mean=agent_mean,
        customer_start=start,
        customer_end=end,
        trajectory=_trajectory(customer_mean, start, end),
    )


def _trajectory(mean: float | None, start: float | None, end: float | None) -> Trajectory:
    if mean is None or start is None or end is None:
        return "neutral"
    if end - start >= TRAJECTORY_DELTA:
        return "improving"
    if end - start <= -TRAJECTORY_DELTA:
        return "worsening"
    return score_label(mean)


# --- trained scorer ----------------------------------------------------------------------------

_LABEL_ALIASES: dict[str, SentimentLabel] = {
    "positive": "positive", "pos": "positive", "p": "positive", "1": "positive", "+1": "positive",
    "ポジティブ": "positive", "正": "positive",
    "negative": "negative", "neg": "negative", "n": "negative", "-1": "negative",
    "ネガティブ": "negative", "負": "negative",
    "neutral": "neutral", "neu": "neutral", "0": "neutral", "ニュートラル": "neutral", "中立": "neutral",
}
#: Fewest labelled texts :func:`train_sentiment` accepts, and fewest per class.
MIN_TRAINING_TEXTS = 20
MIN_PER_CLASS = 2


@dataclass(frozen=True, slots=True)
class TrainingReport:
    """How a trained sentiment scorer was fitted and how well it did.

    Attributes:
        n_texts: Labelled texts used.
        class_counts: Texts per label.
        folds: Cross-validation folds actually used (at most the smallest class count).
        cv_accuracy: Mean accuracy over the folds, 0-1.
        cv_accuracy_std: Standard deviation of the fold accuracies.

    """

    n_texts: int
    class_counts: dict[str, int]
    folds: int
    cv_accuracy: float
    cv_accuracy_std: float


class TrainedSentimentScorer:
    """A scikit-learn classifier (char n-gram TF-IDF + logistic regression) used as a scorer.

    Japanese has no spaces, so features are character 1-3-grams of the normalised text. The
    score is ``P(positive) - P(negative)``, in [-1, 1].
    """

    def __init__(self, pipeline: object) -> None:
        """Wrap a fitted scikit-learn pipeline whose classes are sentiment labels."""
        self.pipeline = pipeline

    def score(self, texts: Sequence[str]) -> list[float]:
        """Score each text as P(positive) - P(negative), in [-1, 1]."""
        if not texts:
            return []
        proba = self.pipeline.predict_proba(list(texts))  # type: ignore[attr-defined]
        classes = list(self.pipeline.classes_)  # type: ignore[attr-defined]
        pos = classes.index("positive") if "positive" in classes else None
        neg = classes.index("negative") if "negative" in classes else None
        return [
            float((row[pos] if pos is not None else 0.0) - (row[neg] if neg is not None else 0.0))
            for row in proba
        ]

    def to_bytes(self) -> bytes:
        """Serialise with pickle (only load bytes you wrote yourself: pickle runs code)."""
        return pickle.dumps(self.pipeline, protocol=pickle.HIGHEST_PROTOCOL)

    def save(self, path: Path) -> None:
        """Write the model to ``path`` (pickle; a trusted local file)."""
        path.write_bytes(self.to_bytes())

    @classmethod
    def load(cls, source: Path | bytes) -> TrainedSentimentScorer:
        """Load a model written by :meth:`save` or :meth:`to_bytes`.

        Args:
            source: A file path or the bytes themselves; must come from a trusted source.

        Returns:
            The scorer.

        Raises:
            InputError: The file is missing or not a koe sentiment model.

        """
        origin = str(source) if isinstance(source, Path) else "<bytes>"
        try:
            data = source.read_bytes() if isinstance(source, Path) else source
            pipeline = pickle.loads(data)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
            raise InputError(f"{origin}: cannot load sentiment model ({exc}); retrain with koe sentiment train") from exc
        if not hasattr(pipeline, "predict_proba"):
            raise InputError(f"{origin}: not a sentiment model; retrain with koe sentiment train")
        return cls(pipeline)


def _canonical_label(label: object, where: str) -> SentimentLabel:
    key = str(label).strip().lower()
    if key not in _LABEL_ALIASES:
        raise TrainingError(f"{where}: unknown label {label!r}; use positive, negative or neutral")
    return _LABEL_ALIASES[key]


def train_sentiment(
    texts: Sequence[str], labels: Sequence[str], *, folds: int = 5, random_state: int = 0
) -> tuple[TrainedSentimentScorer, TrainingReport]:
    """Fit a sentiment classifier on labelled utterances and cross-validate it.

    Args:
        texts: Utterance texts.
        labels: ``positive``, ``negative`` or ``neutral`` per text (aliases: pos/neg/neu,
            1/-1/0, ポジティブ/ネガティブ/中立).
        folds: Stratified cross-validation folds (capped by the smallest class count).
        random_state: Seed of the fold shuffling.

    Returns:
        The scorer fitted on all texts, and the report with cross-validated accuracy.

    Raises:
        TrainingError: Fewer than 20 texts, fewer than 2 labels, fewer than 2 texts in a
            class, lengths differ, or an unknown label.

    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline

    if len(texts) != len(labels):
        raise TrainingError(f"got {len(texts)} texts but {len(labels)} labels; give one label per text")
    canonical = [_canonical_label(label, f"label {i + 1}") for i, label in enumerate(labels)]
    counts: dict[str, int] = {label: canonical.count(label) for label in sorted(set(canonical))}
    if len(texts) < MIN_TRAINING_TEXTS:
        raise TrainingError(
            f"only {len(texts)} labelled texts; label at least {MIN_TRAINING_TEXTS} utterances to train"
        )
    if len(counts) < 2 or min(counts.values()) < MIN_PER_CLASS:
        raise TrainingError(
            f"labels per class {counts}: need at least 2 classes with {MIN_PER_CLASS}+ texts each"
        )
    pipeline = make_pipeline(
        TfidfVectorizer(analyzer="char", ngram_range=(1, 3), preprocessor=normalise_text, sublinear_tf=True),
        LogisticRegression(max_iter=2000, class_weight="balanced", C=4.0),
    )
    n_folds = max(2, min(folds, min(counts.values())))
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=random_state)
    accuracies = cross_val_score(pipeline, list(texts), canonical, cv=splitter, scoring="accuracy")
    pipeline.fit(list(texts), canonical)
    report = TrainingReport(
        n_texts=len(texts),
        class_counts=counts,
        folds=n_folds,
        cv_accuracy=float(accuracies.mean()),
        cv_accuracy_std=float(accuracies.std()),
    )
    return TrainedSentimentScorer(pipeline), report


def train_sentiment_from_file(path: Path) -> tuple[TrainedSentimentScorer, TrainingReport]:
    """Train from a CSV (header ``text,label``) or JSONL (``{"text": ..., "label": ...}``) file.

    Args:
        path: The labelled file; ``.jsonl``/``.json`` is read as JSON lines, anything else as CSV.

    Returns:
        The scorer and its report, as :func:`train_sentiment`.

    Raises:
        InputError: The file is missing or a row lacks ``text`` or ``label``.
        TrainingError: The labels cannot train a model.

    """
    try:
        raw = path.read_text("utf-8-sig")
    except OSError as exc:
        raise InputError(f"{path}: cannot read labelled texts ({exc})") from exc
    texts: list[str] = []
    labels: list[str] = []
    if path.suffix.lower() in (".jsonl", ".json"):
        for number, line in enumerate(raw.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                texts.append(str(row["text"]))
                labels.append(str(row["label"]))
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise InputError(f'{path}:{number}: expected {{"text": ..., "label": ...}}') from exc
    else:
        reader = csv.DictReader(io.StringIO(raw))
        if not reader.fieldnames or not {"text", "label"} <= set(reader.fieldnames):
            raise InputError(f"{path}: expected a CSV header with columns text,label")
        for number, row in enumerate(reader, start=2):
            if not row.get("text") or not row.get("label"):
                raise InputError(f"{path}:{number}: empty text or label")
            texts.append(row["text"])
            labels.append(row["label"])
    return train_sentiment(texts, labels)
