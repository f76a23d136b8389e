"""Customer summaries and churn risk: refresh the customers a run touched, or rescore everyone.

Wiring only: the computation is ``insights`` (stage) and ``models.customers`` (storage). Each batch
of customers is one transaction (retried when the database is busy); webhooks for customers whose
risk level rose go out after that batch committed, and every delivery is recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger

from insights.churn import load_churn_weights
from insights.webhook import build_risk_event, check_webhook_url, deliver, level_rose
from koe.errors import ConfigError
from koe.settings import Settings, get_settings
from models.customers import RiskChange, all_customer_ids, refresh_summaries
from models.db import ensure_database, transaction, with_retries
from models.webhook_deliveries import record_webhook_delivery

#: Customers recomputed per transaction.
BATCH_SIZE = 200


def refresh_customers(settings: Settings, customer_ids: Sequence[str]) -> int:
    """Recompute the summaries and churn risk of ``customer_ids``; returns how many were refreshed.

    Raises:
        ConfigError: when ``KOE_WEBHOOK_URL`` is set without ``KOE_WEBHOOK_SECRET``, or is not https
            (and ``KOE_WEBHOOK_ALLOW_HTTP`` is off).

    """
    if settings.webhook_url and not settings.webhook_secret:
        raise ConfigError(
            "KOE_WEBHOOK_URL is set but KOE_WEBHOOK_SECRET is not; set a secret to sign webhook events"
        )
    if settings.webhook_url:
        check_webhook_url(settings.webhook_url, allow_http=settings.webhook_allow_http)
    url = settings.resolved_database_url
    weights = load_churn_weights(settings.churn_weights)
    now = datetime.now(UTC)
    ids = sorted(set(customer_ids))
    refreshed = 0
    for start in range(0, len(ids), BATCH_SIZE):
        batch = ids[start : start + BATCH_SIZE]

        def write(batch: list[str] = batch) -> list[RiskChange]:
            with transaction(url) as session:
                return refresh_summaries(session, batch, now=now, weights=weights)

        changes = with_retries(write)
        refreshed += len(changes)
        if settings.webhook_url:
            notify_rises(settings, changes, now=now)
    return refreshed


def notify_rises(settings: Settings, changes: Sequence[RiskChange], *, now: datetime) -> int:
    """POST a signed event for every change whose level rose and record each delivery; returns how many."""
    target, secret = settings.webhook_url, settings.webhook_secret
    if not target or not secret:
        return 0
    url = settings.resolved_database_url
    sent = 0
    for change in changes:
        if not level_rose(change.previous_level, change.risk.level):
            continue
        event = build_risk_event(change.customer_id, change.previous_level, change.risk, now=now)
        result = deliver(target, event, secret=secret, allow_http=settings.webhook_allow_http)
        if result.status != "delivered":
            # The event id, never the customer id: run logs outlive a customer's erasure.
            get_logger().warning("webhook event %s failed: %s", event["id"], result.error)

        def record(change: RiskChange = change, event: dict[str, Any] = event, result: Any = result) -> None:
            with transaction(url) as session:
                record_webhook_delivery(session, change.customer_id, target, event, result)

        with_retries(record)
        sent += 1
    return sent


def get_logger() -> Any:
    """Prefect's run logger inside a flow, the module logger outside one."""
    import logging

    try:
        return get_run_logger()
    except Exception:
        return logging.getLogger(__name__)


@flow(name="rescore-customers", log_prints=True)
def rescore_customers() -> dict[str, Any]:
    """Recompute every customer's summary and churn risk (after ``koe churn train`` or new weights)."""
    from flows.run_records import finish_flow_run, start_flow_run

    settings = get_settings()
    url = settings.resolved_database_url
    ensure_database(url)
    run_id = start_flow_run("rescore_customers", {})
    with transaction(url) as session:
        ids = all_customer_ids(session)
    try:
        refreshed = refresh_customers(settings, ids)
    except Exception as exc:
        finish_flow_run(run_id, {"customers": 0}, error=str(exc))
        raise
    summary = {"customers": refreshed, "run_id": run_id}
    get_logger().info("rescored %d customers", refreshed)
    finish_flow_run(run_id, {"customers": refreshed})
    return summary
