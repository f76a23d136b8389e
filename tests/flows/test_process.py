"""``process_calls`` and ``reprocess`` end to end under the Prefect test harness, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
from pathlib import Path

import fsspec
import pytest
import sqlalchemy as sa
import yaml

from koe.settings import get_settings
from models.db import load_engine
from tests.flows.conftest import db_counts, settle, transcript_line, write_transcripts

pytestmark = pytest.mark.usefixtures("harness")
BUNDLED_CATEGORIES = Path(__file__).resolve().parents[2] / "textmining" / "rules" / "categories.yaml"


def test_memory_url_is_staged_and_keeps_call_identity(koe_env: str, tmp_path: Path) -> None:
    from flows.process import process_calls

    fs = fsspec.filesystem("memory")
    lines = [json.dumps(transcript_line(i), ensure_ascii=False) for i in range(4)]
    fs.pipe("/koe-inbox-a/batch.jsonl", ("\n".join(lines) + "\n").encode("utf-8"))
    try:
        # Memory files are "created" just now: a zero settle time lets this run take them.
        os.environ["KOE_SETTLE_S"] = "0"
        get_settings.cache_clear()
        first = process_calls("memory://koe-inbox-a")
        assert (first["processed"], first["failed"], first["skipped"]) == (4, 0, 0)
        # The same bytes from a local folder are the same calls: nothing new to do.
        local = tmp_path / "local-inbox"
        local.mkdir()
        (local / "batch.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        settle(local / "batch.jsonl")
        again = process_calls(str(local))
        assert (again["processed"], again["skipped"]) == (0, 4)
    finally:
        fs.rm("/koe-inbox-a", recursive=True)
        os.environ.pop("KOE_SETTLE_S", None)
        get_settings.cache_clear()
    staged = list((tmp_path / "var" / "staging" / "memory").glob("*/batch.jsonl"))
    assert len(staged) == 1
    counts = db_counts(koe_env)
    assert counts["statuses"] == {"done": 4} and counts["duplicates"] == 0 and counts["claimed"] == 0
    assert all(n == 4 for n in counts["utterances"].values())


def test_file_still_being_written_is_deferred_then_processed(koe_env: str, tmp_path: Path) -> None:
    from flows.process import process_calls

    inbox = tmp_path / "inbox"
    write_transcripts(inbox / "old.jsonl", 2)
    fresh = inbox / "fresh.jsonl"
    fresh.write_text(json.dumps(transcript_line(7), ensure_ascii=False) + "\n", encoding="utf-8")

    first = process_calls(str(inbox))
    assert (first["processed"], first["skipped"], first["failed"]) == (2, 1, 0)
    assert first["deferred"][0]["origin"] == "fresh.jsonl"
    assert "still being written" in first["deferred"][0]["reason"]
    assert "call-007" not in db_counts(koe_env)["utterances"]

    settle(fresh)
    second = process_calls(str(inbox))
    assert (second["processed"], second["skipped"], second["failed"]) == (1, 2, 0)
    assert db_counts(koe_env)["statuses"] == {"done": 3}


def test_reprocess_applies_changed_rules_to_stored_transcripts(
    koe_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.process import process_calls
    from flows.reprocess import reprocess

    inbox = tmp_path / "inbox"
    write_transcripts(inbox / "calls.jsonl", 6)
    assert process_calls(str(inbox))["processed"] == 6
    new_category = "引っ越し(テスト)"
    rules = yaml.safe_load(BUNDLED_CATEGORIES.read_text(encoding="utf-8"))
    rules["categories"].append({"name": new_category, "speaker": "customer", "patterns": ["引っ越し"]})
    custom = tmp_path / "categories.yaml"
    custom.write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("KOE_CATEGORIES", str(custom))
    get_settings.cache_clear()

    summary = reprocess()
    assert (summary["processed"], summary["failed"]) == (6, 0)
    with load_engine(koe_env).connect() as connection:
        moved = connection.execute(
            sa.text(
                "select c.call_id from call_categories k join calls c on c.id = k.call_pk"
                " where k.category = :name order by c.call_id"
            ),
            {"name": new_category},
        ).scalars().all()
        runs = connection.execute(sa.text("select flow, status from pipeline_runs order by id")).tuples().all()
    # Dialogue 2 (every third call) is the one about moving house.
    assert moved == ["call-002", "call-005"]
    assert runs == [("process_calls", "completed"), ("reprocess", "completed")]
    counts = db_counts(koe_env)
    assert counts["statuses"] == {"done": 6} and all(n == 4 for n in counts["utterances"].values())


def test_retranscribe_without_recording_fails_that_call_and_keeps_its_results(koe_env: str, tmp_path: Path) -> None:
    from flows.process import process_calls
    from flows.reprocess import reprocess

    write_transcripts(tmp_path / "inbox" / "calls.jsonl", 2)
    process_calls(str(tmp_path / "inbox"))
    summary = reprocess(stage="transcribe")
    assert (summary["processed"], summary["failed"]) == (0, 2)
    assert all("recording not found" in f["error"] for f in summary["failures"])
    counts = db_counts(koe_env)
    assert counts["statuses"] == {"done": 2} and all(n == 4 for n in counts["utterances"].values())


def test_a_link_out_of_the_inbox_is_a_failed_input_and_never_read(koe_env: str, tmp_path: Path) -> None:
    from flows.process import process_calls

    inbox, elsewhere = tmp_path / "inbox", tmp_path / "elsewhere"
    write_transcripts(inbox / "calls.jsonl", 2)
    write_transcripts(elsewhere / "secret.jsonl", 1, start=10)
    (inbox / "secret.jsonl").symlink_to(elsewhere / "secret.jsonl")

    summary = process_calls(str(inbox))

    assert (summary["processed"], summary["failed"]) == (2, 1)
    with load_engine(koe_env).connect() as connection:
        failed = connection.execute(sa.text("select call_id, status, error from calls where status = 'failed'")).one()
        stored = connection.execute(sa.text("select call_id from calls where status = 'done' order by call_id")).scalars().all()
    assert failed[0] == "secret" and "symbolic link" in failed[2] and "copy the file into it" in failed[2]
    assert stored == ["call-000", "call-001"]  # call-010, behind the link, was never read
