"""The default churn-risk score: transparent, weighted factors with evidence.

Each factor turns the customer summary into a *signal* in [0, 1]; the score adds the signals up
with their weights (``points = sum(weight × signal)``) and squashes the points into [0, 1] with
``score = 1 − exp(−points)``, so more bad news always raises the score but never past 1. A reason's
*contribution* is its share of the points times the score, so the contributions add up to the score.
Recency matters through a half-life: a signal from an event ``age`` days old is multiplied by
``0.5 ** (age / half_life_days)`` (60 days by default).

=====================  ======  =========================================================================
Factor                 Weight  Signal (0-1)
=====================  ======  =========================================================================
churn_intent           1.2     decayed age of the newest ``churn_intent`` tag (解約・乗り換えの意向)
unresolved_issues      0.6     sum of the decayed ages of open issues / 2, at most 1
worsening_sentiment    0.5     the largest of −(sentiment trend per call) / 0.2, −(recent mean
                               sentiment) / 0.5, and 0.5 when the last call ended ``worsening`` or
                               ``negative``; at most 1
rising_effort          0.4     the larger of (effort trend, points per call) / 10 and (recent mean
                               effort − 30) / 40; at most 1 (high effort that stays high counts too)
repeat_contacts        0.5     repeats within 7 days in the last 90 days (same topic 1, other 0.5) / 2
escalations            0.4     calls with ``escalation_request`` in the last 90 days / 2, at most 1
contact_frequency      0.3     (contacts in the last 30 days − 1) / 4, between 0 and 1
=====================  ======  =========================================================================

Levels: ``high`` from 0.6, ``medium`` from 0.3, else ``low``. A fresh churn intent alone scores
0.70 (high). Weights, thresholds and the half-life are configurable with a YAML file
(``KOE_CHURN_WEIGHTS``)::

    weights: {churn_intent: 1.5, contact_frequency: 0}
    levels: {medium: 0.3, high: 0.6}
    half_life_days: 60

Factors left out keep their default weight. The score's model version is ``rules-<hash>`` of the
configuration, so every stored score says which weights produced it.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from insights.records import ChurnReason, ChurnRisk, CustomerSummary, Evidence, TaggedEvidence
from insights.trend import describe_trend
from koe.errors import ConfigError
from koe.records import RiskLevel
from koe.taxonomy import DO_TAGS

FACTORS: tuple[str, ...] = (
    "churn_intent",
    "unresolved_issues",
    "worsening_sentiment",
    "rising_effort",
    "repeat_contacts",
    "escalations",
    "contact_frequency",
)
DEFAULT_WEIGHTS: dict[str, float] = {
    "churn_intent": 1.2,
    "unresolved_issues": 0.6,
    "worsening_sentiment": 0.5,
    "rising_effort": 0.4,
    "repeat_contacts": 0.5,
    "escalations": 0.4,
    "contact_frequency": 0.3,
}
#: Tags whose evidence explains rising effort ("do" effort the customer had to spend); repeat
#: contacts and unresolved issues are factors of their own.
EFFORT_EVIDENCE_TAGS: tuple[str, ...] = tuple(t for t in DO_TAGS if t not in ("repeat_contact", "unresolved"))
EVIDENCE_PER_REASON = 3


@dataclass(frozen=True, slots=True)
class ChurnWeights:
    """Configuration of the default score.

    Attributes:
        weights: Weight per factor (see the module table).
        medium: Lowest score of level ``medium``, in [0, 1].
        high: Lowest score of level ``high``, in [0, 1].
        half_life_days: Age in days at which an event's signal is halved.

    """

    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    medium: float = 0.3
    high: float = 0.6
    half_life_days: float = 60.0

    @property
    def version(self) -> str:
        """``rules-<hash>`` of the configuration: the model version of scores made with it."""
        text = json.dumps(
            {
                "w": dict(sorted(self.weights.items())),
                "m": self.medium,
                "h": self.high,
                "t": self.half_life_days,
            },
            sort_keys=True,
        )
        return "rules-" + hashlib.sha256(text.encode()).hexdigest()[:10]


@dataclass(frozen=True, slots=True)
class FactorSignal:
    """One factor's signal in [0, 1], the evidence behind it and a short description."""

    factor: str
    signal: float
    evidence: tuple[Evidence, ...] = ()
    detail: str = ""
    basis: str = ""


def load_churn_weights(path: Path | None) -> ChurnWeights:
    """Read a churn-weights YAML (see the module docstring); ``None`` gives the defaults.

    Raises:
        ConfigError: naming the file and what is wrong with it.

    """
    if path is None:
        return ChurnWeights()
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(
            f"{path}: cannot read churn weights ({exc}); fix the file or unset KOE_CHURN_WEIGHTS"
        ) from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with weights/levels/half_life_days")
    weights = dict(DEFAULT_WEIGHTS)
    given = data.get("weights") or {}
    levels = data.get("levels") or {}
    if not isinstance(given, dict) or not isinstance(levels, dict):
        raise ConfigError(f"{path}: 'weights' and 'levels' must be mappings")
    for name, value in given.items():
        if name not in FACTORS:
            raise ConfigError(f"{path}: unknown churn factor {name!r}; known: {', '.join(FACTORS)}")
        if not isinstance(value, int | float) or value < 0:
            raise ConfigError(f"{path}: weight of {name} must be a number >= 0 (got {value!r})")
        weights[name] = float(value)
    try:
        medium = float(levels.get("medium", 0.3))
        high = float(levels.get("high", 0.6))
        half_life = float(data.get("half_life_days", 60.0))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: levels and half_life_days must be numbers ({exc})") from exc
    if not 0 < medium < high <= 1:
        raise ConfigError(f"{path}: levels must satisfy 0 < medium < high <= 1 (got {medium}, {high})")
    if half_life <= 0:
        raise ConfigError(f"{path}: half_life_days must be > 0 (got {half_life})")
    return ChurnWeights(weights=weights, medium=medium, high=high, half_life_days=half_life)


def risk_level(score: float, *, medium: float = 0.3, high: float = 0.6) -> RiskLevel:
    """The level of a score in [0, 1]: ``high`` from ``high``, ``medium`` from ``medium``, else ``low``."""
    if score >= high:
        return "high"
    if score >= medium:
        return "medium"
    return "low"


def _clip(value: float) -> float:
    return max(0.0, min(1.0, value))


def _decay(event: datetime, now: datetime, half_life_days: float) -> float:
    age_days = max(0.0, (now - event).total_seconds() / 86400)
    return float(0.5 ** (age_days / half_life_days))


def _quotes(items: tuple[TaggedEvidence, ...] | list[TaggedEvidence]) -> tuple[Evidence, ...]:
    return tuple(Evidence(e.call_id, e.start_s, e.text) for e in items[:EVIDENCE_PER_REASON])


def _basis(parts: dict[str, float], direction: str | None) -> str:
    """Which part drove a signal; a trend part counts as ``trend`` only when the trend reads worsening."""
    strongest = max(parts, key=lambda name: parts[name])
    if strongest == "trend" and direction != "worsening":
        others = {name: v for name, v in parts.items() if name != "trend" and v > 0}
        return max(others, key=lambda name: others[name]) if others else "flat"
    return strongest


def factor_signals(summary: CustomerSummary, *, half_life_days: float = 60.0) -> dict[str, FactorSignal]:
    """Every factor's signal in [0, 1] with its evidence (definitions in the module table).

    Args:
        summary: The customer's summary; its ``computed_at`` is "now" for recency.
        half_life_days: Age in days at which an event's signal is halved.

    """
    now = summary.computed_at
    by_tag = summary.evidence_by_tag
    signals: dict[str, FactorSignal] = {}

    intents = by_tag.get("churn_intent", ())
    intent = _decay(intents[0].started_at, now, half_life_days) if intents else 0.0
    signals["churn_intent"] = FactorSignal(
        "churn_intent", intent, _quotes(intents), f"{len(intents)} 件の発言"
    )

    open_points = sum(_decay(i.started_at, now, half_life_days) for i in summary.open_issues)
    newest_issues = sorted(summary.open_issues, key=lambda i: i.started_at, reverse=True)
    signals["unresolved_issues"] = FactorSignal(
        "unresolved_issues",
        _clip(open_points / 2),
        tuple(Evidence(i.call_id, i.start_s, i.evidence) for i in newest_issues[:EVIDENCE_PER_REASON]),
        f"未解決 {len(summary.open_issues)} 件",
    )

    trend = summary.sentiment_trend
    sentiment_trend = describe_trend(trend, value="sentiment")
    parts = {"trend": _clip(-trend / 0.2) if trend is not None else 0.0, "level": 0.0, "ending": 0.0}
    if summary.recent_sentiment is not None:
        parts["level"] = _clip(-summary.recent_sentiment / 0.5)
    last = summary.last_call
    if last is not None and last.trajectory in ("worsening", "negative"):
        parts["ending"] = 0.5
    worsening = max(parts.values())
    # Evidence of a worsening sentiment is what the customer said at their most negative in the calls
    # that make the trend, never their last words (「わかりました 待ってます」 is no sign of anything).
    sentiment_evidence = tuple(
        Evidence(m.call_id, m.start_s, m.text) for m in summary.negative_moments[:EVIDENCE_PER_REASON]
    )
    details = [sentiment_trend.label] if trend is not None else []
    if summary.recent_sentiment is not None:
        details.append(f"直近の平均 {summary.recent_sentiment:+.2f}")
    signals["worsening_sentiment"] = FactorSignal(
        "worsening_sentiment",
        worsening,
        sentiment_evidence if worsening > 0 else (),
        "、".join(details),
        _basis(parts, sentiment_trend.direction) if worsening > 0 else "",
    )

    effort_trend = summary.effort_trend
    effort_reading = describe_trend(effort_trend, value="effort")
    effort_items = sorted(
        (e for tag in EFFORT_EVIDENCE_TAGS for e in by_tag.get(tag, ())),
        key=lambda e: e.started_at,
        reverse=True,
    )
    effort_parts = {
        "trend": _clip(effort_trend / 10) if effort_trend is not None else 0.0,
        "level": _clip(((summary.effort_index or 0.0) - 30) / 40),
    }
    rising = max(effort_parts.values())
    signals["rising_effort"] = FactorSignal(
        "rising_effort",
        rising,
        _quotes(effort_items),
        effort_reading.label if effort_trend is not None else "",
        _basis(effort_parts, effort_reading.direction) if rising > 0 else "",
    )

    window_start = now.timestamp() - 90 * 86400
    recent_repeats = [r for r in summary.repeat_contacts if r.started_at.timestamp() >= window_start]
    repeat_points = sum(1.0 if r.same_topic else 0.5 for r in recent_repeats)
    signals["repeat_contacts"] = FactorSignal(
        "repeat_contacts",
        _clip(repeat_points / 2),
        _quotes(by_tag.get("repeat_contact", ())),
        f"90日で {len(recent_repeats)} 件（同じ話題 {sum(r.same_topic for r in recent_repeats)} 件）",
    )

    escalations = summary.tag_counts_90d.get("escalation_request", 0)
    signals["escalations"] = FactorSignal(
        "escalations",
        _clip(escalations / 2),
        _quotes(by_tag.get("escalation_request", ())) if escalations else (),
        f"90日で {escalations} 件",
    )

    signals["contact_frequency"] = FactorSignal(
        "contact_frequency", _clip((summary.contacts_30d - 1) / 4), (), f"30日で {summary.contacts_30d} 件"
    )
    return signals


def default_churn_risk(summary: CustomerSummary, *, weights: ChurnWeights | None = None) -> ChurnRisk:
    """The transparent churn score of a customer with its reasons (largest contribution first).

    Args:
        summary: The customer's summary (``computed_at`` is "now").
        weights: Factor weights, level thresholds and half-life; default: the module table.

    Returns:
        Score in [0, 1], level, reasons of every factor that contributed, and ``weights.version``.

    """
    weights = weights or ChurnWeights()
    signals = factor_signals(summary, half_life_days=weights.half_life_days)
    points = {name: weights.weights.get(name, 0.0) * signals[name].signal for name in FACTORS}
    total = sum(points.values())
    score = 1.0 - math.exp(-total)
    reasons = [
        ChurnReason(
            name, score * value / total, signals[name].evidence, signals[name].detail, signals[name].basis
        )
        for name, value in points.items()
        if value > 0
    ]
    reasons.sort(key=lambda r: (-r.contribution, r.factor))
    return ChurnRisk(
        score=score,
        level=risk_level(score, medium=weights.medium, high=weights.high),
        reasons=tuple(reasons),
        model_version=weights.version,
    )


def weights_table(weights: ChurnWeights | None = None) -> list[dict[str, Any]]:
    """The factor/weight table of a configuration (for the README and ``koe churn weights``)."""
    weights = weights or ChurnWeights()
    return [{"factor": name, "weight": weights.weights.get(name, 0.0)} for name in FACTORS]
