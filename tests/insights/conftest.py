from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from insights.records import CallFacts, CallTag, CallUtterance

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

TOPIC_LABELS = {1: "請求・料金", 2: "ログインできない", 3: "配送の遅れ"}
QUOTES = {
    "churn_intent": "他社に乗り換えようと思ってます",
    "unresolved": "確認して折り返しご連絡します",
    "escalation_request": "上の者に代わってください",
    "anger": "いい加減にしてください",
    "repeat_contact": "先週も電話したんですけど",
    "transfer": "担当部署におつなぎします",
}

CallFactory = Callable[..., CallFacts]


#: Sentiment label of a score, as textmining's scorer labels it (threshold 0.15).
def _label(score: float) -> str:
    return "negative" if score <= -0.15 else "positive" if score >= 0.15 else "neutral"


def make_utterances(*lines: tuple[str, str] | tuple[str, str, float]) -> tuple[CallUtterance, ...]:
    """Utterances from ``(speaker, text[, sentiment])`` lines, 10 s apart (index i starts at 10 * i)."""
    made = []
    for i, line in enumerate(lines):
        speaker, text = line[0], line[1]
        score = float(line[2]) if len(line) > 2 else 0.0  # type: ignore[misc]
        made.append(CallUtterance(i, speaker, 10.0 * i, text, score, _label(score)))
    return tuple(made)


def make_hit(tag: str, utterances: tuple[CallUtterance, ...], index: int, marked: str) -> CallTag:
    """A tag hit on utterance ``index``, its evidence the sentence with ``marked`` in 【】."""
    text = utterances[index].text
    return CallTag(tag, index, utterances[index].start_s, text.replace(marked, f"【{marked}】", 1))


def make_call(
    call_id: str,
    days_ago: float,
    *,
    topic: int | None = 1,
    tags: tuple[str, ...] = (),
    sentiment: float | None = 0.1,
    effort: float | None = 10.0,
    trajectory: str = "neutral",
    hits: tuple[CallTag, ...] = (),
    **extra: Any,
) -> CallFacts:
    return CallFacts(
        call_id=call_id,
        started_at=NOW - timedelta(days=days_ago),
        duration_s=300.0,
        topic_ids=(topic,) if topic is not None else (),
        topic_labels=(TOPIC_LABELS[topic],) if topic is not None else (),
        tags=tuple(CallTag(tag, i, 10.0 * (i + 1), QUOTES.get(tag, tag)) for i, tag in enumerate(tags))
        + hits,
        effort_index=effort,
        customer_sentiment=sentiment,
        trajectory=trajectory,
        **extra,
    )


@pytest.fixture
def call() -> CallFactory:
    return make_call
