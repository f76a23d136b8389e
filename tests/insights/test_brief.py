from __future__ import annotations

from insights.brief import build_brief
from insights.churn import default_churn_risk
from insights.labels import TAG_LABELS
from insights.records import Evidence
from insights.summary import summarise_customer


def test_brief_says_risk_why_open_issues_quotes_and_how_the_last_call_ended(call) -> None:
    calls = [
        call("a", 30, topic=1, tags=("unresolved",)),
        call("b", 25, topic=2, tags=("transfer", "anger")),
        call(
            "c",
            2,
            topic=2,
            tags=("churn_intent",),
            sentiment=-0.6,
            trajectory="worsening",
            last_customer_utterance=Evidence("c", 185.0, "もう結構です"),
        ),
    ]
    summary = summarise_customer("C-1001", calls, now=call("now", 0).started_at)
    risk = default_churn_risk(summary)
    brief = build_brief(summary, risk)

    assert brief.customer_id == "C-1001" and brief.level == "high" and brief.level_label == "高"
    assert brief.headline.startswith("解約リスク高（") and "解約の意向" in brief.headline
    assert brief.reasons[0].factor == "churn_intent" and brief.reasons[0].label == "解約の意向"
    assert [i.call_id for i in brief.open_issues] == ["a"]
    assert "未解決 1 件" in brief.summary and "通話 3 件" in brief.summary
    assert [(q.tag, q.tag_label, q.call_id) for q in brief.recent_frustration] == [
        ("churn_intent", "解約の意向", "c"),
        ("transfer", "たらい回し（転送）", "b"),  # within a call: in time order
        ("anger", TAG_LABELS["anger"], "b"),
    ]
    assert brief.last_call is not None
    assert brief.last_call.call_id == "c" and brief.last_call.trajectory == "worsening"
    assert brief.last_call.trajectory_label == "悪化して終了"
    assert brief.last_call.ending == "もう結構です" and brief.last_call.ending_start_s == 185.0
    assert "「もう結構です」" in brief.last_call.summary
    assert [t.label for t in brief.topics] == ["ログインできない", "請求・料金"]


def test_brief_of_a_quiet_customer(call) -> None:
    summary = summarise_customer("C2", [call("a", 40)], now=call("now", 0).started_at)
    brief = build_brief(summary, default_churn_risk(summary))
    assert brief.level == "low" and brief.reasons == () and "目立った兆候なし" in brief.headline
    assert brief.recent_frustration == () and brief.open_issues == ()
    assert brief.last_call is not None and brief.last_call.ending is None
