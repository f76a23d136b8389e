"""API security: schema fuzzing per role, PII never leaves koe, injections are inert, limits hold.

The auth matrix of the read routes is ``tests/api/test_auth.py`` (every route x {no key, bad key,
each role}); ``DELETE /customers/{id}`` is covered in ``tests/reliability/test_privacy.py``. Key
storage (hash only, constant-time compare) is checked here against the database itself.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
import sqlalchemy as sa
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from api.app import create_app
from koe.settings import get_settings
from models.db import load_engine, transaction
from models.keys import create_key
from tests.reliability.conftest import PII, pii_line, write_lines

pytestmark = pytest.mark.usefixtures("harness")
ROLES = ("manager", "csm", "data")
INJECTIONS = [
    "' OR '1'='1",
    "'; DROP TABLE calls; --",
    '" OR 1=1 --',
    "../../../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "*",
    "NEAR(a b)",
    '"unbalanced',
    "\\",
    "%_%",
    "<script>alert(1)</script>",
]


@pytest.fixture
def pii_service(koe_env: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """The app over calls full of PII, ingested through ``process_calls``, with a key per role."""
    from flows.process import process_calls

    caplog.set_level(logging.DEBUG)
    write_lines(tmp_path / "inbox" / "pii.jsonl", [pii_line(i, customer_id=f"C-{i % 3}") for i in range(9)])
    assert process_calls(str(tmp_path / "inbox"))["processed"] == 9
    with transaction(koe_env) as session:
        keys = {role: create_key(session, role)[0] for role in ROLES}
    with TestClient(create_app(get_settings(), report_cache_s=0)) as client:
        yield client, keys


def _get_paths(client: TestClient, headers: dict[str, str]) -> list[str]:
    """Every GET route with real ids filled in, plus the pages."""
    calls = client.get("/calls?limit=200", headers=headers).json()["items"]
    call_ids = [c["call_id"] for c in calls]
    customers = sorted({c["customer_id"] for c in calls if c.get("customer_id")})
    runs = client.get("/pipeline/runs", headers=headers).json().get("items", [])
    paths = ["/health", "/calls", "/customers", "/reports/topics", "/reports/agents", "/pipeline/runs",
             "/search?q=%E9%9B%BB%E8%A9%B1", "/search?q=090", "/search?q=example", "/search?q=4111", "/search?q=世田谷"]
    paths += [f"/calls/{c}" for c in call_ids] + [f"/customers/{c}" for c in customers]
    paths += [f"/customers/{c}/brief" for c in customers] + [f"/pipeline/runs/{r['run_id']}" for r in runs]
    paths += ["/ui/", "/ui/topics", "/ui/customers"] + [f"/ui/customers/{c}" for c in customers]
    paths += [f"/ui/calls/{c}" for c in call_ids]
    return paths


def test_no_response_page_log_or_artifact_contains_pii(
    pii_service: tuple[TestClient, dict[str, str]], koe_env: str, caplog: pytest.LogCaptureFixture
) -> None:
    client, keys = pii_service
    bodies: list[str] = []
    for role in ROLES:
        headers = {"Authorization": f"Bearer {keys[role]}"}
        client.cookies.clear()
        assert client.post("/ui/signin", data={"key": keys[role], "next": "/ui/"}, follow_redirects=False).status_code == 303
        for path in _get_paths(client, headers):
            response = client.get(path, headers=headers)
            assert response.status_code < 500, (role, path, response.text[:300])
            bodies.append(f"{role} {path} {response.status_code} {response.text}")
    assert len(bodies) > 60
    # The analysis really saw the PII (so the scan can fail): it was counted and redacted.
    with load_engine(koe_env).connect() as connection:
        assert connection.execute(sa.text("select min(pii_count) from calls")).scalar_one() >= 6
    logs = [record.getMessage() for record in caplog.records]
    artifacts = _prefect_artifacts()
    assert artifacts, "no Prefect artifact was published: the artifact scan proves nothing"
    for name, value in PII.items():
        for form in {value, value.replace(" ", ""), value.replace("-", "")}:
            assert not [b[:80] for b in bodies if form in b], (name, form)
            assert not [m for m in logs if form in m], (name, form)
            assert not [a for a in artifacts if form in a], (name, form)


def _prefect_artifacts() -> list[str]:
    """Every artifact the session's Prefect server holds, as text (read over its REST API)."""
    import httpx
    from prefect.settings import PREFECT_API_URL

    response = httpx.post(
        f"{PREFECT_API_URL.value()}/artifacts/filter", json={"limit": 200, "offset": 0, "sort": "CREATED_DESC"}
    )
    response.raise_for_status()
    return [json.dumps(a, ensure_ascii=False) for a in response.json()]


def test_injection_attempts_in_every_text_parameter_are_harmless(
    pii_service: tuple[TestClient, dict[str, str]], koe_env: str
) -> None:
    client, keys = pii_service
    headers = {"Authorization": f"Bearer {keys['data']}"}
    before = _fingerprint(koe_env)
    for attack in INJECTIONS:
        for path, params in (
            ("/calls", {"customer_id": attack}),
            ("/calls", {"agent_id": attack}),
            ("/calls", {"tag": attack}),
            ("/calls", {"cursor": attack}),
            ("/calls", {"topic": attack}),
            ("/customers", {"cursor": attack}),
            ("/search", {"q": attack}),
            ("/reports/topics", {"since": attack}),
        ):
            response = client.get(path, params=params, headers=headers)
            assert response.status_code in (200, 404, 422), (path, params, response.text[:200])
            if response.status_code == 200 and path == "/calls":
                assert response.json()["items"] == [], (path, params)
        for path in (f"/calls/{attack}", f"/customers/{attack}", f"/calls/{attack}/audio", f"/customers/{attack}/brief"):
            response = client.get(path, headers=headers)
            assert response.status_code in (404, 422), (path, response.status_code)
            assert "root:" not in response.text
    assert _fingerprint(koe_env) == before


def test_nul_byte_in_a_path_is_a_client_error(
    pii_service: tuple[TestClient, dict[str, str]], koe_env: str, request: pytest.FixtureRequest
) -> None:
    client, keys = pii_service
    headers = {"Authorization": f"Bearer {keys['data']}"}
    for path in ("/calls/%00", "/calls/%2500", "/customers/%00", "/customers/%00/brief", "/calls/a%00b/audio"):
        assert client.get(path, headers=headers).status_code in (404, 422), path
    assert client.get("/calls", params={"customer_id": "a\x00b"}, headers=headers).status_code == 422


def _fingerprint(url: str) -> tuple[int, ...]:
    with load_engine(url).connect() as connection:
        return tuple(
            int(connection.execute(sa.text(f"select count(*) from {table}")).scalar_one())
            for table in ("calls", "utterances", "customers", "tags", "api_keys")
        )


def test_limits_are_enforced(pii_service: tuple[TestClient, dict[str, str]]) -> None:
    client, keys = pii_service
    headers = {"Authorization": f"Bearer {keys['data']}"}
    for path in ("/calls", "/customers", "/search?q=電話", "/pipeline/runs"):
        join = "&" if "?" in path else "?"
        response = client.get(f"{path}{join}limit=201", headers=headers)
        assert response.status_code == 422 and response.json()["error"]["field"] == "limit", path
        assert client.get(f"{path}{join}limit=200", headers=headers).status_code == 200, path
    huge = client.get("/search", params={"q": "電" * 5_000}, headers=headers)
    assert huge.status_code in (414, 422, 431)
    assert client.get("/calls", params={"customer_id": "x" * 10_000}, headers=headers).status_code in (200, 422)


def test_keys_are_stored_hashed_and_compared_in_constant_time(koe_env: str) -> None:
    import inspect

    from models import keys as keys_module

    with transaction(koe_env) as session:
        plain, _ = create_key(session, "csm")
    with load_engine(koe_env).connect() as connection:
        stored = [" ".join(map(str, row)) for row in connection.execute(sa.text("select * from api_keys"))]
    assert stored and not any(plain in row or plain[12:] in row for row in stored)
    assert any(keys_module.hash_key(plain) in row for row in stored)
    assert "hmac.compare_digest" in inspect.getsource(keys_module.verify_key)


def test_schema_fuzzing_with_every_role_gives_no_5xx_and_valid_responses(koe_env: str, tmp_path: Path) -> None:
    from hypothesis import given

    from tests.api.seed import seed

    keys = seed(koe_env, recordings=tmp_path / "incoming").keys
    app = create_app(get_settings(), report_cache_s=0)
    # Fuzzing must not start flows or delete the data it reads; both are tested on their own.
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).exclude(method=["POST", "DELETE"])
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
        def fuzz(case: schemathesis.Case) -> None:
            for role in ROLES:
                case.call_and_validate(
                    headers={"Authorization": f"Bearer {keys[role]}"},
                    checks=[not_a_server_error, response_schema_conformance],
                )

        fuzz()
