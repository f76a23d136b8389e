"""Many concurrent requests on a small connection pool: every one is answered, none waits it out.

Each route's database work runs in one worker thread with its own session, and there are no more
worker threads than pooled connections; a request never holds a connection while it waits for a
thread. If it did (a session held across FastAPI's response serialization, which itself needs a
thread), a burst larger than the pool would leave every connection held by requests waiting for
threads held by requests waiting for connections: nothing answers until the pool times out.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import api.app
import models.db
from api.app import create_app
from koe.settings import get_settings
from models.db import dispose_engine, load_engine, load_read_engine
from tests.api.seed import Seeded, seed

POOL = 2


@pytest.fixture
def small_pool(koe_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, Seeded]]:
    data = seed(koe_env, recordings=tmp_path / "incoming")
    dispose_engine(koe_env)
    monkeypatch.setattr(models.db, "POOL_SIZE", POOL)
    monkeypatch.setattr(models.db, "POOL_OVERFLOW", 0)
    monkeypatch.setattr(api.app, "POOL_SIZE", POOL)
    for engine in (load_engine(koe_env), load_read_engine(koe_env)):
        engine.pool._timeout = 5  # type: ignore[attr-defined]  # fail in seconds, not the default 30
    try:
        with TestClient(create_app(get_settings(), report_cache_s=0)) as client:
            yield client, data
    finally:
        dispose_engine(koe_env)


def test_a_burst_larger_than_the_pool_is_answered(small_pool: tuple[TestClient, Seeded]) -> None:
    client, data = small_pool
    headers = {"Authorization": f"Bearer {data.keys['manager']}"}
    assert client.get("/customers", headers=headers).status_code == 200  # the key is cached from here
    paths = ["/customers/C-1001", "/customers?order=churn_risk", "/calls", "/reports/topics", "/search?q=電話"] * 12
    with ThreadPoolExecutor(max_workers=len(paths)) as pool:
        statuses = list(pool.map(lambda p: client.get(p, headers=headers).status_code, paths))
    assert statuses == [200] * len(paths)
