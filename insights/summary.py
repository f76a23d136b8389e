"""A customer's VOC summary from the facts of their calls.

Definitions (every count is over the customer's processed calls, ordered by ``started_at``):

- *contacts in the last D days*: calls with ``now - D days <= started_at <= now``.
- *repeat contact*: a call that starts **at most** :data:`REPEAT_WINDOW` (7 days, inclusive: a gap
  of exactly 7 days counts, 7 days and 1 second does not) after the customer's previous call. It is
  *about the same topic* when both calls have the same main (heaviest) topic. The repeat-contact
  rate is repeat calls / all calls (so a single call gives 0), the same-topic rate likewise.
- *trend*: the least-squares slope of a per-call value over the customer's last
  :data:`TREND_CALLS` calls that have the value, per call (sentiment units or effort points per
  call); ``None`` with fewer than two values. The sign convention and the words for it are
  :mod:`insights.trend`'s: a positive slope is a value rising towards the newest call, so positive
  effort trend = rising effort (worsening), negative sentiment trend = worsening sentiment.
- *effort index* and *recent sentiment*: means over the same last calls.
- *tag counts*: how many calls carry each tag (a tag counts once per call).
- *open issue*: a call tagged ``unresolved`` that no later call on the same *reason* resolved, i.e.
  no later call on that reason without ``unresolved``. A call's reason is its main topic; a call
  without a topic is about its categories (a later call sharing one of them is on the same reason).
  A call with neither has no known reason, and no later call can be shown to have resolved it: it
  stays open (before the first topic model, "any later call" closed every promise).
- *negative moments*: the customer's utterances labelled ``negative`` in the calls that make the
  sentiment trend, most negative first (the evidence of a worsening sentiment).
- *calls*: one-line summaries (:mod:`insights.call_summary`) of the last :data:`TREND_CALLS` calls, newest first.
- *recent evidence*: the tag hits of the newest calls, newest call first, in time order within a call.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import pairwise

from insights.call_summary import call_outcome, negative_moments, plain_evidence, promise_hit, summarise_call
from insights.labels import OUTCOME_LABELS
from insights.records import (
    CallFacts,
    CallPoint,
    CountedItem,
    CustomerSummary,
    OpenIssue,
    RepeatContact,
    TaggedEvidence,
)
from insights.trend import describe_trend

#: A call this soon (inclusive) after the previous one is a repeat contact.
REPEAT_WINDOW = timedelta(days=7)
#: Trends and recent means are taken over this many of the newest calls.
TREND_CALLS = 5
#: Topics, categories and evidence quotes kept in a summary.
TOP_N = 5
#: Evidence hits kept per tag (newest first).
EVIDENCE_PER_TAG = 3
#: The window of the ``tag_counts_90d`` counts, in days.
RECENT_DAYS = 90


def slope(values: Sequence[float]) -> float | None:
    """Least-squares slope of ``values`` against their position 0, 1, 2, ... (units per step).

    Returns:
        The slope, or ``None`` with fewer than two values.

    """
    n = len(values)
    if n < 2:
        return None
    mean_x = (n - 1) / 2
    mean_y = sum(values) / n
    sxx = sum((i - mean_x) ** 2 for i in range(n))
    sxy = sum((i - mean_x) * (v - mean_y) for i, v in enumerate(values))
    return sxy / sxx


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def find_repeat_contacts(calls: Sequence[CallFacts]) -> tuple[RepeatContact, ...]:
    """The calls that came within :data:`REPEAT_WINDOW` (inclusive) of the customer's previous call.

    Args:
        calls: The customer's calls in ``started_at`` order.

    """
    repeats = []
    for previous, call in pairwise(calls):
        gap = call.started_at - previous.started_at
        if gap <= REPEAT_WINDOW:
            same = call.topic_id is not None and call.topic_id == previous.topic_id
            repeats.append(
                RepeatContact(call.call_id, call.started_at, previous.call_id, gap.total_seconds(), same)
            )
    return tuple(repeats)


def _same_reason(issue: CallFacts, later: CallFacts) -> bool:
    if issue.topic_id is not None:
        return later.topic_id == issue.topic_id
    return bool(set(issue.categories) & set(later.categories))


def _reason_label(call: CallFacts) -> str:
    if call.topic_labels:
        return call.topic_labels[0]
    return "・".join(call.categories) or "用件不明"


def find_open_issues(calls: Sequence[CallFacts]) -> tuple[OpenIssue, ...]:
    """Calls tagged ``unresolved`` that no later call on the same reason resolved (oldest first).

    Args:
        calls: The customer's calls in ``started_at`` order.

    """
    issues = []
    for position, call in enumerate(calls):
        if "unresolved" not in call.tag_set:
            continue
        resolved = any(
            _same_reason(call, later) and "unresolved" not in later.tag_set for later in calls[position + 1 :]
        )
        if resolved:
            continue
        hit = promise_hit(call)
        if hit is None:  # unreachable: the call carries the tag
            continue
        outcome = call_outcome(call)
        promise = plain_evidence(hit.evidence)
        label = call.topic_labels[0] if call.topic_labels else None
        issues.append(
            OpenIssue(
                call.call_id,
                call.started_at,
                call.topic_id,
                label,
                hit.start_s,
                hit.evidence,
                categories=call.categories,
                promise=promise,
                outcome=outcome,
                summary=f"{call.started_at:%Y-%m-%d} {_reason_label(call)}: 「{promise}」（{OUTCOME_LABELS[outcome]}）",
            )
        )
    return tuple(issues)


def _point(call: CallFacts) -> CallPoint:
    return CallPoint(
        call_id=call.call_id,
        started_at=call.started_at,
        customer_sentiment=call.customer_sentiment,
        effort_index=call.effort_index,
        trajectory=call.trajectory,
        topic_id=call.topic_id,
        topic_label=call.topic_labels[0] if call.topic_labels else None,
    )


def _counted(counter: Counter[str], labels: dict[str, str]) -> tuple[CountedItem, ...]:
    ranked = sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:TOP_N]
    return tuple(CountedItem(key, labels.get(key, key), n) for key, n in ranked)


def _evidence(
    calls: Sequence[CallFacts],
) -> tuple[tuple[TaggedEvidence, ...], dict[str, tuple[TaggedEvidence, ...]]]:
    recent: list[TaggedEvidence] = []
    by_tag: dict[str, list[TaggedEvidence]] = {}
    for call in reversed(calls):
        for hit in sorted(call.tags, key=lambda t: (t.start_s, t.tag)):
            item = TaggedEvidence(hit.tag, call.call_id, call.started_at, hit.start_s, hit.evidence)
            if len(recent) < TOP_N:
                recent.append(item)
            kept = by_tag.setdefault(hit.tag, [])
            if len(kept) < EVIDENCE_PER_TAG:
                kept.append(item)
    return tuple(recent), {tag: tuple(items) for tag, items in sorted(by_tag.items())}


def summarise_customer(customer_id: str, calls: Sequence[CallFacts], *, now: datetime) -> CustomerSummary:
    """Summarise a customer's calls (definitions in the module docstring).

    Args:
        customer_id: The customer.
        calls: Their processed calls, any order.
        now: The moment the summary describes (timezone-aware); windows count back from it.

    Returns:
        The summary; a customer without calls gets zero counts and empty lists.

    """
    ordered = sorted(calls, key=lambda c: (c.started_at, c.call_id))

    def within(days: int) -> int:
        start = now - timedelta(days=days)
        return sum(1 for c in ordered if start <= c.started_at <= now)

    repeats = find_repeat_contacts(ordered)
    n = len(ordered)
    topics: Counter[str] = Counter()
    topic_labels: dict[str, str] = {}
    categories: Counter[str] = Counter()
    tags: Counter[str] = Counter()
    tags_recent: Counter[str] = Counter()
    recent_start = now - timedelta(days=RECENT_DAYS)
    for call in ordered:
        for topic_id, label in zip(call.topic_ids, call.topic_labels, strict=False):
            topics[str(topic_id)] += 1
            topic_labels[str(topic_id)] = label
        categories.update(set(call.categories))
        tags.update(call.tag_set)
        if recent_start <= call.started_at <= now:
            tags_recent.update(call.tag_set)
    recent_calls = ordered[-TREND_CALLS:]
    trend_calls = [c for c in recent_calls if c.customer_sentiment is not None]
    sentiments = [c.customer_sentiment for c in trend_calls if c.customer_sentiment is not None]
    efforts = [c.effort_index for c in recent_calls if c.effort_index is not None]
    recent_evidence, by_tag = _evidence(ordered)
    last = ordered[-1] if ordered else None
    sentiment_trend, effort_trend = slope(sentiments), slope(efforts)
    return CustomerSummary(
        customer_id=customer_id,
        computed_at=now,
        call_count=n,
        first_contact=ordered[0].started_at if ordered else None,
        last_contact=last.started_at if last else None,
        contacts_7d=within(7),
        contacts_30d=within(30),
        contacts_90d=within(90),
        repeat_contacts=repeats,
        repeat_contact_rate=len(repeats) / n if n else 0.0,
        same_topic_repeat_rate=sum(r.same_topic for r in repeats) / n if n else 0.0,
        top_topics=_counted(topics, topic_labels),
        top_categories=_counted(categories, {}),
        timeline=tuple(_point(c) for c in ordered),
        sentiment_trend=sentiment_trend,
        effort_trend=effort_trend,
        recent_sentiment=_mean(sentiments),
        effort_index=_mean(efforts),
        tag_counts=dict(sorted(tags.items())),
        open_issues=find_open_issues(ordered),
        recent_evidence=recent_evidence,
        last_call=_point(last) if last else None,
        last_customer_utterance=last.last_customer_utterance if last else None,
        tag_counts_90d=dict(sorted(tags_recent.items())),
        evidence_by_tag=by_tag,
        sentiment_trend_detail=describe_trend(sentiment_trend, value="sentiment"),
        effort_trend_detail=describe_trend(effort_trend, value="effort"),
        negative_moments=negative_moments(trend_calls),
        calls=tuple(summarise_call(c) for c in reversed(recent_calls)),
    )
