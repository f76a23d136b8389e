"""How many topics: chosen from the data by consensus across resamples, on TF-IDF document vectors.

Also what both the choice and the fit read the calls with: the TF-IDF vectoriser over koe's topic
tokens, and the document-frequency bounds that keep agent scripts and generic words out of topics.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["MAX_DOCUMENT_SHARE", "MAX_TOPICS", "PAC_TOLERANCE", "choose_topic_count", "document_frequency_bounds", "vectorizer"]

#: Below this many documents one topic is fitted: choosing k needs a few documents per topic.
MIN_DOCUMENTS = 6

#: Most topics the data may choose, and the subsamples and calls the choice is made on.
MAX_TOPICS = 30
CONSENSUS_RESAMPLES = 5
CONSENSUS_MAX_DOCS = 600
#: Terms in more than this share of the calls do not make topics (see document_frequency_bounds).
MAX_DOCUMENT_SHARE = 0.5
#: How much more ambiguous than the most stable k a smaller k may be and still be chosen. Set once
#: from the PAC curves (aggregates only) of the blind sets in bench/data/blind: see docs/topics.md.
PAC_TOLERANCE = 0.05


def _identity(tokens: Sequence[str]) -> Sequence[str]:
    return tokens


def vectorizer(**kwargs: Any) -> Any:
    """A TF-IDF vectoriser over pre-tokenised documents (sublinear tf)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    # Documents are already token lists: no sklearn tokenising or lower-casing of Japanese.
    return TfidfVectorizer(analyzer=_identity, sublinear_tf=True, **kwargs)


def _ambiguity(matrix: Any, k: int, subsamples: Sequence[np.ndarray]) -> float:
    """PAC of k topics: the share of call pairs that resampled fits put together only sometimes.

    Consensus clustering (Monti et al. 2003): NMF from a random start on each subsample, each call
    in its heaviest topic; for every pair of calls seen together, the share of fits that put them
    in one topic. PAC (Senbabaoglu et al. 2014) is the share of pairs whose share lies strictly
    between 0.1 and 0.9: 0 when every fit agrees, higher when topics are arbitrary cuts.
    """
    from sklearn.decomposition import NMF
    from sklearn.exceptions import ConvergenceWarning

    n = matrix.shape[0]
    together = np.zeros((n, n), dtype=np.float32)
    seen = np.zeros((n, n), dtype=np.float32)
    for seed, rows in enumerate(subsamples):
        fit = NMF(n_components=k, init="random", random_state=seed, max_iter=200, tol=1e-3)
        with warnings.catch_warnings():
            # A resample fit only has to say which topic each call leans to, not converge fully.
            warnings.simplefilter("ignore", ConvergenceWarning)
            labels = fit.fit_transform(matrix[rows]).argmax(axis=1)
        block = np.ix_(rows, rows)
        together[block] += labels[:, None] == labels[None, :]
        seen[block] += 1
    upper = np.triu(seen > 0, k=1)
    share = together[upper] / seen[upper]
    return float(((share > 0.1) & (share < 0.9)).mean()) if share.size else 1.0


def _least_ambiguous(scores: dict[int, float]) -> int:
    """The smallest k whose PAC is within :data:`PAC_TOLERANCE` of the lowest PAC in the range."""
    best = min(scores.values())
    return min(k for k, pac in scores.items() if pac <= best + PAC_TOLERANCE)


def choose_topic_count(documents: Sequence[Sequence[str]], *, random_state: int = 0) -> int:
    """Choose the number of topics from the data by consensus across resamples.

    For k = 2..min(30, n_docs // 5) (at least 5 calls a topic on average), NMF is fitted on
    :data:`CONSENSUS_RESAMPLES` random 80 % subsamples and the ambiguity of the consensus (PAC, see
    :func:`_ambiguity`) is measured. Where the calls have k clear reasons, PAC has its minimum
    at k; on real calls it falls steeply while k still merges distinct reasons and slowly once it
    only splits them. The smallest k within :data:`PAC_TOLERANCE` of the lowest PAC is chosen
    (parsimony: of the near-equally stable cuts, the fewest topics). Silhouette on
    the TF-IDF vectors, used before, chose far too few topics on calls koe had not seen (2 for 12
    contact reasons), because long calls share much vocabulary whatever their reason.

    Args:
        documents: Token lists, one per call.
        random_state: Seed of the subsampling and of NMF.

    Returns:
        The chosen k (1 when there are fewer than :data:`MIN_DOCUMENTS` documents).

    """
    if len(documents) < MIN_DOCUMENTS:
        return 1
    rng = np.random.default_rng(random_state)
    # The choice is made on at most CONSENSUS_MAX_DOCS calls: cost stays bounded on long histories.
    pool = list(documents)
    if len(pool) > CONSENSUS_MAX_DOCS:
        pool = [pool[i] for i in sorted(rng.choice(len(pool), CONSENSUS_MAX_DOCS, replace=False))]
    matrix = vectorizer(**document_frequency_bounds(len(pool))).fit_transform(pool)
    upper = min(MAX_TOPICS, len(pool) // 5, matrix.shape[1] - 1)
    if upper < 2:
        return 1
    size = int(0.8 * len(pool))
    subsamples = [np.sort(rng.choice(len(pool), size, replace=False)) for _ in range(CONSENSUS_RESAMPLES)]
    return _least_ambiguous({k: _ambiguity(matrix, k, subsamples) for k in range(2, upper + 1)})


def document_frequency_bounds(n_docs: int) -> dict[str, Any]:
    """Vectoriser bounds for ``n_docs`` calls: terms in over half the calls are left out."""
    # A term in more than half of the calls (greetings, identity checks, お客様, 確認) says nothing
    # about why one call differs from another: phrases that occur across most calls are the agent
    # script, found from the data rather than from a hand list. Tiny corpora keep every term.
    if n_docs < 20:
        return {"min_df": 1}
    return {"min_df": 2, "max_df": MAX_DOCUMENT_SHARE}
