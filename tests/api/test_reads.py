"""The API's reads on PostgreSQL: one round trip per query, read-only, and a dropped connection is survived.

The read engine (``models.db.load_read_engine``) runs its connections in autocommit and does not
ping them on checkout. These tests pin down what that must not cost: a write through it fails, and
when the database drops every connection (a restart, a failover, an idle timeout), the next request
is still answered, because the read is repeated once on a fresh connection.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.app import create_app
from koe.errors import StorageError
from koe.settings import get_settings
from models.db import load_engine, load_read_engine, load_read_sessionmaker, read_session_work
from tests.api.seed import seed

pytestmark = [pytest.mark.postgres, pytest.mark.parametrize("db_url", ["postgres"], indirect=True)]


def _status_after_select(session: Session) -> psycopg.pq.TransactionStatus:
    session.execute(sa.text("select count(*) from customers")).scalar_one()
    dbapi = session.connection().connection.dbapi_connection
    assert isinstance(dbapi, psycopg.Connection)
    return dbapi.info.transaction_status


def test_a_read_opens_no_transaction_and_cannot_write(koe_env: str) -> None:
    sessions = load_read_sessionmaker(koe_env)
    # No BEGIN was sent before the query, so there is no ROLLBACK to send after it either.
    assert read_session_work(sessions, _status_after_select, koe_env) == psycopg.pq.TransactionStatus.IDLE
    with pytest.raises(StorageError, match="read-only transaction"):
        read_session_work(sessions, lambda s: s.execute(sa.text("delete from customers")), koe_env)


def test_requests_are_answered_after_the_database_drops_every_connection(koe_env: str, tmp_path: Path) -> None:
    data = seed(koe_env, recordings=tmp_path / "incoming")
    backends: list[int] = []
    for engine in (load_engine(koe_env), load_read_engine(koe_env)):
        sa.event.listen(engine, "connect", lambda dbapi, _record: backends.append(dbapi.info.backend_pid))
    headers = {"Authorization": f"Bearer {data.keys['csm']}"}
    with TestClient(create_app(get_settings(), report_cache_s=0)) as client:
        assert client.get("/customers/C-1001", headers=headers).status_code == 200
        assert backends
        admin = sa.create_engine(koe_env)
        with admin.connect() as connection:
            killed = connection.execute(
                sa.text("select count(*) from (select pg_terminate_backend(pid) from unnest(:pids) as pid) t"),
                {"pids": backends},
            ).scalar_one()
        admin.dispose()
        assert killed == len(backends)
        for path in ("/customers/C-1001", "/customers/C-1001/brief", "/calls", "/customers"):
            response = client.get(path, headers=headers)
            assert response.status_code == 200, (path, response.text)
