"""One call's sentiment: per-speaker means over evaluative utterances and the customer's trajectory."""

from __future__ import annotations

from collections.abc import Sequence

from koe.errors import InputError
from koe.records import SentimentSummary, Trajectory, Utterance
from textmining.sentiment import score_label

__all__ = ["EVALUATIVE_MIN", "TRAJECTORY_DELTA", "summarise_sentiment"]

#: A change of at least this much between the customer's first and last third is a trajectory.
TRAJECTORY_DELTA = 0.25
#: Utterances scoring closer to 0 than this say nothing evaluative and are left out of means.
EVALUATIVE_MIN = 0.05


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
