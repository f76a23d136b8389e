"""koe on a real Prefect server: ``prefect.yaml`` deployed, a process worker runs a flow run to COMPLETED.

Starts ``prefect server start`` and ``prefect worker start --pool process`` as subprocesses with their
own PREFECT_HOME and free ports, deploys every deployment of ``prefect.yaml`` (``python -m
flows.deploy``), runs ``process-calls/inbox`` on a transcript inbox, and checks koe's PostgreSQL database.
The server's scheduler is off, so only the run the test creates is executed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.flows.conftest import db_counts, write_transcripts
from tests.net import free_port

pytestmark = pytest.mark.postgres
REPO = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).with_name("prefect"))


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    return subprocess.Popen(
        args, cwd=REPO, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)


def prefect(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(
        [PREFECT, "--no-prompt", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, (
        f"prefect {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result.stdout


@pytest.fixture
def server_env(postgres_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOE_", "PREFECT_"))}
    env.update(
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        PREFECT_API_URL=f"http://127.0.0.1:{port}/api",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_LEVEL="INFO",
        KOE_DATABASE_URL=postgres_url,
        KOE_DATA_DIR=str(tmp_path / "var"),
        KOE_ROOT=str(REPO),
        KOE_INBOX=str(tmp_path / "inbox"),
    )
    server = start(
        [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-ui", "--no-scheduler"],
        env,
        tmp_path / "server.log",
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, (tmp_path / "server.log").read_text()[-3000:]
            try:
                if httpx.get(f"{env['PREFECT_API_URL']}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (
                "Prefect server did not start:\n" + (tmp_path / "server.log").read_text()[-3000:]
            )
            time.sleep(0.5)
        yield env
    finally:
        stop(server)


def test_deployment_runs_on_a_process_worker(
    server_env: dict[str, str], postgres_url: str, tmp_path: Path
) -> None:
    api = server_env["PREFECT_API_URL"]
    write_transcripts(Path(server_env["KOE_INBOX"]) / "calls.jsonl", 3)
    prefect(["work-pool", "create", "process", "--type", "process"], server_env)
    # flows.deploy registers prefect.yaml's deployments (see its docstring for why not `prefect deploy`).
    deployed = subprocess.run(
        [sys.executable, "-m", "flows.deploy", "--prefect-file", str(REPO / "prefect.yaml")],
        cwd=REPO,
        env=server_env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert deployed.returncode == 0, deployed.stderr[-3000:]

    deployments = httpx.post(f"{api}/deployments/filter", json={}, timeout=10).json()
    names = {d["name"] for d in deployments}
    assert names == {"inbox", "manual", "topics-nightly", "customers-nightly"}
    inbox = next(d for d in deployments if d["name"] == "inbox")
    assert inbox["parameters"]["source"] == server_env["KOE_INBOX"]
    assert inbox["work_pool_name"] == "process"

    worker = start(
        [PREFECT, "worker", "start", "--pool", "process", "--type", "process"],
        server_env,
        tmp_path / "worker.log",
    )
    try:
        run = httpx.post(f"{api}/deployments/{inbox['id']}/create_flow_run", json={}, timeout=10).json()
        deadline = time.monotonic() + 180
        state = "SCHEDULED"
        while state not in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") and time.monotonic() < deadline:
            time.sleep(1)
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
            state = httpx.get(f"{api}/flow_runs/{run['id']}", timeout=10).json()["state"]["type"]
        assert state == "COMPLETED", (tmp_path / "worker.log").read_text()[-5000:]
    finally:
        stop(worker)

    counts = db_counts(postgres_url)
    assert counts["statuses"] == {"done": 3} and counts["duplicates"] == 0
    artifacts = httpx.post(f"{api}/artifacts/filter", json={}, timeout=10).json()
    assert "koe topic report" in {a["description"] for a in artifacts}  # unkeyed: no data in events
