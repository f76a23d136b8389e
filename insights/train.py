"""Supervised churn scoring, for when the data team has outcomes (``customer_id,churned``).

The model is a logistic regression on standardised customer features (:data:`FEATURE_NAMES`),
calibrated with :class:`~sklearn.calibration.CalibratedClassifierCV` (sigmoid) so its scores are
probabilities. Training reports the cross-validated ROC AUC (stratified folds, the whole
calibrated pipeline refitted per fold) and the features with the largest coefficients.
:func:`read_churn_labels` reads the outcomes CSV and :func:`train_churn_from_labels` turns labels
and the labelled customers' calls into a fitted model; storing it is ``models.churn_model``'s job.

Each score is explained by feature contributions: ``coefficient × standardised value`` of a
logistic regression fitted on all labels, in log-odds units; the features pushing the score up
become the reasons, with the evidence of the matching factor or tag.

The model is serialised with :mod:`pickle` (scikit-learn objects). Load blobs only from koe's own
database: unpickling untrusted bytes runs arbitrary code.
"""

from __future__ import annotations

import csv
import hashlib
import io
import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from insights.churn import FACTORS, factor_signals, risk_level
from insights.records import CallFacts, ChurnReason, ChurnRisk, CustomerSummary, Evidence
from insights.summary import summarise_customer
from koe.errors import InputError, TrainingError
from koe.taxonomy import TAG_IDS

TAGS = TAG_IDS
#: The features a trained model sees, in order: the default factors' signals, counts and trends.
FEATURE_NAMES: tuple[str, ...] = (
    *FACTORS,
    "open_issues",
    "repeat_contact_rate",
    "same_topic_repeat_rate",
    "contacts_30d",
    "contacts_90d",
    "call_count",
    "recent_sentiment",
    "sentiment_trend",
    "effort_index",
    "effort_trend",
    "days_since_last_contact",
    *(f"tag_{tag}_90d" for tag in TAGS),
)
MIN_CUSTOMERS = 20
MIN_PER_CLASS = 5
CV_FOLDS = 5
TOP_REASONS = 5


def customer_features(summary: CustomerSummary) -> dict[str, float]:
    """The features of :data:`FEATURE_NAMES` for one customer (missing values are 0)."""
    signals = factor_signals(summary)
    last = summary.last_contact
    features = {name: signals[name].signal for name in FACTORS}
    features.update(
        open_issues=float(len(summary.open_issues)),
        repeat_contact_rate=summary.repeat_contact_rate,
        same_topic_repeat_rate=summary.same_topic_repeat_rate,
        contacts_30d=float(summary.contacts_30d),
        contacts_90d=float(summary.contacts_90d),
        call_count=float(summary.call_count),
        recent_sentiment=summary.recent_sentiment or 0.0,
        sentiment_trend=summary.sentiment_trend or 0.0,
        effort_index=summary.effort_index or 0.0,
        effort_trend=summary.effort_trend or 0.0,
        days_since_last_contact=(summary.computed_at - last).total_seconds() / 86400 if last else 365.0,
    )
    for tag in TAGS:
        features[f"tag_{tag}_90d"] = float(summary.tag_counts_90d.get(tag, 0))
    return features


def _matrix(features: Sequence[Mapping[str, float]], names: Sequence[str]) -> np.ndarray:
    return np.array([[float(row.get(name, 0.0)) for name in names] for row in features], dtype=float)


@dataclass(frozen=True)
class TrainedChurnModel:
    """A calibrated churn classifier and the linear explainer that says why it scores what it does.

    Attributes:
        feature_names: Column order of the features.
        classifier: Fitted ``CalibratedClassifierCV`` (standardise + logistic regression).
        mean: Feature means used to standardise, per feature.
        scale: Feature standard deviations (1 where constant), per feature.
        coef: Logistic-regression coefficients on standardised features (log-odds per SD).
        medium: Lowest probability of level ``medium``.
        high: Lowest probability of level ``high``.
        version: ``churn-<sha256 prefix>`` of the serialised model (set on save/load).

    """

    feature_names: tuple[str, ...]
    classifier: Any
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    medium: float = 0.3
    high: float = 0.6
    version: str = ""

    def predict(self, features: Sequence[Mapping[str, float]]) -> np.ndarray:
        """Churn probabilities in [0, 1], one per feature row."""
        if not features:
            return np.zeros(0)
        return np.asarray(self.classifier.predict_proba(_matrix(features, self.feature_names))[:, 1])

    def contributions(self, features: Mapping[str, float]) -> dict[str, float]:
        """``coef × standardised value`` per feature (log-odds units)."""
        row = _matrix([features], self.feature_names)[0]
        values = self.coef * (row - self.mean) / self.scale
        return dict(zip(self.feature_names, (float(v) for v in values), strict=True))


def _feature_evidence(
    name: str, summary: CustomerSummary, signals: Mapping[str, Any]
) -> tuple[Evidence, ...]:
    if name in signals:
        return tuple(signals[name].evidence)
    if name == "open_issues":
        return tuple(signals["unresolved_issues"].evidence)
    if name.startswith("tag_") and name.endswith("_90d"):
        items = summary.evidence_by_tag.get(name[4:-4], ())
        return tuple(Evidence(e.call_id, e.start_s, e.text) for e in items[:3])
    if name in ("recent_sentiment", "sentiment_trend"):
        return tuple(signals["worsening_sentiment"].evidence)
    if name in ("effort_index", "effort_trend"):
        return tuple(signals["rising_effort"].evidence)
    return ()


def model_churn_risk(model: TrainedChurnModel, summary: CustomerSummary) -> ChurnRisk:
    """Score a customer with a trained model; reasons are the features that raise the score.

    Returns:
        The calibrated probability as the score, its level, up to 5 reasons (``contribution`` in
        log-odds: coefficient × standardised value) and ``model.version``.

    """
    features = customer_features(summary)
    score = float(model.predict([features])[0])
    signals = factor_signals(summary)
    ranked = sorted(
        ((name, value) for name, value in model.contributions(features).items() if value > 0),
        key=lambda item: (-item[1], item[0]),
    )[:TOP_REASONS]
    reasons = tuple(
        ChurnReason(name, value, _feature_evidence(name, summary, signals)) for name, value in ranked
    )
    return ChurnRisk(score, risk_level(score, medium=model.medium, high=model.high), reasons, model.version)


def _check_labels(labels: np.ndarray) -> None:
    n = len(labels)
    positives = int(labels.sum())
    negatives = n - positives
    if n < MIN_CUSTOMERS:
        raise TrainingError(
            f"only {n} labelled customers with calls; need at least {MIN_CUSTOMERS} (and {MIN_PER_CLASS} of each "
            "class) to train a churn model: add labels or keep the default score"
        )
    if positives == 0 or negatives == 0:
        only = "churned" if positives else "not churned"
        raise TrainingError(
            f"all {n} labelled customers are {only}; labels need both churned and retained customers"
        )
    if min(positives, negatives) < MIN_PER_CLASS:
        raise TrainingError(
            f"{positives} churned and {negatives} retained customers; need at least {MIN_PER_CLASS} of each class"
        )


def train_churn_model(
    features: Sequence[Mapping[str, float]], labels: Sequence[bool], *, medium: float = 0.3, high: float = 0.6
) -> tuple[TrainedChurnModel, dict[str, Any]]:
    """Fit a calibrated logistic regression on customer features and evaluate it by cross-validation.

    Args:
        features: One mapping of :data:`FEATURE_NAMES` per customer (see :func:`customer_features`).
        labels: Whether each customer churned, same order.
        medium: Lowest probability of level ``medium``.
        high: Lowest probability of level ``high``.

    Returns:
        The model (``version`` set from its serialised bytes) and a report: ``customers``,
        ``churned``, ``cv_folds``, ``cv_roc_auc``, ``top_features`` (``feature``, ``coef``).

    Raises:
        TrainingError: fewer than 20 customers, a single class, or fewer than 5 of a class.

    """
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if len(features) != len(labels):
        raise TrainingError(f"{len(features)} feature rows but {len(labels)} labels")
    y = np.array([bool(v) for v in labels], dtype=int)
    _check_labels(y)
    names = FEATURE_NAMES
    x = _matrix(features, names)
    folds = min(CV_FOLDS, int(y.sum()), int(len(y) - y.sum()))

    def pipeline() -> Any:
        return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))

    def calibrated() -> Any:
        return CalibratedClassifierCV(pipeline(), method="sigmoid", cv=min(3, folds))

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    cv_scores = cross_val_predict(calibrated(), x, y, cv=splitter, method="predict_proba")[:, 1]
    classifier = calibrated().fit(x, y)
    explainer = pipeline().fit(x, y)
    scaler, regression = explainer[0], explainer[-1]
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    model = TrainedChurnModel(
        feature_names=names,
        classifier=classifier,
        mean=np.asarray(scaler.mean_, dtype=float),
        scale=np.asarray(scale, dtype=float),
        coef=np.asarray(regression.coef_[0], dtype=float),
        medium=medium,
        high=high,
    )
    model = replace(model, version=model_version(serialise_churn_model(model)))
    order = np.argsort(-np.abs(model.coef))
    report = {
        "customers": len(y),
        "churned": int(y.sum()),
        "cv_folds": folds,
        "cv_roc_auc": round(float(roc_auc_score(y, cv_scores)), 4),
        "top_features": [{"feature": names[i], "coef": round(float(model.coef[i]), 4)} for i in order[:10]],
        "version": model.version,
    }
    return model, report


@dataclass(frozen=True, slots=True)
class ChurnTraining:
    """A churn model fitted on known outcomes, with what went into it.

    Attributes:
        model: The fitted model (``version`` set from its serialised bytes).
        report: :func:`train_churn_model`'s evaluation report (stored with the model).
        labels_read: Labelled customers in the outcomes file.
        unknown_customers: Labelled customers left out because they have no processed calls.

    """

    model: TrainedChurnModel
    report: dict[str, Any]
    labels_read: int
    unknown_customers: int


def train_churn_from_labels(
    labels: Mapping[str, bool], calls: Mapping[str, Sequence[CallFacts]], *, now: datetime
) -> ChurnTraining:
    """Fit a churn model on known outcomes (``koe churn train --labels churned.csv``).

    Args:
        labels: Whether each customer churned (see :func:`read_churn_labels`).
        calls: The processed calls of (at least) the labelled customers.
        now: The moment the customers' summaries describe (timezone-aware).

    Returns:
        The model and its report; labelled customers without processed calls are left out and
        counted in ``unknown_customers``.

    Raises:
        TrainingError: for too few labelled customers with calls or a single class.

    """
    known = [c for c in sorted(labels) if calls.get(c)]
    features = [customer_features(summarise_customer(c, calls[c], now=now)) for c in known]
    model, report = train_churn_model(features, [labels[c] for c in known])
    return ChurnTraining(model, report, len(labels), len(labels) - len(known))


def serialise_churn_model(model: TrainedChurnModel) -> bytes:
    """The model as bytes (a pickle; the version is not part of it, it is derived from the bytes)."""
    return pickle.dumps(replace(model, version=""), protocol=pickle.HIGHEST_PROTOCOL)


def model_version(blob: bytes) -> str:
    """``churn-<sha256 prefix>``: the same version ``models.trained_models.save_trained_model`` gives ``blob``."""
    return f"churn-{hashlib.sha256(blob).hexdigest()[:12]}"


def load_churn_model(blob: bytes, version: str) -> TrainedChurnModel:
    """Unpickle a model stored by koe (trusted bytes only) and stamp its ``version``.

    Raises:
        TrainingError: when the bytes are not a churn model.

    """
    try:
        # koe's own database only, see the module docstring.
        model = pickle.loads(blob)
    except Exception as exc:
        raise TrainingError(
            f"stored churn model {version} cannot be loaded ({exc}); retrain with `koe churn train`"
        ) from exc
    if not isinstance(model, TrainedChurnModel):
        raise TrainingError(
            f"stored churn model {version} is a {type(model).__name__}; retrain with `koe churn train`"
        )
    return replace(model, version=version)


def read_churn_labels(path: Path) -> dict[str, bool]:
    """Read a ``customer_id,churned`` CSV (header required; churned: 1/0, true/false, yes/no).

    Raises:
        InputError: naming the file and line that cannot be read.

    """
    truthy, falsy = {"1", "true", "yes", "y", "t"}, {"0", "false", "no", "n", "f"}
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(
            f"{path}: cannot read labels ({exc.strerror}); pass a customer_id,churned CSV"
        ) from exc
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not {"customer_id", "churned"} <= {f.strip() for f in reader.fieldnames}:
        raise InputError(f"{path}: expected a header with customer_id,churned (got {reader.fieldnames})")
    labels: dict[str, bool] = {}
    for line, row in enumerate(reader, start=2):
        row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        customer, value = row.get("customer_id", ""), row.get("churned", "").lower()
        if not customer:
            raise InputError(f"{path}:{line}: empty customer_id")
        if value not in truthy | falsy:
            raise InputError(f"{path}:{line}: churned must be 1/0, true/false or yes/no (got {value!r})")
        labels[customer] = value in truthy
    return labels
