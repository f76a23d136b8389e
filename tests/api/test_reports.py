"""Topic and agent reports, pipeline runs and the OpenAPI contract."""

from __future__ import annotations

from tests.api.conftest import Service


def test_topic_report_counts_shares_trend_and_effort(service: Service) -> None:
    body = service.client.get("/reports/topics", params={"granularity": "week"}, headers=service.headers("manager")).json()
    assert body["total_calls"] == 6 and body["calls_with_topic"] == 6
    assert body["periods"] == ["2026-11-02", "2026-11-09", "2026-11-16"]
    lines, billing = body["topics"]
    assert lines["label"] == "回線・つながらない" and lines["volume"] == 3 and billing["volume"] == 3
    assert abs(lines["share"] - 0.5) < 1e-9
    # every call counts once, under its primary topic or under その他
    assert sum(t["volume"] for t in body["topics"]) + body["other_calls"] == body["total_calls"]
    assert body["other_calls"] == 0 and lines["secondary_volume"] == 0
    assert [p["calls"] for p in lines["trend"]] == [1, 1, 1]
    assert [p["calls"] for p in billing["trend"]] == [1, 1, 1]
    # All three line calls carry an effort tag (repeat_contact, transfer, long_wait); no billing call does.
    assert lines["effort_rate"] == 1.0 and billing["effort_rate"] == 0.0
    assert {t["tag"] for t in lines["top_tags"]} >= {"repeat_contact", "churn_intent", "long_wait"}
    assert lines["customer_sentiment"] < 0 < billing["customer_sentiment"] + 0.5
    assert lines["quotes"][0]["call_id"] == "call-001"


def test_topic_report_time_range_and_granularity(service: Service) -> None:
    params = {"since": "2026-11-09T00:00:00Z", "until": "2026-11-16T00:00:00Z", "granularity": "day"}
    body = service.client.get("/reports/topics", params=params, headers=service.headers("data")).json()
    assert body["total_calls"] == 2
    assert body["periods"] == ["2026-11-09", "2026-11-11"]
    bad = service.client.get("/reports/topics", params={"granularity": "year"}, headers=service.headers("data"))
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "granularity"


def test_agent_report(service: Service) -> None:
    body = service.client.get("/reports/agents", headers=service.headers("manager")).json()
    agents = {a["agent_id"]: a for a in body["agents"]}
    assert agents["A-01"]["calls"] == 3 and agents["A-02"]["calls"] == 3
    assert agents["A-01"]["talk_ratio_agent"] == 0.5
    assert agents["A-01"]["hold_count"] == round(2 / 3, 2)


def test_pipeline_runs_list_and_detail(service: Service) -> None:
    runs = service.client.get("/pipeline/runs", headers=service.headers("data")).json()["items"]
    assert runs and runs[0]["flow"] == "process_calls"
    one = service.client.get(f"/pipeline/runs/{runs[0]['run_id']}", headers=service.headers("manager"))
    assert one.status_code == 200 and one.json()["run_id"] == runs[0]["run_id"]
    assert service.client.get("/pipeline/runs/99999", headers=service.headers("data")).status_code == 404


def test_pipeline_run_parameters_are_checked_before_anything_starts(service: Service) -> None:
    for body, field in [
        ({"flow": "process_calls", "parameters": {}}, "source"),
        ({"flow": "process_calls", "parameters": {"source": "/no/such/folder"}}, "source"),
        ({"flow": "reprocess", "parameters": {"stage": "everything"}}, "stage"),
        ({"flow": "reprocess", "parameters": {"since": "2026-11-01T00:00:00"}}, "since"),
        ({"flow": "drop_tables", "parameters": {}}, "flow"),
    ]:
        response = service.client.post("/pipeline/runs", json=body, headers=service.headers("data"))
        assert response.status_code == 422, body
        assert field in response.json()["error"]["message"]
    assert len(service.client.get("/pipeline/runs", headers=service.headers("data")).json()["items"]) == 1


def test_openapi_documents_every_route_with_error_shapes(service: Service) -> None:
    schema = service.client.get("/openapi.json").json()
    assert "/calls/{call_id}" in schema["paths"] and "/reports/topics" in schema["paths"]
    assert "401" in schema["paths"]["/calls"]["get"]["responses"]
    assert not any(p.startswith("/ui") for p in schema["paths"])
