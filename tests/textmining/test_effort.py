from __future__ import annotations

import pytest

from koe.records import CallMetrics, SentimentSummary, TagHit
from textmining.effort import effort_index


def hit(tag: str) -> TagHit:
    return TagHit(tag, 0, 0.0, "x")


def summary(trajectory: str) -> SentimentSummary:
    return SentimentSummary(None, None, None, None, trajectory)  # type: ignore[arg-type]


def metrics(hold_s: float) -> CallMetrics:
    return CallMetrics(600, 100, 100, 0, 0.5, 0, 0, 0, 0, 0, 0, 1 if hold_s else 0, hold_s, 10, None, None)


def test_quiet_call_is_zero() -> None:
    score = effort_index([], metrics(0), summary("positive"))
    assert (score.index, score.do_effort, score.feel_effort, score.components) == (0, 0, 0, ())


@pytest.mark.parametrize(
    ("tags", "hold_s", "trajectory", "do", "feel"),
    [
        (["repeat_contact"], 0, "neutral", 14, 0),
        (["repeat_contact", "repeat_contact"], 0, "neutral", 14, 0),  # a tag counts once
        (["hold"], 150, "neutral", 6, 0),  # 4 + 2 full minutes
        (["hold"], 3600, "neutral", 10, 0),  # capped
        (["anger", "escalation_request"], 0, "worsening", 0, 34),
        ([], 0, "negative", 0, 6),
    ],
)
def test_points(tags: list[str], hold_s: float, trajectory: str, do: float, feel: float) -> None:
    score = effort_index([hit(t) for t in tags], metrics(hold_s), summary(trajectory))
    assert (score.do_effort, score.feel_effort) == (do, feel)
    assert score.index == sum(p for _, p in score.components) == do + feel


def test_everything_is_100() -> None:
    tags = ["repeat_contact", "repeat_explanation", "transfer", "channel_switch", "long_wait", "unresolved",
            "hold", "anger", "escalation_request"]
    assert effort_index([hit(t) for t in tags], metrics(3600), summary("worsening")).index == 100
