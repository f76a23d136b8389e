"""The trained sentiment scorer: a scikit-learn classifier fitted on the user's labelled utterances.

:func:`train_sentiment` (or :func:`train_sentiment_from_file`, for a CSV or JSONL of labels) fits a
character n-gram TF-IDF + logistic regression pipeline and cross-validates it;
:class:`TrainedSentimentScorer` wraps the fitted pipeline as a
:class:`~textmining.sentiment.SentimentScorer`, so it replaces the lexicon scorer as it is.
"""

from __future__ import annotations

import csv
import io
import json
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from koe.errors import InputError, TrainingError
from koe.records import SentimentLabel
from textmining.normalise import normalise_text

__all__ = [
    "MIN_PER_CLASS",
    "MIN_TRAINING_TEXTS",
    "TrainedSentimentScorer",
    "TrainingReport",
    "train_sentiment",
    "train_sentiment_from_file",
]

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
