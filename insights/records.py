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
class CallUtterance:
    """One utterance of a call as the brief reads it: who, when (s), what (redacted), how it felt.

    Attributes:
        index: Position of the utterance in the call (``TagHit.utterance_index`` points here).
        speaker: ``customer``, ``agent`` or ``unknown``.
        start_s: Start of the utterance in the recording, in seconds.
        text: The redacted text.
        sentiment: Sentiment score in [-1, 1].
        sentiment_label: ``negative``, ``neutral`` or ``positive`` (the scorer's label of ``sentiment``).

    """

    index: int
    speaker: str
    start_s: float
    text: str
    sentiment: float = 0.0
    sentiment_label: str = "neutral"


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
        utterances: The call's utterances in order, loaded for a customer's newest calls only
            (``models.call_facts.UTTERANCE_CALLS``); empty for older calls.

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
    utterances: tuple[CallUtterance, ...] = ()

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
    """A call tagged ``unresolved`` with no later resolved call on the same reason.

    Attributes:
        call_id: The call that left the issue open.
        started_at: When that call started.
        topic_id: Its main topic, ``None`` when it has none.
        topic_label: The label of ``topic_id``.
        start_s: Start of the ``unresolved`` evidence, in seconds.
        evidence: The sentence of the ``unresolved`` hit, matched span marked 【like this】.
        categories: The call's categories (its reason when it has no topic).
        promise: What was promised or left open: ``evidence`` without the 【】 marks.
        outcome: ``callback_promised`` (the agent promised to come back) or ``still_broken``.
        summary: One line for people: date, reason and the promise.

    """

    call_id: str
    started_at: datetime
    topic_id: int | None
    topic_label: str | None
    start_s: float
    evidence: str
    categories: tuple[str, ...] = ()
    promise: str = ""
    outcome: str = ""
    summary: str = ""


@dataclass(frozen=True, slots=True)
class Trend:
    """A per-call slope and the direction it means (see :mod:`insights.trend`).

    Attributes:
        slope_per_call: Least-squares slope, in the value's units per call (``None``: too few calls).
        direction: ``worsening``, ``improving`` or ``flat`` (``None`` with no slope).
        label: ``direction`` in plain Japanese, with the slope (e.g. 「悪化傾向（-0.12/通話）」).

    """

    slope_per_call: float | None
    direction: str | None
    label: str


@dataclass(frozen=True, slots=True)
class NegativeMoment:
    """A customer utterance the sentiment scorer labelled negative, in a call that makes a trend."""

    call_id: str
    started_at: datetime
    utterance_index: int
    start_s: float
    text: str
    sentiment: float


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
class CallSummary:
    """One line about one call: why the customer called, what the agent did and how it ended.

    Attributes:
        call_id: The call.
        started_at: When it started.
        topic_label: Its main topic's label, ``None`` when it has none.
        reason: The customer's sentence that states the reason (redacted), ``None`` when unknown.
        reason_start_s: Where ``reason`` was said, in seconds.
        action: The agent's sentence that says what was done, ``None`` when unknown.
        action_start_s: Where ``action`` was said, in seconds.
        outcome: ``resolved``, ``callback_promised`` or ``still_broken`` (from the call's tags).
        outcome_label: ``outcome`` in plain Japanese.
        line: The one-line summary for people.

    """

    call_id: str
    started_at: datetime
    topic_label: str | None
    reason: str | None
    reason_start_s: float | None
    action: str | None
    action_start_s: float | None
    outcome: str
    outcome_label: str
    line: str


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
    sentiment_trend_detail: Trend | None = None
    effort_trend_detail: Trend | None = None
    negative_moments: tuple[NegativeMoment, ...] = ()
    calls: tuple[CallSummary, ...] = ()


@dataclass(frozen=True, slots=True)
class ChurnReason:
    """Why a score is what it is: a factor, its contribution to the score and the evidence behind it."""

    factor: str
    contribution: float
    evidence: tuple[Evidence, ...] = ()
    detail: str = ""
    #: What drove the signal: ``trend``, ``level``, ``ending`` or ``flat`` (empty: the factor itself).
    basis: str = ""


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
