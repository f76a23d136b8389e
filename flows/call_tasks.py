"""What the per-call tasks of ``process_calls`` and ``reprocess`` share: outcomes, retries, storing.

Both flows run one Prefect task per call with the same retry policy (transient ``KoeError`` only),
do each database step in its own retried transaction, store a call's results together with its topics under the current topic model, report each call as
a :class:`CallOutcome`, and end with the same run summary and the same refresh of the customers
they touched.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from prefect.cache_policies import NO_CACHE
from prefect.states import State
from sqlalchemy.orm import Session

from flows.pipeline_steps import CallResult
from flows.topics import assign_current_topics
from koe.errors import KoeError
from koe.settings import Settings
from models.calls import store_results
from models.db import transaction, with_retries

Outcome = Literal["processed", "skipped", "failed"]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """What happened to one call in a run."""

    call_id: str
    outcome: Outcome
    reason: str = ""
    customer_id: str | None = None
    audio_s: float = 0.0
    origin: str = ""


def is_transient_failure(task: Any, task_run: Any, state: State[Any]) -> bool:
    """Prefect retry condition: retry a task only when it failed with a transient ``KoeError``."""
    try:
        state.result()
    except KoeError as exc:
        return exc.transient
    except Exception:
        return False
    return False


#: ``@task(name=..., **PER_CALL_TASK)``: a per-call task retries transient failures (database busy)
#: three times, backing off 1, 4 and 10 s; it is never cached (a rerun must redo the call).
PER_CALL_TASK: dict[str, Any] = {
    "retries": 3,
    "retry_delay_seconds": [1, 4, 10],
    "retry_condition_fn": is_transient_failure,
    "cache_policy": NO_CACHE,
}


def run_in_transaction(url: str, work: Callable[[Session], T]) -> T:
    """Run ``work(session)`` in one transaction, from the start again while the database is busy."""

    def attempt() -> T:
        with transaction(url) as session:
            return work(session)

    return with_retries(attempt)


def store_call(
    session: Session,
    call_pk: int,
    result: CallResult,
    *,
    keep_raw_text: bool,
    run_id: int,
    recording_path: str | None = None,
) -> None:
    """Add a claimed call's results, with its topics under the current topic model, to ``session``."""
    topics, model_id = assign_current_topics(session, result.analysis)
    store_results(
        session,
        call_pk,
        transcript=result.transcript,
        metrics=result.metrics,
        analysis=result.analysis,
        topics=topics,
        topic_model_id=model_id,
        keep_raw_text=keep_raw_text,
        run_id=run_id,
        recording_path=recording_path,
    )


def summarise(outcomes: list[CallOutcome], problems: list[CallOutcome]) -> dict[str, Any]:
    """The end-of-run summary: counts, audio minutes, every failure and every deferred file with its reason."""
    everything = outcomes + problems
    failures = [{"call_id": o.call_id, "origin": o.origin, "error": o.reason} for o in everything if o.outcome == "failed"]
    deferred = [{"origin": o.origin, "reason": o.reason} for o in problems if o.outcome == "skipped"]
    reasons = Counter(o.reason for o in outcomes if o.outcome == "skipped")
    return {
        "processed": sum(o.outcome == "processed" for o in everything),
        "skipped": sum(o.outcome == "skipped" for o in everything),
        "skipped_reasons": dict(sorted(reasons.items())),
        "failed": len(failures),
        "audio_minutes": round(sum(o.audio_s for o in everything) / 60.0, 2),
        "failures": failures,
        "deferred": deferred,
    }


def refresh_touched_customers(settings: Settings, outcomes: Iterable[CallOutcome]) -> int:
    """Refresh the summaries and churn scores of the customers of processed calls; returns how many."""
    customer_ids = {o.customer_id for o in outcomes if o.outcome == "processed" and o.customer_id}
    if not customer_ids:
        return 0
    from flows.customers import refresh_customers

    return refresh_customers(settings, sorted(customer_ids))
