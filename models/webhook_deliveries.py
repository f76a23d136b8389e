"""Webhook deliveries: one row per churn-risk event sent, with how its delivery went."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from insights.webhook import DeliveryResult
from models.tables import WebhookDelivery


def record_webhook_delivery(
    session: Session, customer_id: str, url: str, event: dict[str, Any], result: DeliveryResult
) -> int:
    """Record one webhook event and how its delivery went (adds and flushes only).

    Args:
        session: Open session (the caller commits).
        customer_id: The customer the event is about.
        url: Where it was sent.
        event: The event body as sent.
        result: Status, attempts, last HTTP status code and error of the delivery.

    Returns:
        The delivery row id.

    """
    row = WebhookDelivery(
        customer_id=customer_id,
        url=url,
        event=event,
        status=result.status,
        attempts=result.attempts,
        last_status_code=result.status_code,
        last_error=result.error,
        delivered_at=result.delivered_at,
    )
    session.add(row)
    session.flush()
    return row.id
