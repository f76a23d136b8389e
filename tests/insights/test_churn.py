from __future__ import annotations

from pathlib import Path

import pytest

from insights.churn import ChurnWeights, default_churn_risk, load_churn_weights, risk_level
from insights.summary import summarise_customer
from koe.errors import ConfigError


def _calm(call) -> list:
    return [call("c1", 80, topic=1), call("c2", 50, topic=2), call("c3", 20, topic=3)]


def _risk(call, calls, weights: ChurnWeights | None = None):
    return default_churn_risk(summarise_customer("C", calls, now=call("now", 0).started_at), weights=weights)


def _histories(call) -> dict[str, list]:
    """One customer per factor: the calm history plus exactly that factor's trouble."""
    return {
        "churn_intent": [*_calm(call)[:2], call("c3", 20, topic=3, tags=("churn_intent",))],
        "unresolved_issues": [*_calm(call)[:2], call("c3", 20, topic=3, tags=("unresolved",))],
        "worsening_sentiment": [
            call("c1", 80, topic=1, sentiment=0.4),
            call("c2", 50, topic=2, sentiment=0.0),
            call("c3", 20, topic=3, sentiment=-0.4, trajectory="worsening"),
        ],
        "rising_effort": [
            call("c1", 80, topic=1, effort=5),
            call("c2", 50, topic=2, effort=20),
            call("c3", 20, topic=3, effort=35),
        ],
        "repeat_contacts": [call("c1", 30, topic=1), call("c2", 27, topic=1), call("c3", 24, topic=1)],
        "escalations": [*_calm(call)[:2], call("c3", 20, topic=3, tags=("escalation_request",))],
        "contact_frequency": [call(f"f{i}", 25 - 8 * i, topic=i % 3 + 1) for i in range(4)],
    }


@pytest.mark.parametrize(
    "factor",
    [
        "churn_intent",
        "unresolved_issues",
        "worsening_sentiment",
        "rising_effort",
        "repeat_contacts",
        "escalations",
        "contact_frequency",
    ],
)
def test_each_factor_raises_the_score_above_a_calm_customer(call, factor: str) -> None:
    calm = _risk(call, _calm(call))
    troubled = _risk(call, _histories(call)[factor])
    assert calm.score == pytest.approx(0.0) and calm.level == "low" and calm.reasons == ()
    assert troubled.score > calm.score
    assert troubled.reasons[0].factor == factor
    assert troubled.reasons[0].contribution > 0


def test_evidence_points_at_the_moment(call) -> None:
    risk = _risk(call, _histories(call)["churn_intent"])
    evidence = risk.reasons[0].evidence
    assert [(e.call_id, e.start_s, e.text) for e in evidence] == [
        ("c3", 10.0, "他社に乗り換えようと思ってます")
    ]


def test_known_ranking_of_customers(call) -> None:
    histories = {
        "calm": _calm(call),
        "repeats": _histories(call)["repeat_contacts"],
        "intent_old": [*_calm(call)[:1], call("c2", 200, tags=("churn_intent",))],
        "intent_fresh": _histories(call)["churn_intent"],
        "intent_and_unresolved": [
            call("c1", 40, topic=1, tags=("unresolved",)),
            call("c2", 30, topic=2, tags=("escalation_request",)),
            call("c3", 5, topic=3, tags=("churn_intent",), sentiment=-0.5, trajectory="worsening"),
        ],
    }
    scores = {name: _risk(call, calls).score for name, calls in histories.items()}
    ranking = sorted(scores, key=scores.__getitem__)
    assert ranking == ["calm", "intent_old", "repeats", "intent_fresh", "intent_and_unresolved"]
    assert _risk(call, histories["intent_and_unresolved"]).level == "high"


def test_contributions_add_up_to_the_score(call) -> None:
    risk = _risk(
        call, [call("a", 10, tags=("unresolved", "escalation_request")), call("b", 5, tags=("churn_intent",))]
    )
    assert sum(r.contribution for r in risk.reasons) == pytest.approx(risk.score)
    assert 0 < risk.score < 1
    assert [r.contribution for r in risk.reasons] == sorted(
        (r.contribution for r in risk.reasons), reverse=True
    )


def test_fresh_churn_intent_alone_is_high(call) -> None:
    risk = _risk(call, [call("a", 0, tags=("churn_intent",))])
    assert risk.level == "high" and risk.score == pytest.approx(1 - 2.718281828**-1.2, abs=1e-3)


@pytest.mark.parametrize(
    ("score", "level"), [(0.0, "low"), (0.29, "low"), (0.3, "medium"), (0.59, "medium"), (0.6, "high")]
)
def test_levels(score: float, level: str) -> None:
    assert risk_level(score) == level


def test_weights_from_yaml_change_score_and_version(call, tmp_path: Path) -> None:
    path = tmp_path / "weights.yaml"
    path.write_text("weights:\n  churn_intent: 0\n  escalations: 2.0\nlevels: {medium: 0.2, high: 0.5}\n")
    weights = load_churn_weights(path)
    assert weights.weights["churn_intent"] == 0 and weights.weights["unresolved_issues"] == 0.6
    intent = _histories(call)["churn_intent"]
    assert _risk(call, intent, weights).score == pytest.approx(0.0)
    assert _risk(call, intent).score > 0.5
    assert weights.version != ChurnWeights().version and weights.version.startswith("rules-")
    assert _risk(call, intent, weights).model_version == weights.version


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("weights: {churn: 1}\n", "unknown churn factor 'churn'"),
        ("weights: {escalations: -1}\n", "must be a number >= 0"),
        ("levels: {medium: 0.7, high: 0.6}\n", "0 < medium < high"),
        ("- a\n- b\n", "expected a mapping"),
    ],
)
def test_bad_weights_file_names_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_churn_weights(path)
    assert str(path) in str(info.value)


def test_default_weights_without_a_file() -> None:
    assert load_churn_weights(None) == ChurnWeights()
