from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from koe.records import (
    CallAnalysis,
    CallSource,
    EffortScore,
    SentimentSummary,
    TagHit,
    Transcript,
    Utterance,
    UtteranceAnalysis,
)
from models.call_detail import call_detail, stored_transcript
from models.calls import claim_call, record_failure, record_input_problem, store_results
from models.db import transaction
from models.tables import Call, TagRow, UtteranceRow

TRANSCRIPT = Transcript(
    utterances=(
        Utterance("agent", 0.0, 2.0, "お電話ありがとうございます。"),
        Utterance("customer", 2.5, 6.0, "先週も電話したんですが、090-1234-5678の件です。"),
    ),
    duration_s=6.0,
    speakers_separated=True,
)
ANALYSIS = CallAnalysis(
    utterances=(
        UtteranceAnalysis(0, "お電話ありがとうございます。", 0.4, "positive", ("電話",)),
        UtteranceAnalysis(1, "先週も電話したんですが、［電話番号］の件です。", -0.2, "negative", ("先週", "電話")),
    ),
    tags=(TagHit("repeat_contact", 1, 2.5, "先週も電話した", "repeat_contact.last_week"),),
    categories=(),
    sentiment=SentimentSummary(-0.2, 0.4, -0.2, -0.2, "negative"),
    effort=EffortScore(25.0, 25.0, 0.0, (("repeat_contact", 25.0),)),
    document_tokens=("先週", "電話"),
    pii_count=1,
    rules_version="abc",
)


def _source(call_id: str = "c1", sha: str = "a" * 64) -> CallSource:
    return CallSource(call_id=call_id, sha256=sha, origin="t.jsonl:1", customer_id="CUST", agent_id="AG", transcript=TRANSCRIPT)


def _process(url: str, source: CallSource, worker: str = "w1", **kwargs: object) -> str:
    with transaction(url) as session:
        claim = claim_call(session, source, worker=worker, **kwargs)  # type: ignore[arg-type]
    if claim.outcome == "claimed":
        with transaction(url) as session:
            assert claim.call_pk is not None
            store_results(session, claim.call_pk, transcript=TRANSCRIPT, metrics=None, analysis=ANALYSIS)
    return claim.outcome


def test_new_unchanged_changed_and_forced(db_url: str) -> None:
    assert _process(db_url, _source()) == "claimed"
    assert _process(db_url, _source()) == "unchanged"
    assert _process(db_url, _source(sha="b" * 64)) == "claimed"
    assert _process(db_url, _source(sha="b" * 64), force=True) == "claimed"
    with transaction(db_url) as session:
        assert session.scalar(select(func.count()).select_from(Call)) == 1
        assert session.scalar(select(func.count()).select_from(UtteranceRow)) == 2  # replaced, not appended
        assert session.scalar(select(func.count()).select_from(TagRow)) == 1


def test_raw_text_is_not_stored_by_default(db_url: str) -> None:
    _process(db_url, _source())
    with transaction(db_url) as session:
        detail = call_detail(session, "c1")
        texts = [u["text"] for u in detail["utterances"]]
        assert "090-1234-5678" not in "".join(texts)
        assert session.scalars(select(UtteranceRow.text)).all() == [None, None]
        rebuilt = stored_transcript(session, session.scalars(select(Call)).one())
    assert rebuilt.utterances[1].text == "先週も電話したんですが、［電話番号］の件です。"
    assert detail["tags"][0]["tag"] == "repeat_contact" and detail["status"] == "done"


def test_live_claim_blocks_another_worker_and_stale_claim_is_taken_over(db_url: str) -> None:
    with transaction(db_url) as session:
        assert claim_call(session, _source(), worker="host-x:1:a").outcome == "claimed"
    with transaction(db_url) as session:
        assert claim_call(session, _source(), worker="host-y:2:b").outcome == "busy"
    with transaction(db_url) as session:
        assert claim_call(session, _source(), worker="host-y:2:b", lease=timedelta(0)).outcome == "claimed"


def test_claim_of_a_dead_process_on_this_host_is_taken_over(db_url: str) -> None:
    import socket

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with transaction(db_url) as session:
        claim_call(session, _source(), worker=f"{socket.gethostname()}:{dead.pid}:x")
    with transaction(db_url) as session:
        assert claim_call(session, _source(), worker="me").outcome == "claimed"


def test_permanent_failure_is_not_retried_until_the_input_changes(db_url: str) -> None:
    with transaction(db_url) as session:
        record_failure(session, _source(), call_id="c1", error="x.wav: cannot decode audio; re-export")
    assert _process(db_url, _source()) == "failed_before"
    assert _process(db_url, _source(), retry_failed=True) == "claimed"
    with transaction(db_url) as session:
        record_failure(session, _source(sha="c" * 64), call_id="c1", error="db busy", transient=True)
    assert _process(db_url, _source(sha="c" * 64)) == "claimed"


def test_failure_removes_earlier_results_so_a_call_is_complete_or_absent(db_url: str) -> None:
    _process(db_url, _source())
    with transaction(db_url) as session:
        record_failure(session, _source(sha="d" * 64), call_id="c1", error="broken")
    with transaction(db_url) as session:
        assert session.scalar(select(func.count()).select_from(UtteranceRow)) == 0
        assert session.scalar(select(Call.status)) == "failed"


def test_input_problem_never_overwrites_a_done_call(db_url: str) -> None:
    _process(db_url, _source())
    with transaction(db_url) as session:
        assert not record_input_problem(session, call_id="c1", error="duplicate call_id")
        assert record_input_problem(session, call_id="c2", error="manifest.csv:3: bad date")
    with transaction(db_url) as session:
        statuses = dict(session.execute(select(Call.call_id, Call.status)).tuples().all())
    assert statuses == {"c1": "done", "c2": "failed"}


def test_store_is_atomic_with_the_callers_transaction(db_url: str) -> None:
    with transaction(db_url) as session:
        claim = claim_call(session, _source(), worker="w")
    with pytest.raises(RuntimeError), transaction(db_url) as session:
        assert claim.call_pk is not None
        store_results(session, claim.call_pk, transcript=TRANSCRIPT, metrics=None, analysis=ANALYSIS)
        raise RuntimeError("crash after writing, before commit")
    with transaction(db_url) as session:
        assert session.scalar(select(func.count()).select_from(UtteranceRow)) == 0
        assert session.scalar(select(Call.status)) == "pending"


def test_two_workers_creating_the_same_new_customer_do_not_conflict(db_url: str) -> None:
    from models.calls import ensure_people
    from models.db import load_sessionmaker
    from models.tables import Customer

    factory = load_sessionmaker(db_url)
    first, second = factory(), factory()
    try:
        ensure_people(first, "NEW", "AG-NEW")
        if db_url.startswith("postgresql"):
            # the second insert must not fail even while the first is uncommitted; it waits, then skips
            import threading

            done: list[Exception | None] = []

            def other() -> None:
                try:
                    ensure_people(second, "NEW", "AG-NEW")
                    second.commit()
                    done.append(None)
                except Exception as exc:
                    done.append(exc)

            thread = threading.Thread(target=other)
            thread.start()
            first.commit()
            thread.join(30)
            assert done == [None]
        else:
            first.commit()
            ensure_people(second, "NEW", "AG-NEW")
            second.commit()
    finally:
        first.close()
        second.close()
    with transaction(db_url) as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 1
