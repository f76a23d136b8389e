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


def test_migrations_create_exactly_the_tables_the_models_declare(db_url: str) -> None:
    # Alembic migrations are the only way the schema changes: a column or index added to
    # models/tables.py without its migration (or the other way round) shows up here.
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from models.tables import Base

    with load_engine(db_url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        diff = compare_metadata(context, Base.metadata)
    # Search lives outside the ORM on purpose (models/search.py): SQLite's FTS5 tables and
    # PostgreSQL's trigram index are created by migration 0003 only.
    search_only = [d for d in diff if d[0] == "remove_table" or (d[0] == "remove_index" and d[1].name.endswith("_trgm"))]
    assert [d for d in diff if d not in search_only] == []
    assert all(d[0] == "remove_index" or d[1].name.startswith("utterances_fts") for d in search_only)
