"""Customer effort index of a call, 0-100, split into "do" and "feel" effort.

"Do" effort is what the customer had to do; "feel" effort is how the call felt. Each factor adds
fixed points once per call (a tag counts once however often it fires), so the index is explainable:
``EffortScore.components`` lists every factor's points and they add up to the index. The weights
sum to 100, so a call with every factor scores 100.

=====================  ======  ==========================================================
Factor                 Points  When
=====================  ======  ==========================================================
repeat_contact         14      do: customer says they contacted before about this
repeat_explanation     8       do: had to explain again
transfer               8       do: the agent transferred the call
hold                   4 + 1   do: 4 for any hold, +1 per full minute held, at most 10
                       /min
channel_switch         8       do: already tried mail, chat, web, shop
long_wait              8       do: complains of waiting / not getting through
unresolved             10      do: callback promised or still broken at the end
anger                  14      feel: anger tag
escalation_request     10      feel: asked for a supervisor
trajectory             10 / 6  feel: customer sentiment worsening (10) or negative throughout (6)
=====================  ======  ==========================================================

Unresolved counts as "do" effort: the customer will have to call or wait again.
"""

from __future__ import annotations

from collections.abc import Sequence

from koe.records import CallMetrics, EffortScore, SentimentSummary, TagHit

__all__ = ["DO_WEIGHTS", "FEEL_WEIGHTS", "HOLD_BASE", "HOLD_MAX", "HOLD_PER_MINUTE", "effort_index"]

#: Points per "do" tag (hold is scored from its length, see HOLD_*).
DO_WEIGHTS: dict[str, float] = {
    "repeat_contact": 14.0,
    "repeat_explanation": 8.0,
    "transfer": 8.0,
    "channel_switch": 8.0,
    "long_wait": 8.0,
    "unresolved": 10.0,
}
HOLD_BASE = 4.0
HOLD_PER_MINUTE = 1.0
HOLD_MAX = 10.0
#: Points per "feel" tag and trajectory.
FEEL_WEIGHTS: dict[str, float] = {
    "anger": 14.0,
    "escalation_request": 10.0,
    "trajectory_worsening": 10.0,
    "trajectory_negative": 6.0,
}


def _hold_points(tags: Sequence[TagHit], metrics: CallMetrics | None) -> float:
    hold_s = metrics.hold_s if metrics is not None else 0.0
    held = (metrics is not None and metrics.hold_count > 0) or any(t.tag == "hold" for t in tags)
    if not held:
        return 0.0
    return min(HOLD_MAX, HOLD_BASE + HOLD_PER_MINUTE * int(hold_s // 60))


def effort_index(
    tags: Sequence[TagHit], metrics: CallMetrics | None, sentiment: SentimentSummary | None
) -> EffortScore:
    """Score a call's customer effort.

    Args:
        tags: The call's tag hits (any order; each tag counts once).
        metrics: The call's metrics (hold length in seconds); ``None`` for transcripts without
            timing metrics, where a ``hold`` tag still scores the base points.
        sentiment: The call's sentiment summary (customer trajectory); ``None`` skips it.

    Returns:
        The index (0-100) with ``do_effort`` + ``feel_effort`` == ``index`` and the non-zero
        ``(factor, points)`` components in the order of the table above.

    """
    present = {t.tag for t in tags}
    components: list[tuple[str, float]] = []
    for tag, points in DO_WEIGHTS.items():
        if tag in present:
            components.append((tag, points))
    hold = _hold_points(tags, metrics)
    if hold:
        components.append(("hold", hold))
    do_effort = sum(p for _, p in components)
    feel: list[tuple[str, float]] = []
    for tag in ("anger", "escalation_request"):
        if tag in present:
            feel.append((tag, FEEL_WEIGHTS[tag]))
    if sentiment is not None and sentiment.trajectory in ("worsening", "negative"):
        key = f"trajectory_{sentiment.trajectory}"
        feel.append((key, FEEL_WEIGHTS[key]))
    feel_effort = sum(p for _, p in feel)
    index = min(100.0, do_effort + feel_effort)
    return EffortScore(
        index=index, do_effort=do_effort, feel_effort=feel_effort, components=tuple(components + feel)
    )
