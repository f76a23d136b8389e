"""Topic ids that keep their meaning across refits, so a topic's weekly trend survives a new model.

A refit's topics are matched one-to-one to the previous model's by top-term overlap; matches keep
the old id, the others get ids never used before (not even by a topic an earlier version retired).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from textmining.topics import TopicModel, jaccard

__all__ = ["carry_topic_ids", "map_topics", "renumber_topics"]


def map_topics(previous: TopicModel, new: TopicModel, *, min_overlap: float = 0.2) -> dict[int, int]:
    """Map a refit's topics to the previous model's ids by top-term overlap.

    Topics are matched one-to-one (Hungarian assignment on the Jaccard similarity of their
    ``top_terms``); a pair below ``min_overlap`` does not match. Unmatched new topics get fresh
    ids above every previous id, so an id never changes meaning.

    Args:
        previous: The model in use so far.
        new: The refit.
        min_overlap: Smallest Jaccard similarity (0-1) of top terms that counts as the same topic.

    Returns:
        ``{new topic index: topic id}`` for every topic of ``new``.

    """
    from scipy.optimize import linear_sum_assignment

    sim = np.array([[jaccard(set(a), set(b)) for b in previous.top_terms] for a in new.top_terms])
    mapping: dict[int, int] = {}
    if sim.size:
        rows, cols = linear_sum_assignment(-sim)
        for r, c in zip(rows, cols, strict=True):
            if sim[r, c] >= min_overlap:
                mapping[int(r)] = previous.topic_ids[int(c)]
    next_id = max(previous.topic_ids, default=-1) + 1
    for i in range(new.n_topics):
        if i not in mapping:
            mapping[i] = next_id
            next_id += 1
    return dict(sorted(mapping.items()))


def renumber_topics(model: TopicModel, mapping: dict[int, int]) -> TopicModel:
    """Return ``model`` with topic ids from :func:`map_topics` (``{index: id}``)."""
    return replace(model, topic_ids=tuple(mapping[i] for i in range(model.n_topics)))


def carry_topic_ids(previous: TopicModel | None, new: TopicModel, *, highest_id: int) -> TopicModel:
    """``new`` with the ids of the previous model's matching topics and fresh ids for the rest.

    Args:
        previous: The model in use so far (``None`` before the first fit).
        new: The refit, numbered 0..k-1.
        highest_id: The highest topic id any stored version ever used (-1 when none).

    Returns:
        ``new`` renumbered: matched topics keep their id; a fresh topic never reuses the id of a
        topic retired by any earlier version.

    """
    kept: set[int] = set()
    if previous is not None:
        mapping = map_topics(previous, new)
        kept = {topic_id for topic_id in mapping.values() if topic_id in previous.topic_ids}
    else:
        mapping = {index: index for index in range(new.n_topics)}
    next_id = highest_id + 1
    for index, topic_id in sorted(mapping.items()):
        if topic_id not in kept:
            mapping[index], next_id = next_id, next_id + 1
    return renumber_topics(new, mapping)
