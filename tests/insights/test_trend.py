from __future__ import annotations

import pytest

from insights.brief import build_brief
from insights.churn import default_churn_risk
from insights.summary import summarise_customer
from insights.trend import describe_trend, trend_direction
from tests.insights.conftest import NOW, make_call


@pytest.mark.parametrize(
    ("value", "slope_per_call", "direction", "label"),
    [
        ("sentiment", -0.12, "worsening", "悪化傾向（傾き -0.12/通話）"),
        ("sentiment", 0.06, "improving", "改善傾向（傾き +0.06/通話）"),
        ("sentiment", 0.0, "flat", "横ばい（傾き +0.00/通話）"),
        ("sentiment", -0.004, "flat", "横ばい（傾き -0.00/通話）"),  # prints as zero: reads flat
        ("effort", 8.0, "worsening", "悪化傾向（傾き +8.0 点/通話）"),  # rising effort is bad news
        ("effort", -5.0, "improving", "改善傾向（傾き -5.0 点/通話）"),
        ("effort", 0.0, "flat", "横ばい（傾き +0.0 点/通話）"),
    ],
)
def test_direction_is_derived_from_the_sign(value, slope_per_call, direction, label) -> None:
    trend = describe_trend(slope_per_call, value=value)
    assert trend_direction(slope_per_call, value=value) == direction
    assert (trend.slope_per_call, trend.direction, trend.label) == (slope_per_call, direction, label)


def test_no_trend_with_one_call() -> None:
    trend = describe_trend(None, value="sentiment")
    assert trend.direction is None and trend.slope_per_call is None


# Customer histories, oldest first: (sentiment, effort) per call.
HISTORIES = {
    "worsening": [(0.4, 10.0), (0.2, 20.0), (0.0, 30.0), (-0.2, 40.0), (-0.4, 50.0)],
    "improving_but_negative": [(-0.62, 60.0), (-0.56, 50.0), (-0.5, 40.0), (-0.44, 30.0), (-0.38, 20.0)],
    "flat": [(0.1, 10.0)] * 5,
}


@pytest.mark.parametrize(
    ("history", "sentiment_direction", "effort_direction"),
    [
        ("worsening", "worsening", "worsening"),
        ("improving_but_negative", "improving", "improving"),
        ("flat", "flat", "flat"),
    ],
)
def test_summary_brief_and_reasons_agree_with_the_slope(
    history, sentiment_direction, effort_direction
) -> None:
    calls = [
        make_call(f"c{i}", 40 - 5 * i, sentiment=s, effort=e) for i, (s, e) in enumerate(HISTORIES[history])
    ]
    summary = summarise_customer("C1", calls, now=NOW)
    risk = default_churn_risk(summary)
    brief = build_brief(summary, risk)
    assert summary.sentiment_trend_detail is not None and summary.effort_trend_detail is not None
    assert summary.sentiment_trend_detail.direction == sentiment_direction
    assert summary.effort_trend_detail.direction == effort_direction
    assert brief.sentiment_trend_detail == summary.sentiment_trend_detail
    assert brief.sentiment_trend == summary.sentiment_trend  # the old field stays
    slope_value = summary.sentiment_trend
    assert slope_value is not None
    if sentiment_direction == "worsening":
        assert slope_value < 0
    elif sentiment_direction == "improving":
        assert slope_value > 0
    else:
        assert slope_value == pytest.approx(0.0)
    for reason in brief.reasons:
        if reason.factor == "worsening_sentiment":
            assert summary.sentiment_trend_detail.label in reason.detail
            # 「感情の悪化」 is claimed only when the trend reads worsening.
            assert (reason.label == "感情の悪化") is (sentiment_direction == "worsening")
        if reason.factor == "rising_effort":
            assert summary.effort_trend_detail.label in reason.detail
            assert (reason.label == "負担の増加") is (effort_direction == "worsening")


def test_issue_case_rising_slope_is_not_printed_as_worsening() -> None:
    # The issue's customer: sentiment rising by +0.06 per call, but still negative on average.
    calls = [
        make_call(f"c{i}", 40 - 5 * i, sentiment=s)
        for i, (s, _) in enumerate(HISTORIES["improving_but_negative"])
    ]
    summary = summarise_customer("C1", calls, now=NOW)
    brief = build_brief(summary, default_churn_risk(summary))
    reason = next(r for r in brief.reasons if r.factor == "worsening_sentiment")
    assert reason.basis == "level" and reason.label == "否定的な感情が続いている"
    assert "改善傾向（傾き +0.06/通話）" in reason.detail and "直近の平均 -0.50" in reason.detail
