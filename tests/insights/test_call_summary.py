from __future__ import annotations

import pytest

from insights.brief import build_brief
from insights.call_summary import summarise_call
from insights.churn import default_churn_risk
from insights.records import Evidence
from insights.summary import find_open_issues, summarise_customer
from tests.insights.conftest import NOW, make_call, make_hit, make_utterances

# --------------------------------------------------------------------------- negative evidence

WORSE = [0.3, 0.1, -0.1, -0.3, -0.5]  # the customer's mean sentiment per call, oldest first


def _worsening_history(lines_by_call: dict[int, tuple]) -> list:
    return [
        make_call(f"c{i}", 50 - 5 * i, sentiment=s, utterances=make_utterances(*lines_by_call.get(i, ())))
        for i, s in enumerate(WORSE)
    ]


@pytest.mark.parametrize(
    ("lines_by_call", "expected"),
    [
        pytest.param(
            {
                3: (
                    ("customer", "また同じことを説明するんですか", -0.4),
                    ("agent", "申し訳ございません", -0.3),
                ),
                4: (
                    ("customer", "いい加減にしてほしいです", -0.8),
                    ("customer", "もう三回目なんですよ", -0.5),
                    ("customer", "わかりました 待ってます", 0.0),  # their last words: neutral
                ),
            },
            [
                ("c4", "いい加減にしてほしいです"),
                ("c4", "もう三回目なんですよ"),
                ("c3", "また同じことを説明するんですか"),
            ],
            id="most-negative-first-customer-only",
        ),
        pytest.param(
            {4: (("customer", "わかりました 待ってます", 0.0), ("customer", "助かります", 0.5))},
            [],
            id="no-negative-utterance-no-evidence",
        ),
    ],
)
def test_worsening_sentiment_is_backed_by_negative_customer_utterances(lines_by_call, expected) -> None:
    calls = _worsening_history(lines_by_call)
    calls[-1] = make_call(
        "c4",
        30,
        sentiment=WORSE[-1],
        trajectory="worsening",
        utterances=calls[-1].utterances,
        # The issue's case: the last words were what backed 「感情の悪化」.
        last_customer_utterance=Evidence("c4", 20.0, "わかりました 待ってます"),
    )
    summary = summarise_customer("C1", calls, now=NOW)
    reason = next(r for r in default_churn_risk(summary).reasons if r.factor == "worsening_sentiment")
    assert [(e.call_id, e.text) for e in reason.evidence] == expected
    assert all(m.sentiment <= -0.15 for m in summary.negative_moments)


def test_negative_moments_come_from_the_calls_of_the_trend() -> None:
    old = make_call("old", 90, sentiment=-0.9, utterances=make_utterances(("customer", "最悪です", -0.95)))
    recent = _worsening_history({2: (("customer", "ちょっと困ってます", -0.3),)})
    summary = summarise_customer("C1", [old, *recent], now=NOW)  # six calls: the trend is the last five
    assert [m.text for m in summary.negative_moments] == ["ちょっと困ってます"]


# --------------------------------------------------------------------------- open issues

PROMISE = make_utterances(
    ("customer", "先月の請求が二重になっているんですけど"),
    ("agent", "担当部署で確認して、明日中に折り返しご連絡いたします。"),
    ("customer", "わかりました 待ってます"),
)
PROMISE_HIT = make_hit("unresolved", PROMISE, 1, "明日中に折り返しご連絡")
STILL_BROKEN = make_utterances(
    ("customer", "結局まだ直ってないんですよ", -0.5), ("agent", "申し訳ございません")
)
BROKEN_HIT = make_hit("unresolved", STILL_BROKEN, 0, "まだ直ってない")


def _promise_call(call_id: str, days_ago: float, **kw):
    return make_call(call_id, days_ago, utterances=PROMISE, hits=(PROMISE_HIT,), **kw)


@pytest.mark.parametrize(
    ("history", "open_ids"),
    [
        pytest.param(
            lambda: [make_call("a", 20), _promise_call("b", 3)], ["b"], id="calls-end-with-a-promise"
        ),
        pytest.param(
            lambda: [_promise_call("a", 20), make_call("b", 3)], [], id="later-call-same-topic-resolves"
        ),
        pytest.param(
            lambda: [_promise_call("a", 20), make_call("b", 3, topic=2)], ["a"], id="other-topic-does-not"
        ),
        pytest.param(
            lambda: [
                _promise_call("a", 20, topic=None, categories=("請求",)),
                make_call("b", 3, topic=None, categories=("請求",)),
            ],
            [],
            id="no-topic-same-category-resolves",
        ),
        pytest.param(
            lambda: [
                _promise_call("a", 20, topic=None, categories=("請求",)),
                make_call("b", 3, topic=None, categories=("配送",)),
            ],
            ["a"],
            id="no-topic-other-category-does-not",
        ),
        pytest.param(
            lambda: [_promise_call("a", 20, topic=None), make_call("b", 3, topic=None)],
            ["a"],
            id="no-topic-no-category-stays-open",
        ),
        pytest.param(
            lambda: [
                _promise_call("a", 20),
                make_call("b", 10, tags=("unresolved",)),
                make_call("c", 3, topic=2),
            ],
            ["a", "b"],
            id="same-topic-still-unresolved",
        ),
    ],
)
def test_an_issue_stays_open_until_a_later_call_on_the_same_reason_resolves_it(history, open_ids) -> None:
    assert [i.call_id for i in find_open_issues(history())] == open_ids


def test_brief_shows_the_open_promise_with_its_date() -> None:
    calls = [make_call("a", 20, tags=("transfer",)), _promise_call("b", 3)]
    brief = build_brief(summary := summarise_customer("C1", calls, now=NOW), default_churn_risk(summary))
    (issue,) = brief.open_issues
    assert issue.call_id == "b" and issue.start_s == 10.0
    assert issue.evidence == "担当部署で確認して、【明日中に折り返しご連絡】いたします。"
    assert issue.promise == "担当部署で確認して、明日中に折り返しご連絡いたします。"
    assert issue.outcome == "callback_promised"
    assert issue.summary == f"{issue.started_at:%Y-%m-%d} 請求・料金: 「{issue.promise}」（折り返しを約束）"
    assert brief.open_issues_text.startswith("未解決の問題: ") and "ありません" not in brief.open_issues_text
    assert (
        issue.promise in brief.open_issues_text and f"{issue.started_at:%Y-%m-%d}" in brief.open_issues_text
    )
    assert "未解決 1 件" in brief.summary


def test_brief_without_open_issues_says_so() -> None:
    summary = summarise_customer("C1", [make_call("a", 3)], now=NOW)
    assert build_brief(summary, default_churn_risk(summary)).open_issues_text == "未解決の問題: ありません"


# --------------------------------------------------------------------------- one line per call

CASES = [
    pytest.param(
        make_utterances(
            ("customer", "もしもし"),
            ("agent", "お電話ありがとうございます。"),
            ("customer", "はい、山田です"),
            ("customer", "ログインできなくなってしまって困ってるんです"),
            ("agent", "パスワードを再設定いたしました。"),
            ("agent", "ありがとうございました。失礼いたします。"),
        ),
        (),
        (
            "ログインできなくなってしまって困ってるんです",
            30.0,
            "パスワードを再設定いたしました。",
            40.0,
            "resolved",
        ),
        id="resolved-reason-after-greetings-action-before-goodbye",
    ),
    pytest.param(
        PROMISE,
        (PROMISE_HIT,),
        (
            "先月の請求が二重になっているんですけど",
            0.0,
            PROMISE_HIT.evidence.replace("【", "").replace("】", ""),
            10.0,
            "callback_promised",
        ),
        id="callback-promise",
    ),
    pytest.param(
        make_utterances(
            ("customer", "解約の手続きをしたいんですが"),
            ("agent", "専用の窓口におつなぎします。"),
            ("agent", "少々お待ちください。"),
        ),
        (
            make_hit(
                "transfer",
                make_utterances(("customer", "x"), ("agent", "専用の窓口におつなぎします。")),
                1,
                "おつなぎします",
            ),
        ),
        ("解約の手続きをしたいんですが", 0.0, "専用の窓口におつなぎします。", 10.0, "resolved"),
        id="transfer-evidence-is-the-action",
    ),
    pytest.param(
        STILL_BROKEN,
        (BROKEN_HIT,),
        ("結局まだ直ってないんですよ", 0.0, None, None, "still_broken"),
        id="customer-says-still-broken",
    ),
]


@pytest.mark.parametrize(("utterances", "hits", "expected"), CASES)
def test_call_summary_has_reason_action_and_outcome(utterances, hits, expected) -> None:
    summary = summarise_call(make_call("x", 1, utterances=utterances, hits=hits))
    assert (
        summary.reason,
        summary.reason_start_s,
        summary.action,
        summary.action_start_s,
        summary.outcome,
    ) == expected
    assert summary.line.startswith(f"{summary.started_at:%Y-%m-%d} ［請求・料金］ ")
    assert summary.outcome_label in summary.line
    for part in (summary.reason, summary.action):
        assert part is None or f"「{part}」" in summary.line


def test_call_summary_without_utterances_says_what_is_unknown() -> None:
    line = summarise_call(make_call("x", 1)).line
    assert "用件不明" in line and "対応不明" in line and line.endswith("→ 解決")


def test_brief_lists_the_recent_calls_newest_first() -> None:
    calls = [make_call(f"c{i}", 30 - i) for i in range(7)]
    summary = summarise_customer("C1", calls, now=NOW)
    brief = build_brief(summary, default_churn_risk(summary))
    assert [c.call_id for c in brief.calls] == ["c6", "c5", "c4", "c3", "c2"]
