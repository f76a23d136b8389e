"""Records of the insights stage: the facts of a call a customer summary needs, and its results.

Units are in the field names (``start_s``, ``duration_s``); datetimes are timezone-aware UTC.
:func:`jsonable` turns any of these records into the JSON stored in ``customer_summaries.summary``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from koe.records import RiskLevel


@dataclass(frozen=True, slots=True)
class Evidence:
    """A moment of a call a listener can jump to: the call, the time in seconds and what was said (redacted)."""

    call_id: str
    start_s: float
    text: str


@dataclass(frozen=True, slots=True)
class CallTag:
    """A tag hit of a call (see ``koe.records.TagHit``): id, utterance, moment in seconds, redacted evidence."""

    tag: str
    utterance_index: int
    start_s: float
    evidence: str


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What the insights stage needs to know about one processed call.

    Attributes:
        call_id: Stable call identifier.
        started_at: When the call started (timezone-aware).
        duration_s: Length of the call in seconds, when known.
        topic_ids: Topics the call is assigned to, heaviest first (first = the call's topic).
        topic_labels: Labels of ``topic_ids``, same order.
        categories: Rule-based categories matched in the call (distinct, sorted).
        tags: Tag hits, in time order.
        effort_index: Customer effort index 0-100 (``None`` when not scored).
        do_effort: The "do" part of the effort index, 0-100 points.
        feel_effort: The "feel" part of the effort index, 0-100 points.
        customer_sentiment: The customer's mean sentiment in [-1, 1].
        customer_sentiment_start: Mean over the first third of the call, [-1, 1].
        customer_sentiment_end: Mean over the last third of the call, [-1, 1].
        trajectory: ``improving``, ``worsening``, ``positive``, ``negative`` or ``neutral``.
        last_customer_utterance: The customer's last words in the call (redacted), if loaded.

    """

    call_id: str
    started_at: datetime
    duration_s: float | None = None
    topic_ids: tuple[int, ...] = ()
    topic_labels: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    tags: tuple[CallTag, ...] = ()
    effort_index: float | None = None
    do_effort: float | None = None
    feel_effort: float | None = None
    customer_sentiment: float | None = None
    customer_sentiment_start: float | None = None
    customer_sentiment_end: float | None = None
    trajectory: str | None = None
    last_customer_utterance: Evidence | None = None

    @property
    def topic_id(self) -> int | None:
        """The call's main (heaviest) topic, ``None`` when it has none."""
        return self.topic_ids[0] if self.topic_ids else None

    @property
    def tag_set(self) -> frozenset[str]:
        """Distinct tag ids of the call."""
        return frozenset(t.tag for t in self.tags)


@dataclass(frozen=True, slots=True)
class CallPoint:
    """One call on a customer's timeline: sentiment [-1, 1] and effort (0-100) at a moment."""

    call_id: str
    started_at: datetime
    customer_sentiment: float | None
    effort_index: float | None
    trajectory: str | None
    topic_id: int | None
    topic_label: str | None


@dataclass(frozen=True, slots=True)
class RepeatContact:
    """A call that came within the repeat window after the customer's previous call.

    Attributes:
        call_id: The repeat call.
        started_at: When the repeat call started.
        previous_call_id: The call before it.
        gap_s: Time between the two calls' starts, in seconds.
        same_topic: Whether both calls have the same main topic.

    """

    call_id: str
    started_at: datetime
    previous_call_id: str
    gap_s: float
    same_topic: bool


@dataclass(frozen=True, slots=True)
class OpenIssue:
    """A call tagged ``unresolved`` with no later resolved call on the same topic."""

    call_id: str
    started_at: datetime
    topic_id: int | None
    topic_label: str | None
    start_s: float
    evidence: str


@dataclass(frozen=True, slots=True)
class CountedItem:
    """A topic, category or tag with the number of the customer's calls that carry it."""

    key: str
    label: str
    calls: int


@dataclass(frozen=True, slots=True)
class TaggedEvidence:
    """A recent tag hit with its evidence: which tag, which call, when (seconds) and what was said."""

    tag: str
    call_id: str
    started_at: datetime
    start_s: float
    text: str


@dataclass(frozen=True, slots=True)
class CustomerSummary:
    """A customer's VOC summary at ``computed_at`` (definitions in :mod:`insights.summary`)."""

    customer_id: str
    computed_at: datetime
    call_count: int
    first_contact: datetime | None
    last_contact: datetime | None
    contacts_7d: int
    contacts_30d: int
    contacts_90d: int
    repeat_contacts: tuple[RepeatContact, ...]
    repeat_contact_rate: float
    same_topic_repeat_rate: float
    top_topics: tuple[CountedItem, ...]
    top_categories: tuple[CountedItem, ...]
    timeline: tuple[CallPoint, ...]
    sentiment_trend: float | None
    effort_trend: float | None
    recent_sentiment: float | None
    effort_index: float | None
    tag_counts: dict[str, int]
    open_issues: tuple[OpenIssue, ...]
    recent_evidence: tuple[TaggedEvidence, ...]
    last_call: CallPoint | None
    last_customer_utterance: Evidence | None
    tag_counts_90d: dict[str, int] = dataclasses.field(default_factory=dict)
    evidence_by_tag: dict[str, tuple[TaggedEvidence, ...]] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ChurnReason:
    """Why a score is what it is: a factor, its contribution to the score and the evidence behind it."""

    factor: str
    contribution: float
    evidence: tuple[Evidence, ...] = ()
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ChurnRisk:
    """A churn score in [0, 1], its level, its reasons (largest first) and the model version that made it."""

    score: float
    level: RiskLevel
    reasons: tuple[ChurnReason, ...]
    model_version: str

    @property
    def top_reason(self) -> str | None:
        """The factor of the largest reason, ``None`` when nothing contributed."""
        return self.reasons[0].factor if self.reasons else None


def jsonable(value: Any) -> Any:
    """A JSON-ready copy of a record (dataclasses to dicts, datetimes to ISO 8601, tuples to lists)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        return [jsonable(v) for v in value]
    if isinstance(value, float):
        return round(value, 4)
    return value
