"""Personal data lifecycle (APPI): forget a customer, purge raw text and recordings past retention.

Both functions take a ``Session`` and only execute/flush: the caller owns the transaction, so a
customer is forgotten completely or not at all. Files are deleted only after the rows are gone from
the session (a crash between the two leaves orphan files, which :func:`purge_expired` sweeps by
age; never rows pointing at deleted files that a page would try to serve).

Topic models are fitted on every call, so their vocabularies, top terms and labels can hold words
only the forgotten customer said: ``models.topic_erasure`` takes those out of the current model and
the stored topics and drops the older versions. Every server process caches reports; forgetting
bumps the ``reports`` change marker (``models.markers``) in the same transaction, so each drops its
cache on its next request. Prefect artifacts live in Prefect's own database (``flows.erasure``).

Deleted rows can survive on disk: SQLite keeps them in free pages, the WAL and the FTS5 index
segments until they are merged; PostgreSQL keeps dead tuples until ``VACUUM``. After a forget, run
:func:`compact_storage` (outside any transaction) so the bytes are gone too.

Retention policy (``KOE_RETENTION_DAYS``), for calls that started longer ago than the limit:

- dropped: the raw, unredacted utterance text (``utterances.text``, stored only with
  ``KOE_RAW_TEXT``), koe's copies of the recordings (``Call.recording_path`` under the data folder),
  and staged inbox copies (``<data_dir>/staging``, which hold raw transcripts and audio) and
  recordings under ``<data_dir>/recordings`` older than the limit;
- kept: everything the aggregate reports are made of: metrics, tags and categories (their
  evidence is redacted text), topic weights and quotes (redacted), sentiment numbers, effort, the
  redacted utterance text (search, quotes and call pages keep working) and customer summaries.

Redacted text is kept on purpose: the reports' representative quotes and tag evidence are what
makes them actionable, and redaction has already removed phone numbers, e-mails, card numbers and
addresses. A deployment that must drop every word of old calls forgets the customers instead.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from koe.errors import InputError, NotFoundError
from models.calls import customer_hash, is_forgotten
from models.db import load_engine
from models.markers import REPORTS, bump_marker
from models.tables import (
    Call,
    CallCategoryRow,
    CallMetricsRow,
    CallTopicRow,
    Customer,
    CustomerSummaryRow,
    ForgottenCustomer,
    PipelineRun,
    TagRow,
    TopicRow,
    UtteranceRow,
    WebhookDelivery,
)
from models.topic_erasure import customer_tokens, scrub_topic_models, words_only_they_said

#: Folders under the data dir that hold koe's copies of inputs (never the model cache or the database).
COPY_FOLDERS = ("recordings", "staging")


def forget_customer(session: Session, customer_id: str, *, data_dir: Path) -> dict[str, Any]:
    """Remove everything koe holds about ``customer_id``.

    Deletes the customer's calls with their utterances (and so their search entries: the SQLite FTS
    triggers fire on delete; PostgreSQL's trigram index follows the rows), metrics, tags,
    categories and topic weights; their summary and webhook deliveries; topic quotes taken from
    their calls; per-call failures of their calls in the pipeline-run history; the customer row; the
    words only they said from the current topic model and the topics, and the older topic-model
    versions (``models.topic_erasure``); and koe's copies of their recordings and staged inputs
    (audio, transcript lines, manifest rows) under ``data_dir``. Every server process's report
    cache is dropped through the ``reports`` change marker. Originals outside
    ``data_dir`` (the customer's inbox) are not koe's to delete; so that ingesting them again does
    not bring the customer back, the SHA-256 of the id goes on a suppression list
    (``forgotten_customers``) that every ingest checks. ``unforget_customer`` lifts it.

    Args:
        session: Open session; the caller commits.
        customer_id: The customer to forget.
        data_dir: koe's data folder (``KOE_DATA_DIR``); only files inside it are deleted.

    Returns:
        What was removed: counts per kind and the deleted file paths (``files``).

    Raises:
        NotFoundError: when koe holds neither the customer nor any call of theirs.

    """
    calls = session.execute(
        select(Call.id, Call.call_id, Call.recording_path, Call.source_path).where(Call.customer_id == customer_id)
    ).all()
    customer = session.get(Customer, customer_id)
    if customer is None and not calls:
        raise NotFoundError(f"customer {customer_id!r} not found; nothing to forget")
    if not is_forgotten(session, customer_id):
        session.add(ForgottenCustomer(customer_hash=customer_hash(customer_id)))
    call_pks = [row.id for row in calls]
    call_ids = {row.call_id for row in calls}
    counts: dict[str, Any] = {"customer_id": customer_id, "calls": len(calls)}
    their_words = customer_tokens(session, call_pks)
    # Children first, explicitly: cascades exist, but counting and not relying on SQLite's
    # foreign_keys pragma being on in every connection make the erasure auditable.
    for name, table in (
        ("utterances", UtteranceRow),
        ("tags", TagRow),
        ("categories", CallCategoryRow),
        ("topic_weights", CallTopicRow),
        ("metrics", CallMetricsRow),
    ):
        counts[name] = _delete_where(session, table, table.call_pk.in_(call_pks)) if call_pks else 0
    counts["topic_quotes"] = _drop_topic_quotes(session, call_ids)
    counts["run_failures"] = _drop_run_failures(session, call_ids)
    if call_pks:
        session.execute(delete(Call).where(Call.id.in_(call_pks)))
    counts["summaries"] = _delete_where(session, CustomerSummaryRow, CustomerSummaryRow.customer_id == customer_id)
    counts["webhook_deliveries"] = _delete_where(session, WebhookDelivery, WebhookDelivery.customer_id == customer_id)
    if customer is not None:
        session.delete(customer)
    session.flush()
    counts.update(scrub_topic_models(session, words_only_they_said(session, their_words)))
    bump_marker(session, REPORTS)
    paths = [p for row in calls for p in (row.recording_path, row.source_path) if p]
    counts["files"] = (
        _delete_copies(paths, data_dir)
        + _scrub_staged_transcripts(data_dir, customer_id)
        + _scrub_staged_manifests(data_dir, customer_id)
    )
    return counts


def unforget_customer(session: Session, customer_id: str) -> bool:
    """Let ``customer_id``'s calls be ingested again (e.g. they came back and consented).

    Returns:
        Whether the customer was on the suppression list.

    """
    row = session.get(ForgottenCustomer, customer_hash(customer_id))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def _delete_where(session: Session, table: Any, condition: Any) -> int:
    result = session.execute(delete(table).where(condition).execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def _drop_topic_quotes(session: Session, call_ids: set[str]) -> int:
    """Remove topic quotes that come from ``call_ids``; returns how many were removed."""
    if not call_ids:
        return 0
    removed = 0
    for topic in session.scalars(select(TopicRow)):
        kept = [q for q in topic.quotes if not (isinstance(q, dict) and q.get("call_id") in call_ids)]
        if len(kept) != len(topic.quotes):
            removed += len(topic.quotes) - len(kept)
            topic.quotes = kept
    return removed


def _drop_run_failures(session: Session, call_ids: set[str]) -> int:
    """Remove per-call failures of ``call_ids`` from the run history (their errors may quote inputs)."""
    if not call_ids:
        return 0
    removed = 0
    for run in session.scalars(select(PipelineRun)):
        kept = [f for f in run.failures if not (isinstance(f, dict) and f.get("call_id") in call_ids)]
        if len(kept) != len(run.failures):
            removed += len(run.failures) - len(kept)
            run.failures = kept
    return removed


def _inside_copies(path: Path, data_dir: Path) -> bool:
    """Whether ``path`` is one of koe's copies: a file inside ``data_dir/recordings`` or ``/staging``."""
    try:
        resolved = path.resolve()
        base = data_dir.resolve()
    except (OSError, RuntimeError):
        return False
    return any(resolved.is_relative_to(base / folder) for folder in COPY_FOLDERS)


def _delete_copies(paths: Iterable[str], data_dir: Path) -> list[str]:
    deleted: list[str] = []
    for raw in dict.fromkeys(paths):
        # A transcript origin looks like "calls.jsonl:3": the staged file is "calls.jsonl".
        for candidate in (Path(raw), Path(raw.rsplit(":", 1)[0])):
            if candidate.is_file() and _inside_copies(candidate, data_dir):
                candidate.unlink()
                deleted.append(str(candidate))
                break
    return deleted


def _scrub_staged_transcripts(data_dir: Path, customer_id: str) -> list[str]:
    """Rewrite staged transcript files without the customer's lines; returns the files changed.

    A staged JSONL (an fsspec inbox mirrored under ``data_dir/staging``) holds many customers'
    calls, so it is rewritten (atomically) rather than deleted.
    """
    changed: list[str] = []
    root = data_dir / "staging"
    if not root.is_dir():
        return changed
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() not in (".jsonl", ".ndjson") or not path.is_file():
            continue
        lines = path.read_text(encoding="utf-8-sig", errors="replace").splitlines(keepends=True)
        kept = [line for line in lines if not _mentions_customer(line, customer_id)]
        if len(kept) != len(lines):
            tmp = path.with_name(f".{path.name}.forget")
            tmp.write_text("".join(kept), encoding="utf-8")
            os.replace(tmp, path)
            changed.append(str(path))
    return changed


def _scrub_staged_manifests(data_dir: Path, customer_id: str) -> list[str]:
    """Rewrite staged CSV manifests without the customer's rows; returns the files changed.

    The header stays; a row goes when any of its cells is the customer id (a manifest names the
    customer in ``customer_id``, an extra column may name them too).
    """
    import csv
    import io

    changed: list[str] = []
    root = data_dir / "staging"
    if not root.is_dir():
        return changed
    for path in sorted(root.rglob("*.csv")):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8-sig", errors="replace")
        if customer_id not in text:
            continue
        rows = list(csv.reader(io.StringIO(text)))
        kept = rows[:1] + [row for row in rows[1:] if not any(cell.strip() == customer_id for cell in row)]
        if len(kept) == len(rows):
            continue
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(kept)
        tmp = path.with_name(f".{path.name}.forget")
        tmp.write_text(out.getvalue(), encoding="utf-8")
        os.replace(tmp, path)
        changed.append(str(path))
    return changed


def _mentions_customer(line: str, customer_id: str) -> bool:
    if customer_id not in line:
        return False
    try:
        obj = json.loads(line)
    except json.JSONDecodeError:
        return True  # a broken line that names the customer: drop it too
    return not isinstance(obj, dict) or str(obj.get("customer_id")) == customer_id


def purge_expired(session: Session, *, retention_days: int, now: datetime, data_dir: Path) -> dict[str, Any]:
    """Drop raw text and recordings of calls older than ``retention_days``; keep the reports.

    A call's age is measured from ``started_at`` (from ``created_at`` when the call has no start
    time). See the module docstring for exactly what is dropped and what is kept. Running it again
    is harmless: it counts only what it changed.

    Args:
        session: Open session; the caller commits.
        retention_days: Keep raw text and recordings this many days (>= 1).
        now: The current time (timezone-aware), passed in so that runs and tests are reproducible.
        data_dir: koe's data folder; recordings and staged copies inside it are deleted.

    Returns:
        ``{cutoff, calls, raw_texts, recordings, stale_copies}``: the cutoff (ISO 8601), expired
        calls touched, utterance raw texts cleared, recordings deleted, old staged/recording files
        swept.

    Raises:
        InputError: when ``retention_days`` < 1 or ``now`` is naive.

    """
    if retention_days < 1:
        raise InputError(f"retention: {retention_days} days; keep calls for at least 1 day (KOE_RETENTION_DAYS, --days)")
    if now.tzinfo is None:
        raise InputError(f"retention: the time {now.isoformat()} has no timezone; pass a timezone-aware time")
    cutoff = now - timedelta(days=retention_days)
    age = func.coalesce(Call.started_at, Call.created_at)
    expired = select(Call.id).where(age < cutoff)
    with_raw = set(
        session.scalars(
            select(UtteranceRow.call_pk)
            .where(UtteranceRow.call_pk.in_(expired), UtteranceRow.text.is_not(None))
            .distinct()
        )
    )
    raw = session.execute(
        update(UtteranceRow)
        .where(UtteranceRow.call_pk.in_(expired), UtteranceRow.text.is_not(None))
        .values(text=None)
        .execution_options(synchronize_session=False)
    )
    with_recording = session.execute(
        select(Call.id, Call.recording_path).where(age < cutoff, Call.recording_path.is_not(None))
    ).all()
    if with_recording:
        session.execute(
            update(Call)
            .where(Call.id.in_([row.id for row in with_recording]))
            .values(recording_path=None)
            .execution_options(synchronize_session=False)
        )
    session.flush()
    recordings = _delete_copies([str(row.recording_path) for row in with_recording], data_dir)
    stale = _sweep_old_copies(data_dir, cutoff.timestamp())
    return {
        "cutoff": cutoff.isoformat(),
        "calls": len(with_raw | {row.id for row in with_recording}),
        "raw_texts": int(getattr(raw, "rowcount", 0) or 0),
        "recordings": len(recordings),
        "stale_copies": len(stale),
    }


def _sweep_old_copies(data_dir: Path, cutoff_epoch_s: float) -> list[str]:
    """Delete files under ``data_dir/recordings`` and ``/staging`` last modified before the cutoff."""
    deleted: list[str] = []
    for folder in COPY_FOLDERS:
        root = data_dir / folder
        if not root.is_dir():
            continue
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                path = Path(dirpath) / name
                try:
                    if path.stat().st_mtime < cutoff_epoch_s:
                        path.unlink()
                        deleted.append(str(path))
                except OSError:
                    continue
    return deleted


def compact_storage(url: str) -> None:
    """Make deleted rows unrecoverable from the database files; run after :func:`forget_customer`.

    SQLite: merge the FTS5 index (deleted trigrams otherwise stay in its shadow tables), rewrite
    the file without free pages (``VACUUM``) and truncate the WAL. PostgreSQL: ``VACUUM`` the
    tables that hold personal data, so dead tuples are reclaimed (their space is then reused).

    Must run outside a transaction (``VACUUM`` cannot run inside one).

    Args:
        url: koe's database URL.

    """
    engine = load_engine(url)
    backend = make_url(url).get_backend_name()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if backend == "sqlite":
            has_fts = connection.execute(
                text("SELECT count(*) FROM sqlite_master WHERE name = 'utterances_fts'")
            ).scalar_one()
            if has_fts:
                connection.execute(text("INSERT INTO utterances_fts(utterances_fts) VALUES ('optimize')"))
            connection.execute(text("VACUUM"))
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        elif backend == "postgresql":
            for table in (
                "utterances",
                "tags",
                "call_categories",
                "call_topics",
                "call_metrics",
                "calls",
                "customer_summaries",
                "webhook_deliveries",
                "customers",
                "topics",
                "topic_models",
                "pipeline_runs",
            ):
                connection.execute(text(f"VACUUM {table}"))

