"""The CLI as a user runs it: a real ``koe`` process, Prefect in ephemeral mode, a real database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TRANSCRIPT = {
    "customer_id": "CUST-1",
    "agent_id": "AG-1",
    "started_at": "2026-11-02T10:00:00+09:00",
    "utterances": [
        {"speaker": "agent", "start_s": 0.0, "end_s": 2.5, "text": "お電話ありがとうございます。さくらネットの佐藤でございます。"},
        {"speaker": "customer", "start_s": 3.0, "end_s": 8.0, "text": "先週も電話したんですけど、まだインターネットがつながらないんです。"},
        {"speaker": "agent", "start_s": 8.5, "end_s": 11.0, "text": "大変申し訳ございません。お調べいたします。"},
        {"speaker": "customer", "start_s": 11.5, "end_s": 15.0, "text": "もう解約しようかと思っています。電話番号は090-1234-5678です。"},
    ],
}


def koe(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.fixture
def cli_env(db_url: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOE_", "PREFECT_API"))}
    env.update(KOE_DATABASE_URL=db_url, KOE_DATA_DIR=str(tmp_path / "var"), PREFECT_HOME=str(tmp_path / "prefect"))
    return env


def test_ingest_records_one_bad_file_and_two_done_calls(cli_env: dict[str, str], tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "broken.wav").write_text("this is a text file, not audio", encoding="utf-8")
    for name, call_id, customer in (("a.jsonl", "t-1", "CUST-1"), ("b.jsonl", "t-2", "CUST-2")):
        line = {**TRANSCRIPT, "call_id": call_id, "customer_id": customer}
        (inbox / name).write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")

    result = koe(["ingest", str(inbox), "--json"], cli_env, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    assert (summary["processed"], summary["failed"], summary["skipped"]) == (2, 1, 0)
    failure = summary["failures"][0]
    assert failure["call_id"] == "broken"
    assert "broken.wav" in failure["error"] and "re-export" in failure["error"]

    shown = json.loads(koe(["calls", "show", "t-1", "--json"], cli_env, tmp_path).stdout)
    assert shown["status"] == "done"
    assert {t["tag"] for t in shown["tags"]} >= {"repeat_contact", "churn_intent"}
    assert "090-1234-5678" not in json.dumps(shown, ensure_ascii=False)
    bad = json.loads(koe(["calls", "show", "broken", "--json"], cli_env, tmp_path).stdout)
    assert bad["status"] == "failed" and "broken.wav" in bad["error"]

    again = json.loads(koe(["ingest", str(inbox), "--json"], cli_env, tmp_path).stdout)
    assert (again["processed"], again["skipped"]) == (0, 3)


def test_unknown_call_is_a_clear_error(cli_env: dict[str, str], tmp_path: Path) -> None:
    result = koe(["calls", "show", "nope"], cli_env, tmp_path)
    assert result.returncode == 1
    assert "call 'nope' not found" in result.stderr


def test_keys_can_be_listed_and_revoked(cli_env: dict[str, str], tmp_path: Path) -> None:
    created = koe(["keys", "create", "--role", "csm", "--name", "csm laptop"], cli_env, tmp_path)
    assert created.returncode == 0, created.stderr
    plain = created.stdout.strip()
    listed = koe(["keys", "list", "--json"], cli_env, tmp_path)
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)
    assert (row["prefix"], row["role"], row["name"], row["revoked_at"]) == (plain[:12], "csm", "csm laptop", None)
    assert plain not in listed.stdout and "hash" not in listed.stdout  # never the key or its digest
    assert plain[:12] in koe(["keys", "list"], cli_env, tmp_path).stdout

    revoked = koe(["keys", "revoke", plain[:12]], cli_env, tmp_path)
    assert revoked.returncode == 0 and "revoked 1 key" in revoked.stderr, revoked.stderr
    assert json.loads(koe(["keys", "list", "--json"], cli_env, tmp_path).stdout) == []
    (row,) = json.loads(koe(["keys", "list", "--all", "--json"], cli_env, tmp_path).stdout)
    assert row["revoked_at"] is not None
    again = koe(["keys", "revoke", plain[:12]], cli_env, tmp_path)
    assert again.returncode == 1 and "koe keys list" in again.stderr and "Traceback" not in again.stderr
