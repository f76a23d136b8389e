"""Plain Japanese labels for people; the ids stay stable for machines.

Pages, briefs and exports show these labels next to (never instead of) the ids.
"""

from __future__ import annotations

from typing import Final

#: Effort/frustration tag ids (``textmining.tags.TAG_IDS``) in plain Japanese.
TAG_LABELS: Final[dict[str, str]] = {
    "repeat_contact": "再問い合わせ",
    "repeat_explanation": "説明のやり直し",
    "transfer": "たらい回し（転送）",
    "escalation_request": "上長対応の要求",
    "hold": "保留",
    "long_wait": "長い待ち時間・つながらない",
    "churn_intent": "解約の意向",
    "anger": "怒り・強い不満",
    "unresolved": "未解決",
    "channel_switch": "他の窓口も試した",
}
#: Same mapping under the name the issue uses.
TAG_LABELS_JA: Final = TAG_LABELS

#: Churn factors and trained-model features in plain Japanese.
FACTOR_LABELS: Final[dict[str, str]] = {
    "churn_intent": "解約の意向",
    "rising_effort": "負担の増加",
    "worsening_sentiment": "感情の悪化",
    "repeat_contacts": "短期間の再問い合わせ",
    "unresolved_issues": "未解決の問題",
    "escalations": "上長対応の要求",
    "contact_frequency": "問い合わせ頻度の増加",
}

#: A trend's direction (``insights.trend``) in plain Japanese.
TREND_LABELS: Final[dict[str, str]] = {"worsening": "悪化傾向", "improving": "改善傾向", "flat": "横ばい"}

#: How a call ended (``insights.call_summary``): from its tags.
OUTCOME_LABELS: Final[dict[str, str]] = {
    "resolved": "解決",
    "callback_promised": "折り返しを約束",
    "still_broken": "未解決のまま",
}

#: A churn factor's label when the signal comes from a level rather than a trend
#: (``ChurnReason.basis``): 「感情の悪化」 would be untrue for a customer whose sentiment is rising.
FACTOR_BASIS_LABELS: Final[dict[tuple[str, str], str]] = {
    ("worsening_sentiment", "level"): "否定的な感情が続いている",
    ("worsening_sentiment", "ending"): "直近の通話が悪い印象で終了",
    ("worsening_sentiment", "flat"): "感情がわずかに下向き",
    ("rising_effort", "flat"): "負担がわずかに増加",
    ("rising_effort", "level"): "負担が高いまま",
}

#: Risk levels in plain Japanese.
LEVEL_LABELS: Final[dict[str, str]] = {"low": "低", "medium": "中", "high": "高"}

#: How a call went for the customer (``koe.records.Trajectory``).
TRAJECTORY_LABELS: Final[dict[str, str]] = {
    "improving": "改善して終了",
    "worsening": "悪化して終了",
    "positive": "終始前向き",
    "negative": "終始否定的",
    "neutral": "平静",
}


def tag_label(tag: str) -> str:
    """Japanese label of a tag id (the id itself when unknown)."""
    return TAG_LABELS.get(tag, tag)


def factor_label(factor: str, basis: str = "") -> str:
    """Japanese label of a churn factor or model feature (the id itself when unknown).

    Args:
        factor: The factor or feature id.
        basis: What drove the signal (``trend``, ``level``, ``ending``; empty: the factor's own label).

    """
    return FACTOR_BASIS_LABELS.get((factor, basis)) or FACTOR_LABELS.get(factor, factor)
