"""Outgoing webhook: tell another system when a customer's churn-risk level rises.

An event is sent only when the level goes up (low→medium, medium→high, low→high; a customer seen
for the first time counts as coming from ``low``). The body is compact JSON (UTF-8, keys sorted)::

    {"id": "evt_3f2a…", "type": "customer.churn_risk.rose", "customer_id": "C-1001",
     "previous_level": "low", "level": "high", "score": 0.82, "model_version": "rules-…",
     "top_reasons": [...], "occurred_at": "2026-03-01T09:00:00+00:00"}

Signature: ``X-Koe-Timestamp: <unix seconds>`` and ``X-Koe-Signature: sha256=<hex>`` where the hex
is ``HMAC-SHA256(secret, f"{timestamp}.".encode() + body)``; ``X-Koe-Event-Id`` repeats the
event's ``id``. Replays are refused in two steps: :func:`verify` rejects a timestamp more than
``max_age_s`` (five minutes) away from now, and within that window a receiver drops an ``id`` it
has already seen (every retry of one event carries the same id, so retries are idempotent too).

The URL must be ``https://``: the body names a customer and quotes their calls. Plain ``http://``
is refused unless explicitly allowed (``KOE_WEBHOOK_ALLOW_HTTP``, for a receiver on the same host).

Delivery: POST with httpx; 2xx is delivered; 5xx, 408, 429 and connection errors are retried with
exponential backoff (``base_delay_s × 2**attempt``, at most ``attempts`` tries in all); any other
status fails at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from insights.records import ChurnRisk
from koe.errors import ConfigError

LEVEL_RANK = {"low": 0, "medium": 1, "high": 2}
SIGNATURE_HEADER = "X-Koe-Signature"
TIMESTAMP_HEADER = "X-Koe-Timestamp"
EVENT_ID_HEADER = "X-Koe-Event-Id"
#: How far a signed timestamp may be from the receiver's clock, in seconds, before it is a replay.
MAX_AGE_S = 300
EVENT_TYPE = "customer.churn_risk.rose"
RETRY_STATUSES = frozenset({408, 429})


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """How a delivery went.

    Attributes:
        status: ``delivered`` or ``failed``.
        attempts: How many POSTs were made.
        status_code: HTTP status of the last attempt (``None`` when it never got a response).
        error: What went wrong on the last failed attempt.
        delivered_at: When the receiver accepted it.

    """

    status: Literal["delivered", "failed"]
    attempts: int
    status_code: int | None = None
    error: str | None = None
    delivered_at: datetime | None = None


def level_rose(previous: str | None, current: str) -> bool:
    """Whether ``current`` is a higher level than ``previous`` (``None`` counts as ``low``)."""
    return LEVEL_RANK.get(current, 0) > LEVEL_RANK.get(previous or "low", 0)


def build_risk_event(
    customer_id: str, previous_level: str | None, risk: ChurnRisk, *, now: datetime
) -> dict[str, Any]:
    """The JSON event for a customer whose churn-risk level rose (shape in the module docstring).

    Each event gets a fresh random ``id``, which its retries keep.
    """
    return {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": EVENT_TYPE,
        "customer_id": customer_id,
        "previous_level": previous_level or "low",
        "level": risk.level,
        "score": round(risk.score, 4),
        "model_version": risk.model_version,
        "top_reasons": [
            {
                "factor": r.factor,
                "contribution": round(r.contribution, 4),
                "evidence": [
                    {"call_id": e.call_id, "start_s": e.start_s, "text": e.text} for e in r.evidence
                ],
            }
            for r in risk.reasons[:3]
        ],
        "occurred_at": now.isoformat(),
    }


def encode_event(event: dict[str, Any]) -> bytes:
    """The exact bytes sent and signed: compact UTF-8 JSON with sorted keys."""
    return json.dumps(event, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """``sha256=<hex>`` of ``HMAC-SHA256(secret, f"{timestamp}.".encode() + body)``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(
    body: bytes,
    secret: str,
    timestamp: str,
    signature: str,
    *,
    max_age_s: float = MAX_AGE_S,
    now_s: float | None = None,
) -> bool:
    """Receiver side: whether ``signature`` matches ``body`` and a fresh ``timestamp`` (constant-time).

    Args:
        body: The request body as received.
        secret: The shared HMAC secret.
        timestamp: The ``X-Koe-Timestamp`` header (unix seconds).
        signature: The ``X-Koe-Signature`` header.
        max_age_s: Largest difference between the timestamp and now, in seconds (either way:
            a timestamp from the future is as suspect as an old one).
        now_s: The current unix time (default: the clock), for tests.

    Returns:
        ``False`` for a bad signature, a malformed timestamp or one older than ``max_age_s``;
        the receiver should also drop an event ``id`` it has already processed.

    """
    try:
        stamp = int(timestamp)
    except ValueError:
        return False
    current = time.time() if now_s is None else now_s
    if abs(current - stamp) > max_age_s:
        return False
    return hmac.compare_digest(sign(body, secret, stamp), signature)


def check_webhook_url(url: str, *, allow_http: bool = False) -> None:
    """Refuse a receiver URL that is not ``https://`` (or ``http://`` when ``allow_http``).

    Raises:
        ConfigError: naming the URL's scheme and the fix.

    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "https" and parts.netloc:
        return
    if scheme == "http" and parts.netloc and allow_http:
        return
    shown = f"{scheme}://{parts.hostname or ''}" if scheme else url[:40]
    raise ConfigError(
        f"KOE_WEBHOOK_URL {shown!r} is not an https:// URL; webhook events name customers and quote their calls, "
        "so use https (or set KOE_WEBHOOK_ALLOW_HTTP=true for a receiver on the same host)"
    )


def deliver(
    url: str,
    event: dict[str, Any],
    *,
    secret: str,
    attempts: int = 4,
    base_delay_s: float = 0.5,
    timeout_s: float = 5.0,
    client: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
    allow_http: bool = False,
) -> DeliveryResult:
    """POST a signed event, retrying transient failures with exponential backoff.

    Args:
        url: The receiver (``https://``; see :func:`check_webhook_url`).
        event: The event (see :func:`build_risk_event`).
        secret: HMAC-SHA256 secret shared with the receiver.
        attempts: Tries in all (>= 1).
        base_delay_s: Wait before the second try, in seconds; doubled after each failure.
        timeout_s: Per-request timeout, in seconds.
        client: An httpx client to reuse (default: one per call).
        sleep: How to wait (tests pass a recorder).
        allow_http: Accept a plain ``http://`` URL (``KOE_WEBHOOK_ALLOW_HTTP``).

    Returns:
        The outcome; never raises for HTTP or network errors.

    Raises:
        ConfigError: when ``url`` is not https and ``allow_http`` is off (nothing is sent).

    """
    check_webhook_url(url, allow_http=allow_http)
    body = encode_event(event)
    own = client is None
    http = client or httpx.Client(timeout=timeout_s)
    status_code: int | None = None
    error: str | None = None
    try:
        for attempt in range(1, max(1, attempts) + 1):
            timestamp = int(time.time())
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                TIMESTAMP_HEADER: str(timestamp),
                SIGNATURE_HEADER: sign(body, secret, timestamp),
                EVENT_ID_HEADER: str(event.get("id", "")),
                "User-Agent": "koe-webhook/1",
            }
            try:
                response = http.post(url, content=body, headers=headers, timeout=timeout_s)
            except httpx.HTTPError as exc:
                status_code, error = None, f"{type(exc).__name__}: {exc}"
            else:
                status_code = response.status_code
                if 200 <= status_code < 300:
                    return DeliveryResult("delivered", attempt, status_code, None, datetime.now(UTC))
                error = f"HTTP {status_code}: {response.text[:200]}"
                if status_code < 500 and status_code not in RETRY_STATUSES:
                    return DeliveryResult("failed", attempt, status_code, error)
            if attempt < attempts:
                sleep(base_delay_s * 2 ** (attempt - 1))
        return DeliveryResult("failed", max(1, attempts), status_code, error)
    finally:
        if own:
            http.close()
