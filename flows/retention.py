"""``purge_expired``: the retention flow (``KOE_RETENTION_DAYS``), recorded like every koe flow.

The policy (what is dropped, what is kept) lives in :mod:`models.privacy`; this flow only reads the
settings, runs it in one transaction with retries, and records the run.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger

from flows.run_records import recorded_run
from koe.errors import ConfigError
from koe.settings import get_settings
from models.db import ensure_database, transaction, with_retries
from models.privacy import purge_expired as purge_expired_rows


@flow(name="purge-expired", log_prints=True)
def purge_expired(retention_days: int | None = None) -> dict[str, Any]:
    """Drop raw text and recordings of calls older than the retention limit; keep the reports.

    Args:
        retention_days: Override of ``KOE_RETENTION_DAYS`` for this run.

    Returns:
        The purge summary of :func:`models.privacy.purge_expired` with ``run_id``.

    Raises:
        ConfigError: when no retention limit is configured or given.

    """
    settings = get_settings()
    days = retention_days if retention_days is not None else settings.retention_days
    if days is None or days < 1:
        raise ConfigError("KOE_RETENTION_DAYS is not set; set it to the number of days raw text and recordings are kept")
    url = settings.resolved_database_url
    ensure_database(url)
    now = datetime.now(UTC)

    def purge() -> dict[str, Any]:
        with transaction(url) as session:
            return purge_expired_rows(session, retention_days=days, now=now, data_dir=settings.data_dir)

    with recorded_run("purge_expired", {"retention_days": days}) as run:
        run.summary = with_retries(purge)
        get_run_logger().info(
            "purged raw text of %d utterance(s) and %d recording(s) older than %s",
            run.summary["raw_texts"],
            run.summary["recordings"],
            run.summary["cutoff"],
        )
    return {**run.summary, "run_id": run.run_id}
