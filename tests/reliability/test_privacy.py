"""Personal data lifecycle (APPI): forgetting a customer and the retention purge, scanned for leftovers.

Calls are ingested through the real ``process_calls`` flow (a ``memory://`` inbox, so koe holds a
staged copy too), then forgotten or purged, then every table, the database file bytes (after
compaction; SQLite) and the data folder are scanned for the customer and their words.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import fsspec
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from flows.process import FORGOTTEN_REASON
from koe.errors import NotFoundError
from koe.settings import get_settings
from models.db import load_engine, transaction
from models.keys import create_key
from models.privacy import forget_customer, purge_expired, unforget_customer
from tests.reliability.conftest import encodings, find_in_files, find_in_prefect, find_in_tables, pii_line

pytestmark = pytest.mark.usefixtures("harness")

GONE = "CUST-FORGET-7"
KEPT = "CUST-KEEP-8"
#: Words only the forgotten customer said (a made-up plan name, so no other call contains them).
MARKER = "ミナミカゼ光プランの件で三回目の電話です。"


def _ingest(tmp_path: Path, count: int = 6, *, processed: int | None = None) -> dict[str, object]:
    """Ingest ``count`` PII calls (odd ones: the customer to forget) from a memory:// inbox.

    Checks that ``processed`` calls (default: all) were processed and none failed.
    """
    from flows.process import process_calls

    lines = [
        pii_line(i, customer_id=GONE if i % 2 else KEPT, marker=MARKER if i % 2 else "")
        for i in range(count)
    ]
    fs = fsspec.filesystem("memory")
    inbox = f"/koe-privacy-{tmp_path.name}"
    fs.pipe(f"{inbox}/calls.jsonl", "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines).encode())
    os.environ["KOE_SETTLE_S"] = "0"
    get_settings.cache_clear()
    try:
        summary = process_calls(f"memory://{inbox}")
    finally:
        fs.rm(inbox, recursive=True)
        os.environ.pop("KOE_SETTLE_S", None)
        get_settings.cache_clear()
    assert (summary["processed"], summary["failed"]) == (count if processed is None else processed, 0)
    return summary


def _give_recordings(url: str, data_dir: Path) -> dict[str, Path]:
    """Put a koe copy of a recording under data_dir/recordings for every call (as KOE_KEEP_RECORDINGS would)."""
    folder = data_dir / "recordings"
    folder.mkdir(parents=True, exist_ok=True)
    copies: dict[str, Path] = {}
    with load_engine(url).begin() as connection:
        for call_id, customer in connection.execute(sa.text("select call_id, customer_id from calls")).tuples():
            path = folder / f"{call_id}.opus"
            path.write_bytes(b"OggS" + f"recording of {customer}".encode())
            copies[call_id] = path
            connection.execute(
                sa.text("update calls set recording_path = :p where call_id = :c"), {"p": str(path), "c": call_id}
            )
    return copies


def _their_words(url: str) -> list[str]:
    """Topic-model vocabulary only the forgotten customer's calls hold (their marker's words)."""
    with load_engine(url).connect() as connection:
        rows = connection.execute(
            sa.text("select c.customer_id, u.tokens from utterances u join calls c on c.id = u.call_pk")
        ).tuples()
        by_customer: dict[str, set[str]] = {}
        for customer, tokens in rows:
            by_customer.setdefault(customer, set()).update(tokens.split())
        model = connection.execute(sa.text("select model from topic_models where is_current")).scalar_one()
    vocabulary = set((json.loads(model) if isinstance(model, str) else model)["vocabulary"])
    return sorted((by_customer[GONE] - by_customer[KEPT]) & vocabulary)


def test_forget_removes_the_customer_from_every_table_file_and_byte(koe_env: str, tmp_path: Path) -> None:
    from flows.erasure import forget_everywhere

    _ingest(tmp_path)
    data_dir = tmp_path / "var"
    copies = _give_recordings(koe_env, data_dir)
    with load_engine(koe_env).begin() as connection:  # an older version fitted on their calls too
        connection.execute(
            sa.text(
                "insert into topic_models (version, created_at, n_topics, n_documents, params, model, is_current)"
                " select 'older-' || version, created_at, n_topics, n_documents, params, model, :no"
                " from topic_models where is_current"
            ),
            {"no": False},
        )
    words = _their_words(koe_env)
    needles = [GONE, MARKER, "ミナミカゼ", *words]
    assert words, "the topic model holds no word of theirs: the topic scan proves nothing"
    assert {t for t, n in find_in_tables(koe_env, words)} >= {"topic_models"}
    assert find_in_tables(koe_env, needles), "the forgotten customer's data was never stored: the scan proves nothing"
    assert find_in_files(data_dir, [GONE, MARKER]), "no staged copy to forget: the file scan proves nothing"
    assert find_in_prefect([GONE]), "Prefect's artifacts never named them: the Prefect scan proves nothing"
    with load_engine(koe_env).connect() as connection:
        assert connection.execute(sa.text("select count(*) from topic_models")).scalar_one() == 2

    removed = forget_everywhere(get_settings(), GONE)

    assert removed["calls"] == 3 and removed["utterances"] == 3 * 8 and removed["summaries"] == 1
    assert removed["tags"] > 0 and removed["metrics"] == 3
    assert removed["topic_model_versions_dropped"] == 1 and removed["topic_terms_erased"] >= len(words)
    assert removed["prefect_artifacts"] > 0 and removed["prefect_error"] is None
    assert find_in_tables(koe_env, needles) == []  # topic_models included
    # Prefect's database: artifacts, events, logs, flow and task runs (call ids stay in run logs:
    # "call pii-001 done"; nothing there links them to the customer any more).
    assert find_in_prefect([GONE, MARKER, *words]) == []
    assert find_in_prefect([KEPT]), "the artifacts were re-published for the others"
    # The current topic model still works, without their words.
    with load_engine(koe_env).connect() as connection:
        assert connection.execute(sa.text("select count(*) from topic_models")).scalar_one() == 1
    from flows.topics import _load_model
    from models.topics import current_topic_model

    with transaction(koe_env) as session:
        stored = current_topic_model(session)
    assert stored is not None
    _load_model(stored.version, json.dumps(stored.model, sort_keys=True))
    assert find_in_files(data_dir, [GONE, MARKER]) == []
    assert not any(copies[f"pii-{i:03d}"].exists() for i in (1, 3, 5))
    assert all(copies[f"pii-{i:03d}"].exists() for i in (0, 2, 4))
    # The other customer is untouched.
    with load_engine(koe_env).connect() as connection:
        kept = connection.execute(
            sa.text("select count(*) from calls where customer_id = :c and status = 'done'"), {"c": KEPT}
        ).scalar_one()
        summaries = connection.execute(sa.text("select customer_id from customer_summaries")).scalars().all()
    assert kept == 3 and summaries == [KEPT]
    if koe_env.startswith("sqlite"):
        with load_engine(koe_env).connect() as connection:
            fts = connection.execute(
                sa.text("select count(*) from utterances_fts where utterances_fts match :q"), {"q": '"ミナミカゼ"'}
            ).scalar_one()
        assert fts == 0
        db_file = Path(sa.engine.make_url(koe_env).database or "")
        for path in (db_file, db_file.with_name(db_file.name + "-wal")):
            if path.exists():
                data = path.read_bytes()
                # "ナミカ": a trigram the FTS index would keep; topic words also as \u-escaped JSON.
                for needle in (GONE, MARKER, "ナミカ", *words):
                    for form in encodings(needle):
                        assert form not in data, (path.name, needle)
    with transaction(koe_env) as session, pytest.raises(NotFoundError):
        forget_customer(session, GONE, data_dir=data_dir)


def test_delete_customer_endpoint_is_data_only_and_forgets(koe_env: str, tmp_path: Path) -> None:
    from api.app import create_app

    _ingest(tmp_path, count=4)
    with transaction(koe_env) as session:
        keys = {role: create_key(session, role)[0] for role in ("manager", "csm", "data")}
    app = create_app(get_settings())  # the production caches: forgetting must clear them too
    with TestClient(app) as client:
        for headers in ({}, {"Authorization": "Bearer koe_wrong"}):
            refused = client.delete(f"/customers/{GONE}", headers=headers)
            assert refused.status_code == 401 and GONE not in refused.text
        for role in ("manager", "csm"):
            refused = client.delete(f"/customers/{GONE}", headers={"Authorization": f"Bearer {keys[role]}"})
            assert refused.status_code == 403 and set(refused.json()) == {"error"}
        data = {"Authorization": f"Bearer {keys['data']}"}
        assert client.get(f"/calls?customer_id={GONE}", headers=data).json()["items"]
        assert client.get("/search", params={"q": MARKER[:5]}, headers=data).json()["hits"]
        ranked = [c["customer_id"] for c in client.get("/customers", headers=data).json()["items"]]
        assert GONE in ranked and GONE in client.get("/ui/customers", headers=data).text
        done = client.delete(f"/customers/{GONE}", headers=data)
        assert done.status_code == 200, done.text
        assert done.json()["calls"] == 2
        assert client.get(f"/calls?customer_id={GONE}", headers=data).json()["items"] == []
        assert client.get(f"/customers/{GONE}", headers=data).status_code == 404
        # The cached ranking (JSON and page) was cleared, not served for another 30 s.
        ranked = [c["customer_id"] for c in client.get("/customers", headers=data).json()["items"]]
        assert ranked and GONE not in ranked
        assert GONE not in client.get("/ui/customers", headers=data).text
        assert client.get("/search", params={"q": MARKER[:5]}, headers=data).json()["hits"] == []
        assert client.delete(f"/customers/{GONE}", headers=data).status_code == 404
    assert find_in_tables(koe_env, [GONE, MARKER]) == []


def test_retention_purges_raw_text_and_recordings_and_keeps_reports(
    koe_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.retention import purge_expired as purge_flow

    monkeypatch.setenv("KOE_RAW_TEXT", "true")
    get_settings.cache_clear()
    _ingest(tmp_path, count=4)
    data_dir = tmp_path / "var"
    copies = _give_recordings(koe_env, data_dir)
    engine = load_engine(koe_env)
    with engine.begin() as connection:
        # Calls 0 and 1 are a year old; 2 and 3 started yesterday.
        for call_id, started in (("pii-000", 400), ("pii-001", 400), ("pii-002", 1), ("pii-003", 1)):
            connection.execute(
                sa.text("update calls set started_at = :t where call_id = :c"),
                {"t": (datetime.now(UTC) - timedelta(days=started)).replace(tzinfo=None), "c": call_id},
            )
        before = _report_state(connection)
    assert before["raw"] == {"pii-000": 7, "pii-001": 8, "pii-002": 7, "pii-003": 8}

    monkeypatch.setenv("KOE_RETENTION_DAYS", "90")
    get_settings.cache_clear()
    summary = purge_flow()
    assert (summary["calls"], summary["raw_texts"], summary["recordings"]) == (2, 15, 2)

    with engine.connect() as connection:
        after = _report_state(connection)
        run = connection.execute(sa.text("select flow, status, counts from pipeline_runs order by id desc")).first()
    assert after["raw"] == {"pii-000": 0, "pii-001": 0, "pii-002": 7, "pii-003": 8}
    # Everything the reports are made of is unchanged: metrics, tags, topics, sentiment, redacted text.
    for key in ("metrics", "tags", "topics", "sentiment", "redacted", "summaries"):
        assert after[key] == before[key], key
    assert not copies["pii-000"].exists() and not copies["pii-001"].exists()
    assert copies["pii-002"].exists() and copies["pii-003"].exists()
    assert run is not None and run[0] == "purge_expired" and run[1] == "completed"
    with transaction(koe_env) as session:
        again = purge_expired(session, retention_days=90, now=datetime.now(UTC), data_dir=data_dir)
    assert (again["calls"], again["raw_texts"], again["recordings"]) == (0, 0, 0)


def _report_state(connection: sa.Connection) -> dict[str, object]:
    def rows(sql: str) -> list[tuple[object, ...]]:
        return [tuple(r) for r in connection.execute(sa.text(sql))]

    raw = {
        str(call_id): int(count)
        for call_id, count in rows(
            "select c.call_id, count(u.text) from calls c join utterances u on u.call_pk = c.id group by c.call_id"
        )
    }
    return {
        "raw": raw,
        "metrics": rows("select call_pk, talk_ratio_agent, silence_s, turn_count from call_metrics order by call_pk"),
        "tags": rows("select call_pk, tag, evidence from tags order by id"),
        "topics": rows("select call_pk, topic_id, weight from call_topics order by call_pk, topic_id"),
        "sentiment": rows("select call_id, customer_sentiment, effort_index from calls order by call_id"),
        "redacted": rows("select call_pk, redacted_text from utterances order by id"),
        "summaries": rows("select customer_id, call_count, churn_score from customer_summaries order by customer_id"),
    }


def test_a_forgotten_customer_does_not_come_back_when_the_originals_are_ingested_again(koe_env: str, tmp_path: Path) -> None:
    _ingest(tmp_path)
    with transaction(koe_env) as session:
        forget_customer(session, GONE, data_dir=tmp_path / "var")

    again = _ingest(tmp_path, processed=0)  # the same originals, still in the customer's inbox

    assert again["skipped_reasons"] == {FORGOTTEN_REASON: 3, "unchanged": 3}
    assert GONE not in json.dumps(again, ensure_ascii=False)
    assert find_in_tables(koe_env, [GONE, MARKER]) == []
    with load_engine(koe_env).connect() as connection:
        assert connection.execute(sa.text("select count(*) from calls")).scalar_one() == 3  # the other customer's

    with transaction(koe_env) as session:
        assert unforget_customer(session, GONE) is True
        assert unforget_customer(session, GONE) is False
    assert _ingest(tmp_path, processed=3)["processed"] == 3  # consent given again: their calls come in
