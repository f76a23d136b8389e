"""A manager steers the topic report: rename and merge, seen at once in the report."""

from __future__ import annotations

from tests.api.conftest import Service


def _report(service: Service) -> dict:
    return service.client.get("/reports/topics", headers=service.headers("manager")).json()


def test_manager_renames_and_merges_topics(service: Service) -> None:
    before = _report(service)  # cached by the app: the edit must clear it
    assert {t["label"] for t in before["topics"]} == {"回線・つながらない", "請求・支払い"}
    renamed = service.client.put("/topics/0", json={"label": "通信障害"}, headers=service.headers("manager"))
    assert renamed.status_code == 200 and renamed.json() == {"topic_id": 0, "label": "通信障害"}
    assert {t["label"] for t in _report(service)["topics"]} == {"通信障害", "請求・支払い"}

    merged = service.client.post("/topics/1/merge", json={"into": 0}, headers=service.headers("data"))
    assert merged.status_code == 200 and merged.json() == {"topic_id": 1, "merged_into": 0}
    after = _report(service)
    assert [(t["label"], t["volume"]) for t in after["topics"]] == [("通信障害", 6)]
    assert after["other_calls"] == 0 and after["total_calls"] == 6

    edits = service.client.get("/topics/edits", headers=service.headers("manager")).json()
    assert [(e["action"], e["topic_id"], e["edited_by"].split(":")[0]) for e in edits] == [
        ("rename", 0, "manager"),
        ("merge", 1, "data"),
    ]


def test_topic_edits_are_refused_and_checked(service: Service) -> None:
    csm = service.client.put("/topics/0", json={"label": "x"}, headers=service.headers("csm"))
    assert csm.status_code == 403
    unknown = service.client.put("/topics/99", json={"label": "x"}, headers=service.headers("manager"))
    assert unknown.status_code == 404
    empty = service.client.put("/topics/0", json={"label": ""}, headers=service.headers("manager"))
    assert empty.status_code == 422
    itself = service.client.post("/topics/0/merge", json={"into": 0}, headers=service.headers("manager"))
    assert itself.status_code in (400, 422)
