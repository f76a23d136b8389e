"""Calls, recordings and search through the real app and database."""

from __future__ import annotations

import pytest

from tests.api.conftest import Service
from tests.api.seed import RAW_EMAIL, RAW_PHONE


def test_health_is_open_and_says_nothing_about_data(service: Service) -> None:
    response = service.client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert "call" not in response.text


def test_calls_are_listed_newest_first_with_keyset_pages(service: Service) -> None:
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 4} | ({"cursor": cursor} if cursor else {})
        body = service.client.get("/calls", params=params, headers=service.headers("csm")).json()
        seen += [item["call_id"] for item in body["items"]]
        cursor = body["next_cursor"]
        pages += 1
        if cursor is None:
            break
    assert pages == 2
    assert seen == ["call-006", "call-005", "call-004", "call-002", "call-003", "call-001"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"customer_id": "C-1001"}, {"call-001", "call-002"}),
        ({"agent_id": "A-01"}, {"call-001", "call-003", "call-005"}),
        ({"topic": 1}, {"call-003", "call-004", "call-006"}),
        ({"tag": "churn_intent"}, {"call-002"}),
        ({"since": "2026-11-09T00:00:00Z", "until": "2026-11-16T00:00:00Z"}, {"call-002", "call-004"}),
    ],
)
def test_call_filters(service: Service, params: dict[str, object], expected: set[str]) -> None:
    body = service.client.get("/calls", params=params, headers=service.headers("manager")).json()
    assert {item["call_id"] for item in body["items"]} == expected


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 201}, "limit"), ({"limit": 0}, "limit"), ({"since": "yesterday"}, "since"), ({"cursor": "nope"}, "cursor")],
)
def test_bad_parameters_give_422_with_the_field(service: Service, params: dict[str, object], field: str) -> None:
    response = service.client.get("/calls", params=params, headers=service.headers("csm"))
    assert response.status_code == 422
    assert field in response.json()["error"]["message"]


def test_call_detail_is_redacted_for_every_role_without_raw_text(service: Service) -> None:
    for role in ("manager", "csm", "data"):
        response = service.client.get("/calls/call-001", headers=service.headers(role))
        assert response.status_code == 200
        body = response.json()
        assert body["customer_id"] == "C-1001"
        assert [u["speaker"] for u in body["utterances"]] == ["agent", "customer", "agent", "customer"]
        assert "［電話番号］" in body["utterances"][1]["text"]
        assert RAW_PHONE not in response.text
        assert {t["tag"] for t in body["tags"]} == {"repeat_contact", "repeat_explanation"}
        assert body["metrics"]["overtalk_count"] == 1


def test_unknown_call_is_404_json(service: Service) -> None:
    response = service.client.get("/calls/nope", headers=service.headers("csm"))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_audio_supports_range_requests(service: Service) -> None:
    # The data role: recordings are behind KOE_AUDIO_ROLES (tests/api/test_security.py).
    whole = service.client.get("/calls/call-001/audio", headers=service.headers("data"))
    assert whole.status_code == 200
    assert whole.content[:4] == b"RIFF"
    part = service.client.get("/calls/call-001/audio", headers=service.headers("data") | {"Range": "bytes=0-99"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 0-99/{len(whole.content)}"
    assert part.content == whole.content[:100]


def test_search_finds_japanese_substrings_without_spaces(service: Service) -> None:
    for query, expected in [("つながらない", {"call-001", "call-002"}), ("請求", {"call-003", "call-004"}), ("解約", {"call-002"})]:
        body = service.client.get("/search", params={"q": query}, headers=service.headers("csm")).json()
        assert {hit["call_id"] for hit in body["hits"]} == expected, query
    # Raw PII was never indexed: only the redacted text is searchable.
    assert service.client.get("/search", params={"q": RAW_EMAIL}, headers=service.headers("data")).json()["hits"] == []
    assert service.client.get("/search", params={"q": "メール"}, headers=service.headers("data")).json()["hits"]


def test_search_rejects_empty_and_huge_queries(service: Service) -> None:
    assert service.client.get("/search", params={"q": ""}, headers=service.headers("csm")).status_code == 422
    assert service.client.get("/search", params={"q": "あ" * 201}, headers=service.headers("csm")).status_code == 422
