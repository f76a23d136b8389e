"""Customers, summaries and briefs through the API, and the pages that show them."""

from __future__ import annotations

from tests.api.conftest import Service
from tests.api.seed import RAW_EMAIL, RAW_PHONE


def test_customers_ranked_by_churn_risk(service: Service) -> None:
    body = service.client.get("/customers", params={"order": "churn_risk"}, headers=service.headers("csm")).json()
    ids = [c["customer_id"] for c in body["items"]]
    assert set(ids) == {"C-1001", "C-1002", "C-1003"}
    assert ids[0] == "C-1001"  # churn intent, repeat contact, transfer
    scores = [c["churn_risk"]["score"] for c in body["items"]]
    assert scores == sorted(scores, reverse=True)
    page = service.client.get("/customers", params={"limit": 1}, headers=service.headers("manager")).json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    assert service.client.get("/customers", params={"order": "age"}, headers=service.headers("csm")).status_code == 422


def test_customer_detail_and_brief(service: Service) -> None:
    detail = service.client.get("/customers/C-1001", headers=service.headers("csm"))
    assert detail.status_code == 200
    body = detail.json()
    assert body["churn_risk"]["level"] in ("medium", "high")
    assert any(r["factor"] == "churn_intent" for r in body["churn_risk"]["reasons"])
    brief = service.client.get("/customers/C-1001/brief", headers=service.headers("csm")).json()
    assert brief["headline"].startswith("解約リスク")
    assert service.client.get("/customers/C-9999", headers=service.headers("csm")).status_code == 404
    for response in (detail,):
        assert RAW_PHONE not in response.text and RAW_EMAIL not in response.text


def _sign_in(service: Service, role: str) -> None:
    service.client.cookies.clear()
    service.client.post("/ui/signin", data={"key": service.data.keys[role], "next": "/ui/"}, follow_redirects=False)


def test_pages_show_the_data_in_japanese_without_raw_pii(service: Service) -> None:
    _sign_in(service, "data")
    checks = {
        "/ui/topics": ["トピックレポート", "回線・つながらない", "<svg", "再問い合わせ", "/ui/calls/call-001"],
        "/ui/customers": ["C-1001", "解約の意向"],
        "/ui/customers/C-1001": ["電話の前に", "解約リスク", "call-002", "<svg"],
        "/ui/calls/call-001": ["オペレーター", "お客様", "［電話番号］", "<audio", "/calls/call-001/audio", 'data-start="4.0"'],
    }
    for path, expected in checks.items():
        response = service.client.get(path)
        assert response.status_code == 200, path
        assert 'lang="ja"' in response.text
        for text in expected:
            assert text in response.text, (path, text)
        assert RAW_PHONE not in response.text and RAW_EMAIL not in response.text
        assert "http://" not in response.text and "https://" not in response.text  # nothing external
