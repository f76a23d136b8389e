"""Topic discovery over calls: TF-IDF + NMF on content-word lemmas, versioned and refit-stable.

A call is one document (``textmining.topic_documents``). The fitted
:class:`TopicModel` is plain data (``to_dict``/``from_dict`` give JSON) so the database can store
every version; :func:`assign_topics` scores new calls against it without scikit-learn state, and
:mod:`textmining.topic_ids` carries topic ids across refits by top-term overlap so trends survive.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from koe.errors import TrainingError
from koe.records import TopicWeight

__all__ = [
    "MIN_DOCUMENTS",
    "TopicModel",
    "assign_topics",
    "choose_topic_count",
    "fit_topic_model",
    "jaccard",
    "model_arrays",
    "topic_distribution",
]

#: Below this many documents, ``fit_topic_model`` (with ``n_topics=None``) fits a single topic:
#: choosing k needs at least a few documents per topic.
MIN_DOCUMENTS = 6
#: Terms per topic kept in ``top_terms`` and compared by :func:`map_topics`.
TOP_TERMS = 10
#: Terms joined with ・ into a topic's label.
LABEL_TERMS = 3

@dataclass(frozen=True, slots=True)
class TopicModel:
    """A fitted topic model as plain, JSON-serialisable data.

    Attributes:
        version: Content hash of vocabulary and components (``topics-<12 hex>``); a refit on
            the same data gives the same version.
        vocabulary: Terms (content-word lemmas), the columns of ``components`` and ``idf``.
        idf: Inverse document frequency per term (scikit-learn's smoothed idf).
        components: Topic-term weights, one row per topic (NMF's ``H``), non-negative.
        topic_ids: Stable id per topic row; kept across refits by :func:`map_topics`.
        labels: Readable label per topic: its top terms joined by ・.
        top_terms: The highest-weighted terms per topic, best first.

    """

    version: str
    vocabulary: tuple[str, ...]
    idf: tuple[float, ...]
    components: tuple[tuple[float, ...], ...]
    topic_ids: tuple[int, ...]
    labels: tuple[str, ...]
    top_terms: tuple[tuple[str, ...], ...]

    @property
    def n_topics(self) -> int:
        """Number of topics."""
        return len(self.components)

    def label_of(self, topic_id: int) -> str:
        """Label of the topic with id ``topic_id``."""
        return self.labels[self.topic_ids.index(topic_id)]

    def to_dict(self) -> dict[str, Any]:
        """Return the model as a JSON-serialisable dict."""
        return {
            "version": self.version,
            "vocabulary": list(self.vocabulary),
            "idf": list(self.idf),
            "components": [list(row) for row in self.components],
            "topic_ids": list(self.topic_ids),
            "labels": list(self.labels),
            "top_terms": [list(terms) for terms in self.top_terms],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TopicModel:
        """Rebuild a model from :meth:`to_dict` output.

        Raises:
            TrainingError: The dict is missing fields or its shapes disagree.

        """
        try:
            model = cls(
                version=str(data["version"]),
                vocabulary=tuple(data["vocabulary"]),
                idf=tuple(float(x) for x in data["idf"]),
                components=tuple(tuple(float(x) for x in row) for row in data["components"]),
                topic_ids=tuple(int(x) for x in data["topic_ids"]),
                labels=tuple(data["labels"]),
                top_terms=tuple(tuple(terms) for terms in data["top_terms"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TrainingError(f"stored topic model is malformed ({exc}); refit the topics") from exc
        width = len(model.vocabulary)
        if len(model.idf) != width or any(len(row) != width for row in model.components):
            raise TrainingError("stored topic model has inconsistent shapes; refit the topics")
        return model


def _identity(tokens: Sequence[str]) -> Sequence[str]:
    return tokens


def _vectorizer(**kwargs: Any) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    # Documents are already token lists: no sklearn tokenising or lower-casing of Japanese.
    return TfidfVectorizer(analyzer=_identity, sublinear_tf=True, **kwargs)


def _nmf(matrix: Any, k: int, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.decomposition import NMF

    model = NMF(n_components=k, init="nndsvda", random_state=random_state, max_iter=400, tol=1e-4)
    weights = model.fit_transform(matrix)
    return weights, model.components_


def _top_terms(components: np.ndarray, vocabulary: Sequence[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(vocabulary[j] for j in np.argsort(-row)[:n] if row[j] > 0) for row in components]


def _separation(matrix: Any, k: int, random_state: int) -> float:
    """Silhouette (cosine) of the documents grouped by their heaviest topic; -1 if degenerate."""
    from sklearn.metrics import silhouette_score

    weights, _ = _nmf(matrix, k, random_state)
    labels = weights.argmax(axis=1)
    if not 1 < len(set(labels.tolist())) < matrix.shape[0]:
        return -1.0
    return float(silhouette_score(matrix, labels, metric="cosine", random_state=random_state))


def jaccard(a: set[str], b: set[str]) -> float:
    """Jaccard similarity (0-1) of two term sets; 0 when both are empty."""
    return len(a & b) / len(a | b) if a or b else 0.0


def choose_topic_count(documents: Sequence[Sequence[str]], *, random_state: int = 0) -> int:
    """Choose the number of topics from the data by how cleanly topics separate the calls.

    For k = 2..min(12, n_docs // 3), NMF is fitted, each call is put in its heaviest topic,
    and the cosine silhouette of those groups over the TF-IDF vectors is computed. Topics that
    split one theme in two (or merge two) lower it. The smallest k within 0.02 of the best
    silhouette wins (parsimony: fewer, broader topics read better in reports). Subsample
    stability (Greene et al. 2014) was tried first and found to prefer too many topics on
    small corpora, where sentence-level topics are stable too.

    Args:
        documents: Token lists, one per call.
        random_state: Seed of NMF.

    Returns:
        The chosen k (1 when there are fewer than :data:`MIN_DOCUMENTS` documents).

    """
    if len(documents) < MIN_DOCUMENTS:
        return 1
    matrix = _vectorizer(min_df=1).fit_transform(documents)
    upper = min(12, len(documents) // 3, matrix.shape[1] - 1)
    if upper < 2:
        return 1
    scored = [(k, _separation(matrix, k, random_state)) for k in range(2, upper + 1)]
    best = max(score for _, score in scored)
    return min(k for k, score in scored if score >= best - 0.02)


def fit_topic_model(
    documents: Sequence[Sequence[str]], *, n_topics: int | None = None, random_state: int = 0
) -> TopicModel:
    """Fit TF-IDF + NMF topics over pre-tokenised documents.

    Args:
        documents: One token list per call (see :func:`document_tokens`).
        n_topics: Number of topics; ``None`` chooses it by stability
            (:func:`choose_topic_count`). With fewer than :data:`MIN_DOCUMENTS` documents and
            ``n_topics=None`` a single topic is fitted.
        random_state: Seed of NMF and of the choice of k.

    Returns:
        The model; topic ids are 0..k-1 (use :func:`map_topics` and :func:`renumber_topics` to
        keep the ids of a previous model).

    Raises:
        TrainingError: No document has tokens, or ``n_topics`` exceeds the documents or terms.

    """
    docs = [list(d) for d in documents if d]
    if not docs:
        raise TrainingError("no call has content tokens; ingest and analyse calls before fitting topics")
    k = choose_topic_count(docs, random_state=random_state) if n_topics is None else n_topics
    vectorizer = _vectorizer(min_df=2 if len(docs) >= 20 else 1)
    try:
        matrix = vectorizer.fit_transform(docs)
    except ValueError:
        vectorizer = _vectorizer(min_df=1)
        matrix = vectorizer.fit_transform(docs)
    vocabulary = tuple(str(t) for t in vectorizer.get_feature_names_out())
    if k < 1 or k > min(len(docs), len(vocabulary)):
        raise TrainingError(
            f"cannot fit {k} topics on {len(docs)} calls with {len(vocabulary)} distinct terms; "
            "set KOE_TOPIC_COUNT lower or leave it unset"
        )
    _, components = _nmf(matrix, k, random_state)
    # Unit-length rows make weights comparable across topics and refits.
    norms = np.linalg.norm(components, axis=1, keepdims=True)
    components = components / np.where(norms > 0, norms, 1.0)
    top = _top_terms(components, vocabulary, TOP_TERMS)
    labels = tuple("・".join(terms[:LABEL_TERMS]) or f"topic {i}" for i, terms in enumerate(top))
    rounded = tuple(tuple(round(float(x), 6) for x in row) for row in components)
    idf = tuple(round(float(x), 6) for x in vectorizer.idf_)
    digest = hashlib.sha256(json.dumps([vocabulary, rounded], ensure_ascii=False).encode()).hexdigest()
    return TopicModel(
        version=f"topics-{digest[:12]}",
        vocabulary=vocabulary,
        idf=idf,
        components=rounded,
        topic_ids=tuple(range(k)),
        labels=labels,
        top_terms=tuple(top),
    )


@lru_cache(maxsize=8)
def model_arrays(model: TopicModel) -> tuple[dict[str, int], np.ndarray, np.ndarray]:
    """The model as arrays: term -> column, idf per term, components (topics x terms); cached."""
    index = {term: i for i, term in enumerate(model.vocabulary)}
    return index, np.asarray(model.idf), np.asarray(model.components)


def topic_distribution(model: TopicModel, tokens: Sequence[str]) -> np.ndarray:
    """Non-negative topic weights of one document, summing to 1 (all zeros when unknown words only).

    The document is TF-IDF weighted as at fit time (sublinear tf, l2-normalised) and projected
    on the fixed components by non-negative least squares, as NMF's ``transform`` does.
    """
    from scipy.optimize import nnls

    index, idf, components = model_arrays(model)
    counts = Counter(t for t in tokens if t in index)
    if not counts:
        return np.zeros(model.n_topics)
    vector = np.zeros(len(index))
    for term, count in counts.items():
        vector[index[term]] = (1.0 + math.log(count)) * idf[index[term]]
    vector /= np.linalg.norm(vector)
    weights, _ = nnls(components.T, vector)
    total = weights.sum()
    return weights / total if total > 0 else weights


def assign_topics(
    model: TopicModel, document_tokens: Sequence[str], *, min_weight: float = 0.1
) -> tuple[TopicWeight, ...]:
    """Assign a call to the current model's topics.

    Args:
        model: The current topic model.
        document_tokens: The call's tokens (see :func:`document_tokens`).
        min_weight: Smallest normalised weight (0-1) kept.

    Returns:
        Topics with weight >= ``min_weight``, heaviest first, weights renormalised to sum to 1;
        empty when none of the call's terms is in the model's vocabulary.

    """
    weights = topic_distribution(model, document_tokens)
    keep = [(i, w) for i, w in enumerate(weights) if w >= min_weight]
    total = sum(w for _, w in keep)
    return tuple(
        TopicWeight(topic_id=model.topic_ids[i], label=model.labels[i], weight=round(float(w / total), 4))
        for i, w in sorted(keep, key=lambda item: -item[1])
    )
