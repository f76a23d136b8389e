from __future__ import annotations

import random
from pathlib import Path

import pytest

from insights.summary import summarise_customer
from insights.train import (
    FEATURE_NAMES,
    customer_features,
    load_churn_model,
    model_churn_risk,
    read_churn_labels,
    serialise_churn_model,
    train_churn_from_labels,
    train_churn_model,
)
from koe.errors import InputError, TrainingError


def _history(call, rng: random.Random, churned: bool) -> list:
    """Churners say they want to cancel (most of the time) and have worse sentiment; noise elsewhere."""
    calls = []
    for i in range(4):
        tags = ("churn_intent",) if churned and i == 3 and rng.random() < 0.8 else ()
        if rng.random() < 0.15:
            tags = (*tags, "transfer")
        sentiment = (-0.3 if churned else 0.2) + rng.gauss(0, 0.3)
        calls.append(call(f"c{i}", 60 - 15 * i, tags=tags, sentiment=sentiment, effort=rng.uniform(0, 40)))
    return calls


def _dataset(call, n: int, seed: int = 3):
    rng = random.Random(seed)
    now = call("now", 0).started_at
    labels = [i % 3 == 0 for i in range(n)]
    summaries = [summarise_customer(f"C{i}", _history(call, rng, y), now=now) for i, y in enumerate(labels)]
    return summaries, labels


def test_trained_model_separates_churners_and_explains(call) -> None:
    summaries, labels = _dataset(call, 90)
    model, report = train_churn_model([customer_features(s) for s in summaries], labels)
    assert report["customers"] == 90 and report["churned"] == 30 and report["cv_folds"] == 5
    assert report["cv_roc_auc"] > 0.85
    assert report["version"] == model.version and model.version.startswith("churn-")
    assert {f["feature"] for f in report["top_features"][:4]} & {
        "churn_intent",
        "tag_churn_intent_90d",
        "recent_sentiment",
    }

    churner = next(
        s for s, y in zip(summaries, labels, strict=True) if y and s.tag_counts.get("churn_intent")
    )
    risk = model_churn_risk(model, churner)
    assert risk.model_version == model.version and 0 <= risk.score <= 1
    assert risk.reasons and all(r.contribution > 0 for r in risk.reasons)
    assert any(r.evidence for r in risk.reasons if "churn_intent" in r.factor)
    contributions = model.contributions(customer_features(churner))
    assert set(contributions) == set(FEATURE_NAMES)
    assert risk.reasons[0].contribution == pytest.approx(max(contributions.values()))

    scores = model.predict([customer_features(s) for s in summaries])
    mean_churn = scores[[i for i, y in enumerate(labels) if y]].mean()
    mean_stay = scores[[i for i, y in enumerate(labels) if not y]].mean()
    assert mean_churn > mean_stay + 0.3


def test_train_from_labels_leaves_out_customers_without_calls(call) -> None:
    rng = random.Random(5)
    now = call("now", 0).started_at
    labels = {f"C{i}": i % 3 == 0 for i in range(30)}
    calls = {c: _history(call, rng, churned) for c, churned in labels.items()}
    labels |= {"stranger": True, "silent": False}
    calls["silent"] = []
    training = train_churn_from_labels(labels, calls, now=now)
    assert (training.labels_read, training.unknown_customers) == (32, 2)
    assert training.report["customers"] == 30 and training.report["churned"] == 10
    assert training.report["version"] == training.model.version


def test_serialise_round_trip_keeps_scores_and_version(call) -> None:
    summaries, labels = _dataset(call, 40)
    features = [customer_features(s) for s in summaries]
    model, _ = train_churn_model(features, labels)
    blob = serialise_churn_model(model)
    loaded = load_churn_model(blob, model.version)
    assert loaded.version == model.version
    assert list(loaded.predict(features)) == pytest.approx(list(model.predict(features)))


def test_load_rejects_other_bytes() -> None:
    with pytest.raises(TrainingError, match="retrain"):
        load_churn_model(b"not a pickle", "churn-x")


@pytest.mark.parametrize(
    ("n", "positives", "message"),
    [
        (19, 9, "only 19 labelled customers"),
        (30, 0, "all 30 labelled customers are not churned"),
        (30, 30, "all 30 labelled customers are churned"),
        (30, 4, "4 churned and 26 retained"),
    ],
)
def test_too_few_labels_is_a_clear_error(n: int, positives: int, message: str) -> None:
    features = [{name: float(i) for name in FEATURE_NAMES} for i in range(n)]
    labels = [i < positives for i in range(n)]
    with pytest.raises(TrainingError, match=message):
        train_churn_model(features, labels)


def test_read_labels(tmp_path: Path) -> None:
    path = tmp_path / "churned.csv"
    path.write_text("customer_id,churned\nC1,1\nC2,false\n C3 , yes\n", encoding="utf-8")
    assert read_churn_labels(path) == {"C1": True, "C2": False, "C3": True}


@pytest.mark.parametrize(
    ("text", "message"),
    [("id,label\nC1,1\n", "customer_id,churned"), ("customer_id,churned\nC1,maybe\n", ":2: churned must be")],
)
def test_read_labels_errors_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        read_churn_labels(path)
