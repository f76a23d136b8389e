"""Fixtures for the flow tests: transcript inboxes, a shared Prefect harness, database counts.

Flow tests use transcript JSONL inputs (text mining only, fast); the bundled recordings are used
only by ``slow`` tests.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from models.db import load_engine

DIALOGUES: list[list[tuple[str, str]]] = [
    [
        ("agent", "お電話ありがとうございます。さくらネットの佐藤でございます。"),
        ("customer", "先週も電話したんですけど、まだインターネットがつながらないんです。"),
        ("agent", "大変申し訳ございません。回線の状況をお調べいたします。"),
        ("customer", "もう解約しようかと思っています。"),
    ],
    [
        ("agent", "お待たせいたしました。請求の担当、田中でございます。"),
        ("customer", "今月の請求金額が先月より二千円も高いんですが、理由を教えてください。"),
        ("agent", "確認いたします。オプション料金が追加されております。"),
        ("customer", "そんなオプションは申し込んでいません。返金してください。"),
    ],
    [
        ("agent", "お電話ありがとうございます。サポートセンターの鈴木です。"),
        ("customer", "引っ越しをするので、住所の変更をお願いしたいです。"),
        ("agent", "かしこまりました。新しいご住所を教えていただけますか。"),
        ("customer", "ありがとうございます。とても助かりました。"),
    ],
]


def transcript_line(index: int, *, customer_id: str | None = None) -> dict[str, Any]:
    """One realistic support-call transcript (three dialogues, rotated), as a JSONL object."""
    dialogue = DIALOGUES[index % len(DIALOGUES)]
    utterances = []
    start = 0.0
    for speaker, text in dialogue:
        utterances.append({"speaker": speaker, "start_s": start, "end_s": start + 3.0, "text": f"{text}"})
        start += 3.5
    return {
        "call_id": f"call-{index:03d}",
        "customer_id": customer_id or f"CUST-{index % 5}",
        "agent_id": f"AG-{index % 2}",
        "started_at": f"2026-11-{1 + index % 28:02d}T10:00:00+09:00",
        "utterances": utterances,
    }


def write_transcripts(path: Path, count: int, *, start: int = 0) -> Path:
    """Write ``count`` transcripts to the JSONL file ``path`` (an mtime in the past: settled)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(transcript_line(i), ensure_ascii=False) for i in range(start, start + count)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    settle(path)
    return path


def settle(path: Path) -> None:
    """Age a file's mtime by an hour so the inbox's settle check treats it as finished."""
    stat = path.stat()
    os.utime(path, (stat.st_atime - 3600, stat.st_mtime - 3600))


def db_counts(url: str) -> dict[str, Any]:
    """Call statuses, duplicate ids and per-call utterance counts, straight from the tables."""
    with load_engine(url).connect() as connection:
        statuses = dict(connection.execute(sa.text("select status, count(*) from calls group by status")).tuples().all())
        duplicates = connection.execute(
            sa.text("select count(*) from (select call_id from calls group by call_id having count(*) > 1) d")
        ).scalar_one()
        utterances = dict(
            connection.execute(
                sa.text(
                    "select c.call_id, count(u.id) from calls c left join utterances u on u.call_pk = c.id"
                    " group by c.call_id"
                )
            )
            .tuples()
            .all()
        )
        claimed = connection.execute(sa.text("select count(*) from calls where claimed_by is not null")).scalar_one()
    return {"statuses": statuses, "duplicates": duplicates, "utterances": utterances, "claimed": claimed}


@pytest.fixture
def harness(prefect_harness: None) -> Iterator[None]:
    """The session's Prefect test harness (one temporary server shared by every flow test)."""
    yield
