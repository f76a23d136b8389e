"""``process_calls`` on a local Dask cluster of two worker processes gives the default runner's results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from koe.settings import get_settings
from models.call_detail import call_detail
from models.db import transaction
from tests.flows.conftest import db_counts, write_transcripts

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("harness")]


def stored_calls(url: str, call_ids: list[str]) -> dict[str, Any]:
    with transaction(url) as session:
        details = {call_id: call_detail(session, call_id) for call_id in call_ids}
    for detail in details.values():
        detail.pop("topics")  # topic ids depend on the run's first fit, compared separately
    return json.loads(json.dumps(details, default=str))


def run_flow(url: str, data_dir: Path, inbox: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    from flows.process import process_calls

    monkeypatch.setenv("KOE_DATABASE_URL", url)
    monkeypatch.setenv("KOE_DATA_DIR", str(data_dir))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        return process_calls(str(inbox))
    finally:
        get_settings.cache_clear()


def test_dask_cluster_gives_the_same_results_as_the_default_runner(
    postgres_url: str, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = 9
    inbox = tmp_path / "inbox"
    write_transcripts(inbox / "calls.jsonl", calls)
    call_ids = [f"call-{i:03d}" for i in range(calls)]

    reference = run_flow(sqlite_url, tmp_path / "threads", inbox, monkeypatch, KOE_TASK_RUNNER="threads")
    spread = run_flow(
        postgres_url, tmp_path / "dask", inbox, monkeypatch, KOE_TASK_RUNNER="dask", KOE_DASK_WORKERS="2"
    )

    for key in ("processed", "skipped", "failed"):
        assert spread[key] == reference[key]
    assert spread["processed"] == calls
    counts = db_counts(postgres_url)
    assert counts["statuses"] == {"done": calls} and counts["duplicates"] == 0 and counts["claimed"] == 0
    assert stored_calls(postgres_url, call_ids) == stored_calls(sqlite_url, call_ids)
