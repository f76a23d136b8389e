"""The app under test: a real database (SQLite and PostgreSQL via ``db_url``), seeded demo data."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from koe.settings import get_settings
from tests.api.seed import Seeded, seed


@dataclass(frozen=True, slots=True)
class Service:
    """A running app (TestClient) over seeded data."""

    client: TestClient
    data: Seeded
    url: str

    def headers(self, role: str) -> dict[str, str]:
        """Authorization header of ``role``'s key."""
        return {"Authorization": f"Bearer {self.data.keys[role]}"}


@pytest.fixture
def service(koe_env: str, tmp_path: Path) -> Iterator[Service]:
    """The app over seeded demo data with recordings on disk."""
    data = seed(koe_env, recordings=tmp_path / "incoming")
    app = create_app(get_settings(), report_cache_s=0)
    with TestClient(app) as client:
        yield Service(client, data, koe_env)
