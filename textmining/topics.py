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
from textmining.topic_count import choose_topic_count, document_frequency_bounds
from textmining.topic_count import vectorizer as tfidf_vectorizer
from textmining.topic_seeds import TopicSeed, seed_terms

__all__ = [
    "TopicModel",
    "assign_topics",
    "fit_topic_model",
    "is_label_term",
    "jaccard",
    "model_arrays",
    "primary_topic",
    "topic_distribution",
]

#: Terms per topic kept in ``top_terms`` and compared by :func:`map_topics`.
TOP_TERMS = 10
#: Noun terms joined with ・ into a topic's label, chosen from this many of its heaviest terms.
LABEL_TERMS = 3
LABEL_CANDIDATES = 30
#: A call's heaviest topic is its primary contact reason when it holds at least this share of the
#: call's topic weight; a call spread thinly over many topics (or with none) is 「その他」.
PRIMARY_MIN_SHARE = 0.3
#: A seeded topic keeps its known reason's name while one of its words is among this many top terms.
SEED_KEPT_WITHIN = 10

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
        labels: Readable label per topic: a known reason's name, or its top noun terms joined by ・.
        top_terms: The highest-weighted terms per topic, best first.
        origins: Per topic, the name of the known reason it grew from (``textmining.topic_seeds``),
            or ``""`` for a topic discovered from the data; empty for models fitted without seeds.

    """

    version: str
    vocabulary: tuple[str, ...]
    idf: tuple[float, ...]
    components: tuple[tuple[float, ...], ...]
    topic_ids: tuple[int, ...]
    labels: tuple[str, ...]
    top_terms: tuple[tuple[str, ...], ...]
    origins: tuple[str, ...] = ()

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
            "origins": list(self.origins),
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
                origins=tuple(str(o) for o in data.get("origins", ())),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TrainingError(f"stored topic model is malformed ({exc}); refit the topics") from exc
        width = len(model.vocabulary)
        if len(model.idf) != width or any(len(row) != width for row in model.components):
            raise TrainingError("stored topic model has inconsistent shapes; refit the topics")
        return model


def _nmf(matrix: Any, k: int, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.decomposition import NMF

    model = NMF(n_components=k, init="nndsvda", random_state=random_state, max_iter=400, tol=1e-4)
    weights = model.fit_transform(matrix)
    return weights, model.components_


def _top_terms(components: np.ndarray, vocabulary: Sequence[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(vocabulary[j] for j in np.argsort(-row)[:n] if row[j] > 0) for row in components]


def is_label_term(term: str) -> bool:
    """Whether a topic term may stand in a label: a noun phrase made of dictionary words.

    Verbs and adjectives (変える, 届く) describe what happens in any call; a label names what the
    calls are about. A compound whose parts are two or more single kanji (成旧 read as 成 + 旧) is
    how UniDic splits a recogniser's misspelling, not a word, and is left out too.
    """
    from textmining.tokens import tokenize

    tokens = tokenize(term)
    if not tokens or tokens[0].pos != "名詞":
        return False
    if any(t.pos not in ("名詞", "接尾辞") for t in tokens):
        return False
    fragments = sum(1 for t in tokens if t.pos2 == "普通名詞" and len(t.surface) == 1 and "一" <= t.surface <= "龥")
    return fragments < 2


def jaccard(a: set[str], b: set[str]) -> float:
    """Jaccard similarity (0-1) of two term sets; 0 when both are empty."""
    return len(a & b) / len(a | b) if a or b else 0.0


def _seeded_nmf(matrix: Any, k: int, seed_rows: np.ndarray, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    """NMF whose first components start from known reasons' words, the rest from the data."""
    from sklearn.decomposition import NMF

    n_seeds = seed_rows.shape[0]
    scale = float(matrix.max()) or 1.0
    start = np.full((k, matrix.shape[1]), 1e-6)
    start[:n_seeds] += seed_rows * scale
    if k > n_seeds:
        # The other components start from what the known reasons' words do not explain: fitted
        # with those words' columns zeroed, they cannot start on a known reason again.
        rest = matrix.tolil(copy=True) if hasattr(matrix, "tolil") else matrix.copy()
        rest[:, np.flatnonzero(seed_rows.sum(axis=0))] = 0
        _, discovered = _nmf(rest.tocsr() if hasattr(rest, "tocsr") else rest, k - n_seeds, random_state)
        start[n_seeds:] += discovered
    weights = np.maximum(matrix @ start.T, 1e-6)
    model = NMF(n_components=k, init="custom", max_iter=400, tol=1e-4, random_state=random_state)
    fitted = model.fit_transform(matrix, W=np.ascontiguousarray(weights), H=start)
    return fitted, model.components_


def fit_topic_model(
    documents: Sequence[Sequence[str]],
    *,
    n_topics: int | None = None,
    random_state: int = 0,
    seeds: Sequence[TopicSeed] = (),
) -> TopicModel:
    """Fit TF-IDF + NMF topics over pre-tokenised documents.

    Args:
        documents: One token list per call (see :func:`document_tokens`).
        n_topics: Number of topics; ``None`` chooses it by stability
            (:func:`textmining.topic_count.choose_topic_count`). With fewer than six documents and
            ``n_topics=None`` a single topic is fitted.
        random_state: Seed of NMF and of the choice of k.
        seeds: Known contact reasons (:mod:`textmining.topic_seeds`): each starts one component
            from its words; at least one topic per known reason, the rest discovered. A known
            reason keeps its name as label while one of its words still leads the topic's terms.

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
    vectorizer = tfidf_vectorizer(**document_frequency_bounds(len(docs)))
    try:
        matrix = vectorizer.fit_transform(docs)
    except ValueError:
        vectorizer = tfidf_vectorizer(min_df=1)
        matrix = vectorizer.fit_transform(docs)
    vocabulary = tuple(str(t) for t in vectorizer.get_feature_names_out())
    if k < 1 or k > min(len(docs), len(vocabulary)):
        raise TrainingError(
            f"cannot fit {k} topics on {len(docs)} calls with {len(vocabulary)} distinct terms; "
            "set KOE_TOPIC_COUNT lower or leave it unset"
        )
    column = {term: j for j, term in enumerate(vocabulary)}
    known = [(seed, [column[t] for t in seed_terms(seed) if t in column]) for seed in seeds]
    known = [(seed, columns) for seed, columns in known if columns]  # a reason nobody mentions: no topic
    if known:
        k = min(max(k, len(known)), len(docs), len(vocabulary))
        rows = np.zeros((len(known), len(vocabulary)))
        for i, (_, columns) in enumerate(known):
            rows[i, columns] = 1.0 / len(columns) ** 0.5
        _, components = _seeded_nmf(matrix, k, rows, random_state)
    else:
        _, components = _nmf(matrix, k, random_state)
    # Unit-length rows make weights comparable across topics and refits.
    norms = np.linalg.norm(components, axis=1, keepdims=True)
    components = components / np.where(norms > 0, norms, 1.0)
    top = _top_terms(components, vocabulary, TOP_TERMS)
    candidates = _top_terms(components, vocabulary, LABEL_CANDIDATES)
    labels = [
        "・".join([t for t in terms if is_label_term(t)][:LABEL_TERMS]) or "・".join(top[i][:LABEL_TERMS]) or f"topic {i}"
        for i, terms in enumerate(candidates)
    ]
    origins = [""] * k if known else []
    for i, (seed, columns) in enumerate(known):
        # The fit may pull a seeded component onto another reason: it keeps the name only while
        # one of the reason's words is still among the topic's leading terms.
        if {vocabulary[j] for j in columns} & set(top[i][:SEED_KEPT_WITHIN]):
            labels[i], origins[i] = seed.name, seed.name
    rounded = tuple(tuple(round(float(x), 6) for x in row) for row in components)
    idf = tuple(round(float(x), 6) for x in vectorizer.idf_)
    digest = hashlib.sha256(json.dumps([vocabulary, rounded], ensure_ascii=False).encode()).hexdigest()
    return TopicModel(
        version=f"topics-{digest[:12]}",
        vocabulary=vocabulary,
        idf=idf,
        components=rounded,
        topic_ids=tuple(range(k)),
        labels=tuple(labels),
        top_terms=tuple(top),
        origins=tuple(origins),
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


def primary_topic(weights: Sequence[TopicWeight], *, min_share: float = PRIMARY_MIN_SHARE) -> TopicWeight | None:
    """A call's primary topic: its heaviest, when that holds ``min_share`` of its weight; else ``None`` (その他).

    Args:
        weights: The call's topic weights from :func:`assign_topics` (renormalised, any order).
        min_share: Smallest share (0-1) of the call's topic weight the primary topic must hold.

    Returns:
        The primary topic with its weight as the confidence, or ``None``.

    """
    if not weights:
        return None
    top = max(weights, key=lambda w: (w.weight, -w.topic_id))
    return top if top.weight >= min_share else None
