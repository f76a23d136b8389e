"""No call is processed twice: two runs at once on one folder, and a run killed mid-call then rerun.

Each run is a separate OS process running the ``process_calls`` flow (as ``koe ingest`` does),
against the same koe database, on SQLite and on PostgreSQL. The processes report to the session's
Prefect test server instead of each starting an ephemeral one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.flows.conftest import db_counts, write_transcripts

pytestmark = pytest.mark.usefixtures("harness")
REPO = Path(__file__).resolve().parents[2]

# Says it is ready once imported, then waits for the start signal, so both runs reach the database
# together however long each takes to start.
RUN_FLOW = """
import json, sys, time
from pathlib import Path
from flows.process import process_calls
Path(sys.argv[3]).touch()
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.01)
print("KOE-SUMMARY " + json.dumps(process_calls(sys.argv[1])), flush=True)
"""


def start_run(inbox: Path, go: Path, env: dict[str, str], *, ready: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", RUN_FLOW, str(inbox), str(go), str(ready)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def summary_of(process: subprocess.Popen[str]) -> dict[str, int]:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err[-3000:]
    line = next(line for line in out.splitlines() if line.startswith("KOE-SUMMARY "))
    return dict(json.loads(line.removeprefix("KOE-SUMMARY ")))


@pytest.fixture
def run_env(koe_env: str, tmp_path: Path) -> dict[str, str]:
    from prefect.settings import PREFECT_API_URL

    env = {k: v for k, v in os.environ.items() if not k.startswith("KOE_")}
    env.update(
        KOE_DATABASE_URL=koe_env,
        KOE_DATA_DIR=str(tmp_path / "var"),
        PREFECT_API_URL=str(PREFECT_API_URL.value()),
        PREFECT_LOGGING_LEVEL="WARNING",
    )
    return env


def test_two_concurrent_runs_process_every_call_once(koe_env: str, run_env: dict[str, str], tmp_path: Path) -> None:
    calls = 24
    inbox = tmp_path / "inbox"
    write_transcripts(inbox / "a.jsonl", calls // 2)
    write_transcripts(inbox / "b.jsonl", calls // 2, start=calls // 2)
    go = tmp_path / "go"
    ready = [tmp_path / f"ready-{i}" for i in range(2)]
    runs = [start_run(inbox, go, run_env, ready=r) for r in ready]
    deadline = time.monotonic() + 300  # start-up only takes this long on a very busy machine
    while not all(r.exists() for r in ready):
        exited = [run for run in runs if run.poll() is not None]
        assert not exited, [run.communicate()[1][-3000:] for run in exited]
        assert time.monotonic() < deadline, "the runs were not ready in 300 s"
        time.sleep(0.05)
    go.touch()
    first, second = (summary_of(run) for run in runs)

    assert first["processed"] + second["processed"] == calls
    assert first["failed"] == second["failed"] == 0
    assert first["processed"] + first["skipped"] == second["processed"] + second["skipped"] == calls
    counts = db_counts(koe_env)
    assert counts["statuses"] == {"done": calls}
    assert counts["duplicates"] == 0 and counts["claimed"] == 0
    assert sorted(counts["utterances"].values()) == [4] * calls


def test_run_killed_mid_call_then_rerun_loses_and_duplicates_nothing(
    koe_env: str, run_env: dict[str, str], tmp_path: Path
) -> None:
    from flows.process import process_calls

    calls = 40
    inbox = tmp_path / "inbox"
    write_transcripts(inbox / "calls.jsonl", calls)
    go = tmp_path / "go"
    go.touch()
    victim = start_run(inbox, go, run_env, ready=tmp_path / "ready")
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and victim.poll() is None:
        counts = db_counts(koe_env)
        if counts["statuses"].get("done", 0) >= 2:
            break
        time.sleep(0.02)
    assert victim.poll() is None, "the run finished before it could be killed"
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=30)

    done_before = db_counts(koe_env)["statuses"].get("done", 0)
    assert 0 < done_before < calls
    rerun = process_calls(str(inbox))

    # Calls the killed run finished are not redone; its claimed calls are taken over and finished.
    assert rerun["processed"] == calls - done_before
    assert rerun["skipped"] == done_before and rerun["failed"] == 0
    counts = db_counts(koe_env)
    assert counts["statuses"] == {"done": calls}
    assert counts["duplicates"] == 0 and counts["claimed"] == 0
    assert sorted(counts["utterances"].values()) == [4] * calls
