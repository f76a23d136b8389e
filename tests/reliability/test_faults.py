"""Faults: ``koe ingest`` SIGKILLed at random points, a locked or unreachable database, a broken model.

Complements ``tests/flows/test_concurrency.py`` (two concurrent runs; one kill then rerun): here the
real ``koe ingest`` command is killed 10 times over at random moments of a 20-call run, and after
every kill and every rerun each call must be complete (utterances, metrics, tags, categories and
topics as a clean run stores them) or absent, never half-written, never twice.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from koe.errors import ModelError
from koe.settings import get_settings
from models.db import load_engine
from tests.flows.conftest import db_counts, write_transcripts

pytestmark = pytest.mark.usefixtures("harness")
REPO = Path(__file__).resolve().parents[2]
CALLS = 20
KILLS = 10


def _results(url: str) -> dict[str, tuple[int, ...]]:
    """Per call: (utterances, metrics, tags, categories, topic weights) as stored."""
    sql = """
        select c.call_id,
          (select count(*) from utterances u where u.call_pk = c.id),
          (select count(*) from call_metrics m where m.call_pk = c.id),
          (select count(*) from tags t where t.call_pk = c.id),
          (select count(*) from call_categories k where k.call_pk = c.id),
          (select count(*) from call_topics p where p.call_pk = c.id)
        from calls c
    """
    with load_engine(url).connect() as connection:
        return {row[0]: tuple(int(x) for x in row[1:]) for row in connection.execute(sa.text(sql))}


def _runs(url: str) -> int:
    with load_engine(url).connect() as connection:
        return int(connection.execute(sa.text("select count(*) from pipeline_runs")).scalar_one())


@pytest.fixture
def cli_env(koe_env: str, tmp_path: Path) -> dict[str, str]:
    from prefect.settings import PREFECT_API_URL

    env = {k: v for k, v in os.environ.items() if not k.startswith("KOE_")}
    env.update(
        KOE_DATABASE_URL=koe_env,
        KOE_DATA_DIR=str(tmp_path / "var"),
        PREFECT_API_URL=str(PREFECT_API_URL.value()),  # the session's test server: no ephemeral start per run
        PREFECT_LOGGING_LEVEL="WARNING",
    )
    return env


def test_ingest_killed_ten_times_at_random_points_loses_and_duplicates_nothing(
    koe_env: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    from flows.process import process_calls

    if not koe_env.startswith("sqlite"):
        pytest.skip("the kill loop runs on SQLite; PostgreSQL kill/rerun is in tests/flows/test_concurrency.py")
    inbox = tmp_path / "inbox"
    write_transcripts(inbox / "calls.jsonl", CALLS)
    clean = process_calls(str(inbox))
    assert clean["processed"] == CALLS
    reference = _results(koe_env)
    assert len(reference) == CALLS and all(r[0] == 4 and r[1] == 1 and r[4] >= 1 for r in reference.values())

    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    killed_mid_run = 0
    for attempt in range(KILLS):
        runs_before = _runs(koe_env)
        # --force: every run rewrites all 20 calls, so each kill can land inside a call's write.
        victim = subprocess.Popen(
            [sys.executable, "-m", "cli", "ingest", str(inbox), "--force", "--json"],
            cwd=REPO, env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + 120
        while _runs(koe_env) == runs_before and victim.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 1.5))
        if victim.poll() is None:
            killed_mid_run += 1
        victim.send_signal(signal.SIGKILL)
        victim.communicate(timeout=30)

        after_kill = _results(koe_env)
        empty = (0, 0, 0, 0, 0)
        assert set(after_kill) == set(reference), (seed, attempt)
        for call_id, stored in after_kill.items():
            assert stored in (reference[call_id], empty), (seed, attempt, call_id, stored)

        rerun = process_calls(str(inbox))
        assert rerun["failed"] == 0 and rerun["processed"] + rerun["skipped"] == CALLS, (seed, attempt, rerun)
        counts = db_counts(koe_env)
        assert counts["statuses"] == {"done": CALLS}, (seed, attempt, counts)
        assert counts["duplicates"] == 0 and counts["claimed"] == 0
        assert _results(koe_env) == reference, (seed, attempt)
    # Most kills must land inside a run, or the loop proves little.
    assert killed_mid_run >= KILLS // 2, (seed, killed_mid_run)


def test_locked_database_is_waited_for_and_nothing_is_half_written(koe_env: str, tmp_path: Path) -> None:
    from flows.process import process_calls

    inbox = tmp_path / "inbox"
    write_transcripts(inbox / "calls.jsonl", 8)
    locked = threading.Event()
    release = threading.Event()

    def hold_lock() -> None:
        if koe_env.startswith("sqlite"):
            connection = sqlite3.connect(sa.engine.make_url(koe_env).database or "", timeout=30)
            connection.execute("BEGIN EXCLUSIVE")
            locked.set()
            release.wait(4.0)
            connection.rollback()
            connection.close()
        else:
            with load_engine(koe_env).connect() as connection:
                transaction = connection.begin()
                connection.execute(sa.text("LOCK TABLE calls IN ACCESS EXCLUSIVE MODE"))
                locked.set()
                release.wait(4.0)
                transaction.rollback()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    assert locked.wait(30)
    try:
        summary = process_calls(str(inbox))
    finally:
        release.set()
        holder.join()
    assert (summary["processed"], summary["failed"]) == (8, 0)
    counts = db_counts(koe_env)
    assert counts["statuses"] == {"done": 8} and counts["duplicates"] == 0 and counts["claimed"] == 0
    assert sorted(counts["utterances"].values()) == [4] * 8


def test_unreachable_database_is_reported_clearly(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOE_", "PREFECT_API"))}
    env.update(
        KOE_DATABASE_URL="postgresql+psycopg://koe@127.0.0.1:1/koe?connect_timeout=2",
        KOE_DATA_DIR=str(tmp_path / "var"),
        PREFECT_HOME=str(tmp_path / "prefect"),
    )
    write_transcripts(tmp_path / "inbox" / "calls.jsonl", 2)
    result = subprocess.run(
        [sys.executable, "-m", "cli", "ingest", str(tmp_path / "inbox")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 1
    message = " ".join(result.stderr.split())  # rich wraps long lines
    assert "database busy or unreachable" in message and "check the database server" in message
    assert "Traceback" not in message


def test_corrupt_model_fails_each_call_clearly_without_a_crash_loop(
    koe_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.process import process_calls
    from transcribe import model as model_module

    # Models are loaded once per process: start from none, as a fresh worker would (earlier tests
    # in this process may have loaded the good model).
    monkeypatch.setattr(model_module, "_models", {})
    # The cached model in data_dir/models is corrupt AND so are the packaged parts it is rebuilt from.
    cache = model_module.assemble_bundled_model(tmp_path / "var" / "models") / "model.bin"
    with cache.open("r+b") as handle:
        handle.seek(4096)
        handle.write(b"\xff" * 256)
    (cache.parent / "model.bin.verified").unlink(missing_ok=True)
    bad = tmp_path / "bad.part"
    bad.write_bytes(b"truncated download")
    parts = model_module._package_files()
    lookups: list[int] = []

    def corrupt_parts() -> dict[str, Path]:
        lookups.append(1)
        return {**parts, "model.bin.part2": bad}

    monkeypatch.setattr(model_module, "_package_files", corrupt_parts)
    get_settings.cache_clear()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("a.wav", "b.wav"):
        (inbox / name).write_bytes(b"RIFF-not-decoded-the-model-fails-first")
        os.utime(inbox / name, (time.time() - 3600, time.time() - 3600))

    summary = process_calls(str(inbox))

    assert (summary["processed"], summary["failed"]) == (0, 2)
    for failure in summary["failures"]:
        assert "corrupt" in failure["error"] and "pip install --force-reinstall" in failure["error"]
    # No retry storm: a ModelError is not transient, so each call tries the model once (Prefect's
    # 3 retries per call would make this 8).
    assert len(lookups) == 2
    with pytest.raises(ModelError):
        model_module.assemble_bundled_model(tmp_path / "var" / "models")
    assert not cache.exists() or model_module._sha256(cache) != model_module.BUNDLED_SHA256
    # The failure is koe's, not the calls': once the model is repaired, a plain rerun (no --force)
    # tries them again instead of skipping them as failed before.
    monkeypatch.setattr(model_module, "_package_files", lambda: parts)
    model_module._models.clear()
    again = process_calls(str(inbox))
    assert again["skipped"] == 0 and again["failed"] == 2
    assert all("re-export" in f["error"] or "decode" in f["error"] for f in again["failures"])
