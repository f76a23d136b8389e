from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from insights.records import ChurnReason, ChurnRisk, Evidence
from insights.webhook import (
    EVENT_ID_HEADER,
    MAX_AGE_S,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    build_risk_event,
    check_webhook_url,
    deliver,
    encode_event,
    level_rose,
    sign,
    verify,
)
from koe.errors import ConfigError

SECRET = "s3cret"


class Receiver:
    """A real HTTP receiver on 127.0.0.1 that answers with queued status codes and records requests."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.requests: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"boom")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


def _event(call) -> dict[str, Any]:
    risk = ChurnRisk(
        0.82,
        "high",
        (ChurnReason("churn_intent", 0.5, (Evidence("c3", 40.0, "解約したいです"),)),),
        "rules-abc",
    )
    return build_risk_event("C-1001", "low", risk, now=call("now", 0).started_at)


@pytest.mark.parametrize(
    ("previous", "current", "rose"),
    [
        ("low", "medium", True),
        ("medium", "high", True),
        ("low", "high", True),
        (None, "medium", True),
        (None, "low", False),
        ("high", "medium", False),
        ("medium", "medium", False),
        ("high", "high", False),
    ],
)
def test_only_rising_levels_fire(previous: str | None, current: str, rose: bool) -> None:
    assert level_rose(previous, current) is rose


def test_signed_delivery_is_verifiable(call, receiver: Receiver) -> None:
    event = _event(call)
    result = deliver(receiver.url, event, secret=SECRET, allow_http=True)
    assert result.status == "delivered" and result.attempts == 1 and result.status_code == 200
    assert result.delivered_at is not None
    (request,) = receiver.requests
    body, headers = request["body"], request["headers"]
    assert json.loads(body) == event
    assert body == encode_event(event)
    assert headers[SIGNATURE_HEADER].startswith("sha256=")
    assert verify(body, SECRET, headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER])
    assert not verify(body, "wrong", headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER])
    assert not verify(body + b" ", SECRET, headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER])
    assert not verify(body, SECRET, str(int(headers[TIMESTAMP_HEADER]) + 1), headers[SIGNATURE_HEADER])


def test_retries_after_500_with_backoff(call, receiver: Receiver) -> None:
    receiver.statuses = [500, 503]
    waits: list[float] = []
    result = deliver(receiver.url, _event(call), secret=SECRET, base_delay_s=0.1, sleep=waits.append, allow_http=True)
    assert result.status == "delivered" and result.attempts == 3
    assert len(receiver.requests) == 3
    assert waits == [0.1, 0.2]


def test_gives_up_after_bounded_attempts(call, receiver: Receiver) -> None:
    receiver.statuses = [500] * 10
    waits: list[float] = []
    result = deliver(
        receiver.url, _event(call), secret=SECRET, attempts=3, base_delay_s=0.1, sleep=waits.append, allow_http=True
    )
    assert result.status == "failed" and result.attempts == 3 and result.status_code == 500
    assert "HTTP 500" in (result.error or "")
    assert len(receiver.requests) == 3 and waits == [0.1, 0.2]


def test_client_error_is_not_retried(call, receiver: Receiver) -> None:
    receiver.statuses = [400]
    result = deliver(receiver.url, _event(call), secret=SECRET, sleep=lambda s: None, allow_http=True)
    assert result.status == "failed" and result.attempts == 1 and len(receiver.requests) == 1


def test_unreachable_receiver_fails_after_retries(call) -> None:
    result = deliver(
        "http://127.0.0.1:9/hook", _event(call), secret=SECRET, attempts=2, sleep=lambda s: None, allow_http=True
    )
    assert result.status == "failed" and result.attempts == 2 and result.status_code is None
    assert result.error


def test_event_shape(call) -> None:
    event = _event(call)
    assert event["type"] == "customer.churn_risk.rose"
    assert (event["previous_level"], event["level"], event["score"]) == ("low", "high", 0.82)
    assert event["top_reasons"][0]["evidence"] == [
        {"call_id": "c3", "start_s": 40.0, "text": "解約したいです"}
    ]
    assert sign(b"x", SECRET, 1) != sign(b"x", SECRET, 2)


def test_every_event_has_an_id_that_its_retries_keep(call, receiver: Receiver) -> None:
    receiver.statuses = [503]
    event = _event(call)
    assert event["id"].startswith("evt_") and event["id"] != _event(call)["id"]
    deliver(receiver.url, event, secret=SECRET, base_delay_s=0.0, sleep=lambda s: None, allow_http=True)
    ids = [r["headers"][EVENT_ID_HEADER] for r in receiver.requests]
    assert ids == [event["id"], event["id"]]  # a receiver drops the second as already seen
    assert all(json.loads(r["body"])["id"] == event["id"] for r in receiver.requests)


def test_verify_refuses_stale_and_future_timestamps() -> None:
    body, now = b'{"id":"evt_1"}', 1_800_000_000
    fresh = sign(body, SECRET, now - 60)
    assert verify(body, SECRET, str(now - 60), fresh, now_s=now)
    stale = sign(body, SECRET, now - MAX_AGE_S - 1)
    assert not verify(body, SECRET, str(now - MAX_AGE_S - 1), stale, now_s=now)  # a replay, correctly signed
    future = sign(body, SECRET, now + MAX_AGE_S + 1)
    assert not verify(body, SECRET, str(now + MAX_AGE_S + 1), future, now_s=now)
    assert verify(body, SECRET, str(now - 3000), sign(body, SECRET, now - 3000), now_s=now, max_age_s=3600)
    assert not verify(body, SECRET, "not-a-number", fresh, now_s=now)


@pytest.mark.parametrize("url", ["http://hooks.example/koe", "ftp://hooks.example/koe", "hooks.example/koe", "https://"])
def test_plain_http_and_other_schemes_are_refused_unless_allowed(call, url: str, receiver: Receiver) -> None:
    with pytest.raises(ConfigError, match="KOE_WEBHOOK_ALLOW_HTTP"):
        deliver(url, _event(call), secret=SECRET)
    assert receiver.requests == []
    check_webhook_url("https://hooks.example/koe")
    check_webhook_url("http://127.0.0.1:8080/hook", allow_http=True)
