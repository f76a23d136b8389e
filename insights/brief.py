"""The CSM brief: what to know before calling a customer, in plain Japanese with stable ids.

Built from a customer's summary and churn risk: the risk and why (each reason with evidence a CSM
can listen to), open issues (date, reason and the promise made), recent effort and frustration with
quotes, topics, a one-line summary of each recent call (reason, action, outcome), and how the last
call ended (trajectory and the customer's last words). Trends are printed with the direction their
sign means (:mod:`insights.trend`), and a reason's label says what drove it (``basis``). Every label sits next to its id
(``tag``/``tag_label``, ``factor``/``label``) so machines keep the ids and people read the labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from insights.labels import LEVEL_LABELS, TRAJECTORY_LABELS, factor_label, tag_label
from insights.records import CallSummary, ChurnRisk, CountedItem, CustomerSummary, Evidence, OpenIssue, Trend
from koe.taxonomy import TAG_IDS

#: Tags that show frustration or extra effort, quoted in the brief (``unresolved`` has its own list).
FRUSTRATION_TAGS: frozenset[str] = frozenset(TAG_IDS) - {"unresolved"}
QUOTES = 5


@dataclass(frozen=True, slots=True)
class BriefReason:
    """A churn reason for people: factor id, Japanese label, contribution and evidence."""

    factor: str
    label: str
    contribution: float
    evidence: tuple[Evidence, ...]
    detail: str = ""
    basis: str = ""


@dataclass(frozen=True, slots=True)
class BriefQuote:
    """A recent frustration or effort moment: tag id and label, the call, its time (s) and the words."""

    tag: str
    tag_label: str
    call_id: str
    started_at: datetime
    start_s: float
    text: str


@dataclass(frozen=True, slots=True)
class LastCall:
    """How the customer's last call ended."""

    call_id: str
    started_at: datetime
    trajectory: str | None
    trajectory_label: str
    customer_sentiment: float | None
    effort_index: float | None
    ending: str | None
    ending_start_s: float | None
    summary: str


@dataclass(frozen=True, slots=True)
class CustomerBrief:
    """The CSM brief of one customer (see the module docstring)."""

    customer_id: str
    headline: str
    summary: str
    score: float
    level: str
    level_label: str
    model_version: str
    reasons: tuple[BriefReason, ...]
    open_issues: tuple[OpenIssue, ...]
    recent_frustration: tuple[BriefQuote, ...]
    effort_index: float | None
    effort_trend: float | None
    sentiment_trend: float | None
    topics: tuple[CountedItem, ...]
    last_call: LastCall | None
    sentiment_trend_detail: Trend | None = None
    effort_trend_detail: Trend | None = None
    open_issues_text: str = ""
    calls: tuple[CallSummary, ...] = ()


def _last_call(summary: CustomerSummary) -> LastCall | None:
    last = summary.last_call
    if last is None:
        return None
    label = TRAJECTORY_LABELS.get(last.trajectory or "", "不明")
    ending = summary.last_customer_utterance
    text = f"{last.started_at:%Y-%m-%d} の通話は{label}"
    if ending is not None:
        text += f"。お客様の最後の発言:「{ending.text}」"
    return LastCall(
        call_id=last.call_id,
        started_at=last.started_at,
        trajectory=last.trajectory,
        trajectory_label=label,
        customer_sentiment=last.customer_sentiment,
        effort_index=last.effort_index,
        ending=ending.text if ending else None,
        ending_start_s=ending.start_s if ending else None,
        summary=text,
    )


def _open_issues_text(issues: tuple[OpenIssue, ...]) -> str:
    if not issues:
        return "未解決の問題: ありません"
    return "未解決の問題: " + " / ".join(i.summary for i in issues)


def build_brief(summary: CustomerSummary, risk: ChurnRisk) -> CustomerBrief:
    """The CSM brief of a customer from their summary and churn risk.

    Args:
        summary: The customer's summary.
        risk: Their churn risk (default score or trained model).

    Returns:
        The brief: a one-line Japanese headline, a short summary sentence and the details.

    """
    level_label = LEVEL_LABELS.get(risk.level, risk.level)
    reasons = tuple(
        BriefReason(r.factor, factor_label(r.factor, r.basis), r.contribution, r.evidence, r.detail, r.basis)
        for r in risk.reasons
    )
    why = "、".join(r.label for r in reasons[:3]) or "目立った兆候なし"
    headline = f"解約リスク{level_label}（{risk.score:.2f}）: {why}"
    parts = [f"通話 {summary.call_count} 件（直近30日 {summary.contacts_30d} 件）"]
    if summary.open_issues:
        parts.append(f"未解決 {len(summary.open_issues)} 件")
    if summary.repeat_contacts:
        parts.append(f"7日以内の再問い合わせ {len(summary.repeat_contacts)} 件")
    if summary.effort_index is not None:
        parts.append(f"最近の負担指数 {summary.effort_index:.0f}")
    if summary.top_topics:
        parts.append("主な話題: " + "・".join(t.label for t in summary.top_topics[:3]))
    quotes = tuple(
        BriefQuote(e.tag, tag_label(e.tag), e.call_id, e.started_at, e.start_s, e.text)
        for e in summary.recent_evidence
        if e.tag in FRUSTRATION_TAGS
    )[:QUOTES]
    return CustomerBrief(
        customer_id=summary.customer_id,
        headline=headline,
        summary="、".join(parts) + "。",
        score=risk.score,
        level=risk.level,
        level_label=level_label,
        model_version=risk.model_version,
        reasons=reasons,
        open_issues=summary.open_issues,
        recent_frustration=quotes,
        effort_index=summary.effort_index,
        effort_trend=summary.effort_trend,
        sentiment_trend=summary.sentiment_trend,
        topics=summary.top_topics,
        last_call=_last_call(summary),
        sentiment_trend_detail=summary.sentiment_trend_detail,
        effort_trend_detail=summary.effort_trend_detail,
        open_issues_text=_open_issues_text(summary.open_issues),
        calls=summary.calls,
    )
