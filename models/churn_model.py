"""The stored churn model: save a fitted model's blob, load the current one (once per version).

Fitting is the insights stage's (:mod:`insights.train`); this module reads the facts it needs and
stores what it returns in ``trained_models`` (kind ``churn``). Write functions only add and flush;
the caller owns the transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from insights.train import (
    TrainedChurnModel,
    load_churn_model,
    read_churn_labels,
    serialise_churn_model,
    train_churn_from_labels,
)
from koe.errors import TrainingError
from models.call_facts import load_call_facts
from models.trained_models import StoredModel, load_trained_model, save_trained_model

CHURN_KIND = "churn"


# A version is the hash of its blob (``models.trained_models``), so a (version, blob) pair never
# changes meaning: every request and refresh batch reuses the unpickled model of the current
# version instead of unpickling scikit-learn objects again.
@lru_cache(maxsize=8)
def load_churn_model_version(version: str, blob: bytes) -> TrainedChurnModel:
    """The churn model stored as ``version``, unpickled once per process.

    Args:
        version: ``churn-<sha256 prefix>`` of ``blob``.
        blob: The stored bytes (from koe's own database only: they are a pickle).

    Raises:
        TrainingError: when the bytes are not a churn model.

    """
    return load_churn_model(blob, version)


def current_churn_model(session: Session) -> TrainedChurnModel | None:
    """The current trained churn model, or ``None`` (then the default weights score)."""
    stored = load_trained_model(session, CHURN_KIND)
    return None if stored is None else load_churn_model_version(stored.version, stored.blob)


def save_churn_model(session: Session, model: TrainedChurnModel, report: dict[str, Any]) -> StoredModel:
    """Store ``model`` as the current churn model, with its evaluation ``report``.

    Raises:
        TrainingError: when the stored version differs from the one the model was fitted as.

    """
    stored = save_trained_model(session, CHURN_KIND, serialise_churn_model(model), report)
    if stored.version != model.version:
        raise TrainingError(f"stored churn model version {stored.version} differs from {model.version}")
    return stored


def train_churn_from_csv(session: Session, path: Path, *, now: datetime | None = None) -> dict[str, Any]:
    """``koe churn train --labels churned.csv``: fit, evaluate and store a churn model version.

    Wiring: the labels are read and the model fitted by :mod:`insights.train`, on the labelled
    customers' calls loaded here. Labelled customers without processed calls are left out (counted
    in ``unknown_customers``). Stored scores keep their old model version until the customers are
    refreshed (``rescore_customers``).

    Returns:
        The training report: ``version``, ``customers``, ``churned``, ``cv_roc_auc``, ``cv_folds``,
        ``top_features``, ``labels_read`` and ``unknown_customers``.

    Raises:
        InputError: for an unreadable labels file.
        TrainingError: for too few labels or a single class.

    """
    labels = read_churn_labels(path)
    training = train_churn_from_labels(
        labels, load_call_facts(session, sorted(labels)), now=now or datetime.now(UTC)
    )
    save_churn_model(session, training.model, training.report)
    return {
        **training.report,
        "labels_read": training.labels_read,
        "unknown_customers": training.unknown_customers,
    }
