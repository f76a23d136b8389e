from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select

from api.presenters import customer_brief, customer_detail, export_customers, list_customers
from flows.customers import refresh_customers
from insights.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from koe.errors import ConfigError, InputError, NotFoundError, TrainingError
from koe.settings import load_settings
from models.call_facts import load_call_facts
from models.churn_model import train_churn_from_csv
from models.customers import refresh_summaries
from models.db import load_engine, transaction
from models.tables import (
    Call,
    CallTopicRow,
    Customer,
    CustomerSummaryRow,
    TagRow,
    TopicRow,
    UtteranceRow,
    WebhookDelivery,
)

NOW = datetime.now(UTC).replace(microsecond=0)


def _add_call(
    session, customer: str, call_id: str, days_ago: float, *, tags=(), topic=1, sentiment=0.2, effort=10.0
):
    row = Call(
        call_id=call_id,
        customer_id=customer,
        started_at=NOW - timedelta(days=days_ago),
        status="done",
        duration_s=200.0,
        effort_index=effort,
        customer_sentiment=sentiment,
        trajectory="worsening" if sentiment < 0 else "neutral",
    )
    session.add(row)
    session.flush()
    session.add(CallTopicRow(call_pk=row.id, topic_id=topic, weight=0.7))
    for i, tag in enumerate(tags):
        session.add(
            TagRow(
                call_pk=row.id, tag=tag, utterance_index=i, start_s=12.5 * (i + 1), evidence=f"{tag}の発言"
            )
        )
    session.add(
        UtteranceRow(
            call_pk=row.id, index=0, speaker="customer", start_s=1.0, end_s=2.0, redacted_text="最初"
        )
    )
    session.add(
        UtteranceRow(
            call_pk=row.id,
            index=5,
            speaker="customer",
            start_s=150.0,
            end_s=152.0,
            redacted_text="最後の言葉",
        )
    )
    session.add(
        UtteranceRow(
            call_pk=row.id, index=6, speaker="agent", start_s=160.0, end_s=162.0, redacted_text="失礼します"
        )
    )


def _seed(url: str) -> None:
    with transaction(url) as session:
        session.add_all([TopicRow(id=1, label="請求・料金"), TopicRow(id=2, label="ログイン")])
        for customer in ("calm", "angry", "quitting", "nocalls"):
            session.add(Customer(customer_id=customer))
        session.flush()
        _add_call(session, "calm", "calm-1", 40)
        _add_call(session, "calm", "calm-2", 20, topic=2)
        _add_call(session, "angry", "angry-1", 12, tags=("unresolved",))
        _add_call(
            session, "angry", "angry-2", 9, tags=("escalation_request", "anger"), sentiment=-0.4, effort=45
        )
        _add_call(session, "quitting", "quit-1", 30, tags=("unresolved",))
        _add_call(session, "quitting", "quit-2", 3, tags=("churn_intent",), sentiment=-0.6, effort=60)
        failed = Call(call_id="quit-failed", customer_id="quitting", status="failed", started_at=NOW)
        session.add(failed)


@pytest.fixture
def seeded(db_url: str) -> str:
    _seed(db_url)
    with transaction(db_url) as session:
        refresh_summaries(session, ["calm", "angry", "quitting", "nocalls"], now=NOW)
    return db_url


def test_load_call_facts_in_a_few_queries(db_url: str) -> None:
    _seed(db_url)
    statements: list[str] = []
    engine = load_engine(db_url)

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        with transaction(db_url) as session:
            facts = load_call_facts(session, ["calm", "angry", "quitting", "nocalls", "unknown"])
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) <= 5
    assert [c.call_id for c in facts["quitting"]] == ["quit-1", "quit-2"]  # failed calls are left out
    assert facts["nocalls"] == [] and facts["unknown"] == []
    last = facts["quitting"][-1]
    assert last.topic_ids == (1,) and last.topic_labels == ("請求・料金",)
    assert [(t.tag, t.start_s, t.evidence) for t in last.tags] == [
        ("churn_intent", 12.5, "churn_intentの発言")
    ]
    assert last.last_customer_utterance is not None
    assert (last.last_customer_utterance.start_s, last.last_customer_utterance.text) == (150.0, "最後の言葉")
    assert facts["quitting"][0].last_customer_utterance is None  # only each customer's last call
    # The newest calls carry their utterances (for the brief's call summaries and negative moments).
    assert [(u.index, u.speaker, u.text) for u in last.utterances] == [
        (0, "customer", "最初"),
        (5, "customer", "最後の言葉"),
        (6, "agent", "失礼します"),
    ]


def test_customer_detail_shape(seeded: str) -> None:
    with transaction(seeded) as session:
        detail = customer_detail(session, "quitting")
        row = session.get(CustomerSummaryRow, "quitting")
        assert row is not None
        assert row.churn_level == detail["churn_risk"]["level"] == "high"
        assert row.top_reason == "churn_intent" and row.churn_model_version.startswith("rules-")
        assert (
            row.last_contact is not None
            and abs((row.last_contact - (NOW - timedelta(days=3))).total_seconds()) < 1
        )
    risk = detail["churn_risk"]
    assert set(risk) >= {"score", "level", "reasons", "model_version"}
    assert risk["reasons"][0]["factor"] == "churn_intent" and risk["reasons"][0]["label"] == "解約の意向"
    assert risk["reasons"][0]["evidence"] == [
        {"call_id": "quit-2", "start_s": 12.5, "text": "churn_intentの発言"}
    ]
    assert detail["tags"] == {"churn_intent": 1, "unresolved": 1}
    assert detail["call_count"] == 2 and detail["effort_index"] == pytest.approx(35.0)
    assert detail["open_issues"] == []  # quit-2 is a later call on topic 1 without unresolved
    assert detail["top_topics"] == [{"topic_id": 1, "label": "請求・料金", "calls": 2}]
    assert detail["repeat_contacts"]["count"] == 0
    assert [c["call_id"] for c in detail["calls"]] == ["quit-1", "quit-2"]
    assert set(detail["calls"][0]) >= {
        "call_id",
        "started_at",
        "sentiment",
        "effort_index",
        "trajectory",
        "topic_label",
    }
    assert detail["recent_evidence"][0]["call_id"] == "quit-2"


def test_open_issues_and_repeats_in_detail(seeded: str) -> None:
    with transaction(seeded) as session:
        detail = customer_detail(session, "angry")
    assert (
        detail["repeat_contacts"]["count"] == 1
        and detail["repeat_contacts"]["calls"][0]["same_topic"] is True
    )
    assert detail["open_issues"] == []  # angry-2 is a later call on the same topic without unresolved


def test_brief_and_not_found(seeded: str) -> None:
    with transaction(seeded) as session:
        brief = customer_brief(session, "quitting")
        assert brief["level"] == "high" and brief["headline"].startswith("解約リスク高")
        assert brief["last_call"]["call_id"] == "quit-2" and brief["last_call"]["ending"] == "最後の言葉"
        with pytest.raises(NotFoundError, match="'ghost' not found"):
            customer_detail(session, "ghost")
        with pytest.raises(NotFoundError):
            customer_brief(session, "ghost")


def test_known_customer_without_summary_is_computed_on_read(db_url: str) -> None:
    _seed(db_url)
    with transaction(db_url) as session:
        detail = customer_detail(session, "quitting")
        assert detail["churn_risk"]["level"] == "high"
        assert session.scalar(select(func.count()).select_from(CustomerSummaryRow)) == 0


def test_list_customers_keyset_pages_cover_everyone_once(seeded: str) -> None:
    with transaction(seeded) as session:
        seen, cursor, pages = [], None, 0
        while True:
            items, cursor = list_customers(session, order="churn_risk", limit=1, cursor=cursor)
            seen += items
            pages += 1
            if cursor is None:
                break
        scores = [i["churn_risk"]["score"] for i in seen]
        assert sorted(i["customer_id"] for i in seen) == ["angry", "calm", "nocalls", "quitting"]
        assert scores == sorted(scores, reverse=True) and seen[0]["customer_id"] == "quitting"
        assert seen[0]["top_reason"] == "churn_intent" and seen[0]["top_reason_label"] == "解約の意向"
        high, _ = list_customers(session, level="high")
        assert [i["customer_id"] for i in high] == [
            i["customer_id"] for i in seen if i["churn_risk"]["level"] == "high"
        ]
        assert high[0]["customer_id"] == "quitting" and "calm" not in {i["customer_id"] for i in high}
        recent, cursor = list_customers(session, order="last_contact", limit=2)
        rest, end = list_customers(session, order="last_contact", limit=2, cursor=cursor)
        assert [i["customer_id"] for i in recent + rest] == ["quitting", "angry", "calm", "nocalls"]
        assert end is None
        with pytest.raises(InputError, match="cursor"):
            list_customers(session, cursor="not-a-cursor!!")


def test_export_rows(seeded: str) -> None:
    with transaction(seeded) as session:
        rows = list(export_customers(session))
    assert rows[0]["customer_id"] == "quitting" and len(rows) == 4
    assert rows[0]["top_reasons"].split(";")[0] == "churn_intent"
    assert all(not isinstance(v, dict | list) for r in rows for v in r.values())


def test_train_from_csv_then_scores_use_the_model(db_url: str, tmp_path: Path) -> None:
    with transaction(db_url) as session:
        session.add(TopicRow(id=1, label="請求・料金"))
        lines = ["customer_id,churned"]
        for i in range(30):
            customer, churned = f"K{i:02d}", i % 3 == 0
            session.add(Customer(customer_id=customer))
            session.flush()
            for j in range(3):
                tags = ("churn_intent",) if churned and j == 2 else ()
                _add_call(
                    session,
                    customer,
                    f"K{i:02d}-{j}",
                    30 - 10 * j,
                    tags=tags,
                    sentiment=-0.3 if churned else 0.3,
                )
            lines.append(f"{customer},{int(churned)}")
        lines.append("stranger,1")
    labels = tmp_path / "churned.csv"
    labels.write_text("\n".join(lines) + "\n")
    with transaction(db_url) as session:
        report = train_churn_from_csv(session, labels)
    assert (
        report["customers"] == 30
        and report["unknown_customers"] == 1
        and report["version"].startswith("churn-")
    )
    assert report["cv_roc_auc"] > 0.9
    with transaction(db_url) as session:
        refresh_summaries(session, ["K00", "K01"], now=NOW)
    with transaction(db_url) as session:
        detail = customer_detail(session, "K00")
    assert detail["churn_risk"]["model_version"] == report["version"]
    assert detail["churn_risk"]["score"] > customer_detail_score(db_url, "K01")

    few = tmp_path / "few.csv"
    few.write_text("customer_id,churned\nK00,1\nK01,0\n")
    with transaction(db_url) as session, pytest.raises(TrainingError, match="only 2 labelled customers"):
        train_churn_from_csv(session, few)


def customer_detail_score(url: str, customer: str) -> float:
    with transaction(url) as session:
        return float(customer_detail(session, customer)["churn_risk"]["score"])


@pytest.fixture
def receiver() -> Iterator[dict[str, Any]]:
    state: dict[str, Any] = {"requests": [], "statuses": [500]}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state["requests"].append((dict(self.headers), body))
            self.send_response(state["statuses"].pop(0) if state["statuses"] else 204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state["url"] = f"http://127.0.0.1:{server.server_address[1]}/koe"
    yield state
    server.shutdown()
    server.server_close()


def test_refresh_fires_webhooks_for_rising_levels_and_records_them(
    db_url: str, receiver: dict[str, Any]
) -> None:
    _seed(db_url)
    plain = load_settings(database_url=db_url, webhook_url=receiver["url"], webhook_secret="k")
    with pytest.raises(ConfigError, match="https"):
        refresh_customers(plain, ["calm"])  # http:// only when explicitly allowed
    settings = load_settings(database_url=db_url, webhook_url=receiver["url"], webhook_secret="k", webhook_allow_http=True)
    assert refresh_customers(settings, ["calm", "angry", "quitting", "nocalls"]) == 4
    with transaction(db_url) as session:
        rows = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
        levels = {r.customer_id: r.churn_level for r in session.scalars(select(CustomerSummaryRow))}
    rising = sorted(c for c, level in levels.items() if level != "low")
    assert sorted(r.customer_id for r in rows) == rising and "quitting" in rising
    assert all(r.status == "delivered" for r in rows)
    assert sum(r.attempts for r in rows) == len(rows) + 1  # the first POST got a 500 and was retried
    headers, body = receiver["requests"][-1]
    assert verify(body, "k", headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER])

    # Same data again: no level rises, no new events.
    refresh_customers(settings, ["calm", "angry", "quitting"])
    with transaction(db_url) as session:
        assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == len(rows)
