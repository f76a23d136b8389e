"""What a per-call slope means: the one place that turns a slope's sign into words.

Sign convention: a slope is the least-squares change of a per-call value from one call to the next,
oldest to newest (:func:`insights.summary.slope`), so a positive slope means the value rose over the
customer's recent calls. What rising *means* depends on the value: rising sentiment is improving,
rising effort is worsening. Every label (「悪化傾向」「改善傾向」「横ばい」) is derived from the slope
here, so a printed slope and its label cannot disagree.
"""

from __future__ import annotations

from typing import Final, Literal

from insights.labels import TREND_LABELS
from insights.records import Trend

Direction = Literal["worsening", "improving", "flat"]

#: Slopes smaller than this (in units per call) read as flat: half a unit of the printed precision,
#: so a slope reads flat exactly when it prints as ±0.00 (sentiment) or ±0.0 (effort points).
FLAT_SLOPE: Final[dict[str, float]] = {"sentiment": 0.005, "effort": 0.05}
#: Whether a rising value is good news (sentiment) or bad news (effort).
RISING_IS_BETTER: Final[dict[str, bool]] = {"sentiment": True, "effort": False}
#: How a slope is printed, per value.
SLOPE_FORMAT: Final[dict[str, str]] = {"sentiment": "{:+.2f}/通話", "effort": "{:+.1f} 点/通話"}


def trend_direction(slope_per_call: float, *, value: Literal["sentiment", "effort"]) -> Direction:
    """The direction a slope means for ``value`` (see the module's sign convention).

    Args:
        slope_per_call: Change of the value per call, oldest to newest (sentiment units or effort points).
        value: ``sentiment`` (rising is improving) or ``effort`` (rising is worsening).

    """
    if abs(slope_per_call) < FLAT_SLOPE[value]:
        return "flat"
    rising = slope_per_call > 0
    return "improving" if rising == RISING_IS_BETTER[value] else "worsening"


def describe_trend(slope_per_call: float | None, *, value: Literal["sentiment", "effort"]) -> Trend:
    """A slope with its direction and a Japanese label that quotes the slope.

    Args:
        slope_per_call: The slope (``None`` with fewer than two calls).
        value: ``sentiment`` or ``effort``.

    """
    if slope_per_call is None:
        return Trend(None, None, "傾向なし（通話が2件未満）")
    direction = trend_direction(slope_per_call, value=value)
    printed = SLOPE_FORMAT[value].format(slope_per_call)
    return Trend(slope_per_call, direction, f"{TREND_LABELS[direction]}（傾き {printed}）")
