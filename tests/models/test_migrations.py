from __future__ import annotations

import sqlalchemy as sa

from models.db import current_revision, ensure_database, head_revision, load_engine, table_names

EXPECTED_TABLES = {
    "customers",
    "agents",
    "calls",
    "utterances",
    "call_metrics",
    "tags",
    "call_categories",
    "topic_models",
    "topics",
    "call_topics",
    "customer_summaries",
    "trained_models",
    "pipeline_runs",
    "api_keys",
    "webhook_deliveries",
}


def test_upgrade_creates_schema_at_head(db_url: str) -> None:
    assert current_revision(db_url) == head_revision()
    assert set(table_names(db_url)) >= EXPECTED_TABLES
    ensure_database(db_url)  # a no-op on a current database
    assert current_revision(db_url) == head_revision()


def test_every_list_query_column_is_indexed(db_url: str) -> None:
    inspector = sa.inspect(load_engine(db_url))
    indexed = {
        (table, tuple(index["column_names"]))
        for table in ("calls", "tags", "customer_summaries")
        for index in inspector.get_indexes(table)
    }
    assert ("calls", ("customer_id", "started_at")) in indexed
    assert ("calls", ("agent_id", "started_at")) in indexed
    assert ("tags", ("tag", "call_pk")) in indexed
    assert ("customer_summaries", ("churn_score", "customer_id")) in indexed  # the ranking order


def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_url: str) -> None:
    with load_engine(sqlite_url).connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
