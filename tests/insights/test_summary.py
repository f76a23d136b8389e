from __future__ import annotations

from datetime import timedelta

import pytest

from insights.summary import REPEAT_WINDOW, find_open_issues, find_repeat_contacts, slope, summarise_customer

NOW_DAYS = 0.0


@pytest.mark.parametrize(
    ("gap", "is_repeat"),
    [
        (timedelta(days=7), True),  # exactly 7 days: still a repeat (inclusive)
        (timedelta(days=7, seconds=1), False),
        (timedelta(days=6, hours=23, minutes=59, seconds=59), True),
        (timedelta(0), True),
        (timedelta(days=8), False),
    ],
)
def test_repeat_contact_boundary_is_seven_days_inclusive(call, gap: timedelta, is_repeat: bool) -> None:
    first = call("a", 20)
    second = call("b", 20 - gap.total_seconds() / 86400)
    repeats = find_repeat_contacts([first, second])
    assert (len(repeats) == 1) is is_repeat
    if is_repeat:
        assert repeats[0].call_id == "b" and repeats[0].previous_call_id == "a"
        assert repeats[0].gap_s == pytest.approx(gap.total_seconds(), abs=1e-3)
    assert timedelta(days=7) == REPEAT_WINDOW


def test_repeat_same_topic_and_rates(call) -> None:
    calls = [call("a", 30, topic=1), call("b", 28, topic=1), call("c", 25, topic=2), call("d", 10, topic=2)]
    summary = summarise_customer("C1", calls, now=call("x", 0).started_at)
    assert [(r.call_id, r.same_topic) for r in summary.repeat_contacts] == [("b", True), ("c", False)]
    assert summary.repeat_contact_rate == pytest.approx(2 / 4)
    assert summary.same_topic_repeat_rate == pytest.approx(1 / 4)


def test_repeat_without_topics_is_not_same_topic(call) -> None:
    repeats = find_repeat_contacts([call("a", 3, topic=None), call("b", 2, topic=None)])
    assert len(repeats) == 1 and not repeats[0].same_topic


def test_counts_and_windows(call) -> None:
    calls = [call("old", 200), call("q", 80), call("m", 29.9), call("w", 6.9), call("w2", 1)]
    now = call("x", 0).started_at
    summary = summarise_customer("C1", list(reversed(calls)), now=now)
    assert summary.call_count == 5
    assert summary.first_contact == calls[0].started_at and summary.last_contact == calls[-1].started_at
    assert (summary.contacts_7d, summary.contacts_30d, summary.contacts_90d) == (2, 3, 4)
    assert [p.call_id for p in summary.timeline] == ["old", "q", "m", "w", "w2"]


@pytest.mark.parametrize(
    ("values", "expected"),
    [([0.5, 0.3, 0.1, -0.1], -0.2), ([1.0, 2.0], 1.0), ([3.0, 3.0, 3.0], 0.0), ([0.0, 2.0, 1.0], 0.5)],
)
def test_slope_is_least_squares_per_step(values: list[float], expected: float) -> None:
    assert slope(values) == pytest.approx(expected)


def test_slope_needs_two_values() -> None:
    assert slope([]) is None and slope([1.0]) is None


def test_trends_use_the_last_five_calls(call) -> None:
    # An old happy stretch, then five calls that get steadily worse: only the last five count.
    calls = [call(f"o{i}", 100 - i, sentiment=-0.9, effort=90) for i in range(3)]
    calls += [call(f"n{i}", 50 - 5 * i, sentiment=0.4 - 0.2 * i, effort=10 + 10 * i) for i in range(5)]
    summary = summarise_customer("C1", calls, now=call("x", 0).started_at)
    assert summary.sentiment_trend == pytest.approx(-0.2)
    assert summary.effort_trend == pytest.approx(10.0)
    assert summary.effort_index == pytest.approx(30.0)
    assert summary.recent_sentiment == pytest.approx(0.0)


def test_trend_skips_calls_without_a_value(call) -> None:
    calls = [call("a", 3, sentiment=0.5), call("b", 2, sentiment=None), call("c", 1, sentiment=0.1)]
    summary = summarise_customer("C1", calls, now=call("x", 0).started_at)
    assert summary.sentiment_trend == pytest.approx(-0.4)


def test_open_issue_closed_by_later_resolved_call_on_same_topic(call) -> None:
    calls = [call("a", 10, topic=1, tags=("unresolved",)), call("b", 5, topic=1)]
    assert find_open_issues(calls) == ()


def test_open_issue_stays_open_when_later_call_is_other_topic_or_unresolved(call) -> None:
    calls = [
        call("a", 10, topic=1, tags=("unresolved",)),
        call("b", 8, topic=2),  # another topic does not resolve topic 1
        call("c", 5, topic=1, tags=("unresolved",)),  # same topic, still unresolved
    ]
    issues = find_open_issues(calls)
    assert [i.call_id for i in issues] == ["a", "c"]
    assert issues[0].topic_id == 1 and issues[0].topic_label == "請求・料金"
    assert issues[0].evidence == "確認して折り返しご連絡します" and issues[0].start_s == 10.0


def test_earlier_resolved_call_does_not_close_a_later_issue(call) -> None:
    calls = [call("a", 10, topic=1), call("b", 5, topic=1, tags=("unresolved",))]
    assert [i.call_id for i in find_open_issues(calls)] == ["b"]


def test_tag_counts_topics_and_recent_evidence(call) -> None:
    calls = [
        call("a", 100, topic=1, tags=("anger", "anger", "transfer")),
        call("b", 20, topic=2, tags=("churn_intent",)),
        call("c", 10, topic=2, tags=("transfer",)),
    ]
    summary = summarise_customer("C1", calls, now=call("x", 0).started_at)
    assert summary.tag_counts == {"anger": 1, "churn_intent": 1, "transfer": 2}
    assert summary.tag_counts_90d == {"churn_intent": 1, "transfer": 1}
    assert [(t.key, t.label, t.calls) for t in summary.top_topics] == [
        ("2", "ログインできない", 2),
        ("1", "請求・料金", 1),
    ]
    assert [(e.call_id, e.tag) for e in summary.recent_evidence] == [
        ("c", "transfer"),
        ("b", "churn_intent"),
        ("a", "anger"),
        ("a", "anger"),
        ("a", "transfer"),
    ]
    assert summary.evidence_by_tag["churn_intent"][0].text == "他社に乗り換えようと思ってます"


def test_customer_without_calls(call) -> None:
    summary = summarise_customer("C0", [], now=call("x", 0).started_at)
    assert summary.call_count == 0 and summary.last_call is None and summary.repeat_contact_rate == 0.0
    assert summary.sentiment_trend is None and summary.open_issues == ()
