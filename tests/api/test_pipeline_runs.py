"""POST /pipeline/runs through to the flow: one run record, finished by the flow itself."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from koe.settings import get_settings
from models.db import transaction
from models.keys import create_key
from models.runs import list_runs

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "transcripts.jsonl"


@pytest.mark.usefixtures("prefect_harness")
def test_a_run_started_through_the_api_is_one_record_the_flow_finishes(koe_env: str) -> None:
    with transaction(koe_env) as session:
        key, _ = create_key(session, "data", name="runs")
    app = create_app(get_settings(), report_cache_s=0)
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(app) as client:
        started = client.post(
            "/pipeline/runs", json={"flow": "process_calls", "parameters": {"source": str(SAMPLES)}}, headers=headers
        )
        assert started.status_code == 202, started.text
        run_id = started.json()["run_id"]
        deadline = time.monotonic() + 600
        while client.get(f"/pipeline/runs/{run_id}", headers=headers).json()["status"] == "running":
            assert time.monotonic() < deadline, "the flow did not finish in 10 minutes"
            time.sleep(0.5)
        run = client.get(f"/pipeline/runs/{run_id}", headers=headers).json()
        calls = client.get("/calls?limit=200", headers=headers).json()["items"]
    assert run["status"] == "completed", run
    assert run["counts"]["processed"] == len(SAMPLES.read_text(encoding="utf-8").splitlines()) == len(calls)
    with transaction(koe_env) as session:
        runs = list_runs(session, limit=10)
    assert [r["run_id"] for r in runs] == [run_id]  # the flow reported into the API's record
    assert runs[0]["parameters"]["via"] == "api" and runs[0]["prefect_flow_run_id"]
