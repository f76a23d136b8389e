"""Helpers of the reliability suite: PII-rich transcripts, and scanners of tables, files and logs.

Calls are transcript JSONL (text mining only, fast); only ``slow`` tests decode audio with Whisper.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from models.db import load_engine
from tests.flows.conftest import settle

#: Personal data the PII calls are full of; none may come out of the API, pages, logs or artifacts.
PII = {
    "phone": "090-4321-8765",
    "phone_landline": "03-5555-1234",
    "email": "hanako.yamada@example.co.jp",
    "card": "4111 1111 1111 1111",
    "address": "東京都世田谷区桜丘3丁目12番5号",
    "postcode": "〒156-0054",
}

PII_DIALOGUE: list[tuple[str, str]] = [
    ("agent", "お電話ありがとうございます。みどりモバイルの木村でございます。"),
    ("customer", f"先月から請求がおかしいんです。電話番号は{PII['phone']}です。"),
    ("agent", "ご本人確認のため、ご登録のメールアドレスをお願いいたします。"),
    ("customer", f"メールは{PII['email']}です。自宅は{PII['phone_landline']}です。"),
    ("customer", f"住所は{PII['postcode']} {PII['address']}です。"),
    ("customer", f"カード番号は{PII['card']}で払っています。もう解約しようかと思っています。"),
    ("agent", "大変申し訳ございません。確認して折り返しご連絡いたします。"),
]


def pii_line(index: int, *, customer_id: str, marker: str = "") -> dict[str, Any]:
    """A transcript full of phone numbers, e-mails, card numbers and addresses (plus ``marker`` text)."""
    utterances = []
    start = 0.0
    for speaker, text in PII_DIALOGUE:
        utterances.append({"speaker": speaker, "start_s": start, "end_s": start + 3.0, "text": text})
        start += 3.5
    if marker:
        utterances.append({"speaker": "customer", "start_s": start, "end_s": start + 3.0, "text": marker})
    return {
        "call_id": f"pii-{index:03d}",
        "customer_id": customer_id,
        "agent_id": f"AG-{index % 2}",
        "started_at": f"2026-10-{1 + index % 28:02d}T10:00:00+09:00",
        "utterances": utterances,
    }


def write_lines(path: Path, lines: Iterable[dict[str, Any]]) -> Path:
    """Write transcript objects as a settled JSONL file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    settle(path)
    return path


def encodings(needle: str) -> list[bytes]:
    """The byte forms a string takes in koe's storage: UTF-8, and JSON with ASCII escapes."""
    forms = [needle.encode("utf-8"), json.dumps(needle)[1:-1].encode("ascii")]
    return list(dict.fromkeys(forms))


def table_rows(url: str) -> Iterator[tuple[str, str]]:
    """Every row of every table in the database, as ``(table, text of the row)``."""
    engine = load_engine(url)
    with engine.connect() as connection:
        for table in sa.inspect(engine).get_table_names():
            for row in connection.execute(sa.text(f'SELECT * FROM "{table}"')):
                yield table, " | ".join(
                    json.dumps(v, ensure_ascii=False, default=str) if isinstance(v, dict | list) else _text(v)
                    for v in row
                )


def _text(value: object) -> str:
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    return "" if value is None else str(value)


def find_in_tables(url: str, needles: Iterable[str]) -> list[tuple[str, str]]:
    """``(table, needle)`` for each needle found in any row of any table (plain or JSON-escaped)."""
    wanted = list(needles)
    hits: list[tuple[str, str]] = []
    for table, text in table_rows(url):
        for needle in wanted:
            if needle in text or json.dumps(needle)[1:-1] in text:
                hits.append((table, needle))
    return sorted(set(hits))


def find_in_files(folder: Path, needles: Iterable[str]) -> list[tuple[str, str]]:
    """``(file, needle)`` for each needle whose bytes occur in any file under ``folder``."""
    wanted = [(needle, form) for needle in needles for form in encodings(needle)]
    hits: set[tuple[str, str]] = set()
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits.update((str(path), needle) for needle, form in wanted if form in data)
    return sorted(hits)


def prefect_database() -> Path:
    """The Prefect test harness's SQLite database file (its ``PREFECT_SERVER_DATABASE_CONNECTION_URL``)."""
    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL

    url = str(PREFECT_SERVER_DATABASE_CONNECTION_URL.value())
    assert url.startswith("sqlite"), url
    return Path(url.split(":///", 1)[1])


def find_in_prefect(needles: Iterable[str]) -> list[tuple[str, str]]:
    """``(table, needle)`` for each needle in any row of Prefect's database (artifacts, events, logs, runs)."""
    import sqlite3

    wanted = [(needle, form) for needle in needles for form in {needle, json.dumps(needle)[1:-1]}]
    hits: set[tuple[str, str]] = set()
    connection = sqlite3.connect(f"file:{prefect_database()}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in connection.execute("select name from sqlite_master where type = 'table'")]
        for table in tables:
            for row in connection.execute(f'SELECT * FROM "{table}"'):
                text = " | ".join(_text(v) for v in row)
                hits.update((table, needle) for needle, form in wanted if form in text)
    finally:
        connection.close()
    return sorted(hits)


@pytest.fixture
def harness(prefect_harness: None) -> Iterator[None]:
    """The session's Prefect test harness."""
    yield
