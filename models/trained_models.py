"""Trained model versions (sentiment classifiers, churn models) stored in ``trained_models``.

Blobs are pickled scikit-learn objects written by koe itself: load them only from a database you
trust, as with any pickle.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.tables import TrainedModelRow


@dataclass(frozen=True, slots=True)
class StoredModel:
    """A trained model version: its kind, version string, serialised form and evaluation report."""

    kind: str
    version: str
    blob: bytes
    report: dict[str, Any]


def save_trained_model(session: Session, kind: str, blob: bytes, report: dict[str, Any]) -> StoredModel:
    """Store ``blob`` as the current model of ``kind``; the version is ``<kind>-<sha256 prefix>``.

    Storing the same bytes twice makes that version current again instead of duplicating it.
    """
    version = f"{kind}-{hashlib.sha256(blob).hexdigest()[:12]}"
    session.execute(update(TrainedModelRow).where(TrainedModelRow.kind == kind).values(is_current=False))
    row = session.scalar(select(TrainedModelRow).where(TrainedModelRow.version == version))
    if row is None:
        row = TrainedModelRow(kind=kind, version=version, blob=blob, report=report)
        session.add(row)
    row.is_current = True
    row.report = report
    session.flush()
    return StoredModel(kind, version, blob, report)


def current_model_version(session: Session, kind: str) -> str | None:
    """Version of the current model of ``kind`` (a cheap query; ``None`` when there is none)."""
    return session.scalar(
        select(TrainedModelRow.version).where(TrainedModelRow.kind == kind, TrainedModelRow.is_current.is_(True))
    )


def load_trained_model(session: Session, kind: str, version: str | None = None) -> StoredModel | None:
    """The current model of ``kind`` (or a given ``version``), or ``None``."""
    query = select(TrainedModelRow).where(TrainedModelRow.kind == kind)
    query = query.where(TrainedModelRow.version == version) if version else query.where(TrainedModelRow.is_current.is_(True))
    row = session.scalar(query)
    return None if row is None else StoredModel(row.kind, row.version, row.blob, row.report)
