"""koe's record of each flow run (started, finished with its counts or its error), and Prefect artifacts.

A flow records its run with :func:`recorded_run` around its work, or with :func:`start_flow_run`
and :func:`finish_flow_run` where it records a run differently.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.context import FlowRunContext

from koe.settings import Settings, get_settings
from models.db import transaction, with_retries
from models.runs import adopt_run, finish_run, start_run


def start_flow_run(flow: str, parameters: dict[str, Any], run_id: int | None = None) -> int:
    """Record the start of ``flow`` (with the Prefect flow-run id when there is one).

    With ``run_id`` (a run the API recorded when it was asked for), that record is taken over
    instead of starting a second one.
    """
    context = FlowRunContext.get()
    flow_run_id = str(context.flow_run.id) if context and context.flow_run else None
    url = get_settings().resolved_database_url

    def write() -> int:
        with transaction(url) as session:
            if run_id is not None:
                return adopt_run(session, run_id, prefect_flow_run_id=flow_run_id)
            return start_run(session, flow, parameters, prefect_flow_run_id=flow_run_id)

    return with_retries(write)


def finish_flow_run(run_id: int, summary: dict[str, Any], *, error: str | None = None) -> None:
    """Record a run's counts and failures at its end."""
    url = get_settings().resolved_database_url
    counts = {k: v for k, v in summary.items() if k != "failures"}

    def write() -> None:
        with transaction(url) as session:
            finish_run(session, run_id, counts=counts, failures=list(summary.get("failures", [])), error=error)

    with_retries(write)


@dataclass(slots=True)
class RecordedRun:
    """A flow run being recorded: its id in koe's database, and the summary to record at its end."""

    run_id: int
    summary: dict[str, Any] = field(default_factory=dict)


@contextmanager
def recorded_run(flow: str, parameters: dict[str, Any], run_id: int | None = None) -> Iterator[RecordedRun]:
    """Record ``flow``'s run around the block: started on entry, finished with ``run.summary`` at its end.

    An exception from the block (even ``KeyboardInterrupt``) is recorded as the run's error and
    raised on, so no run is left ``running`` by a flow that stopped.

    Args:
        flow: The flow's name as runs are listed (``process_calls``).
        parameters: The flow's parameters, as recorded with the run.
        run_id: A run the API recorded when it was asked for, taken over instead of a new one.

    Yields:
        The run: its ``run_id``, and the ``summary`` the block sets for its end.

    """
    run = RecordedRun(start_flow_run(flow, parameters, run_id))
    try:
        yield run
    except BaseException as exc:
        finish_flow_run(run.run_id, {}, error=f"{type(exc).__name__}: {exc}")
        raise
    finish_flow_run(run.run_id, run.summary)


#: Descriptions of koe's artifacts: how erasure (``flows.erasure``) finds them again.
TOPIC_REPORT_ARTIFACT = "koe topic report"
CHURN_RISK_ARTIFACT = "Highest-risk customers and why"
KOE_ARTIFACTS = (TOPIC_REPORT_ARTIFACT, CHURN_RISK_ARTIFACT)


def publish_artifacts(settings: Settings) -> None:
    """Publish the topic report (markdown) and the highest-risk customers (table) as artifacts.

    Only redacted text and aggregates go into artifacts: they are visible to everyone with access
    to the Prefect server. They carry no artifact *key* on purpose: Prefect copies a keyed
    artifact's whole data into an ``artifact-collection`` event, and events cannot be deleted
    through Prefect's API, so a customer named there would outlive their erasure. Unkeyed
    artifacts (shown on their flow run's page) are deleted and re-published when a customer is
    forgotten (``flows.erasure``).
    """
    if FlowRunContext.get() is None:
        return
    from models.customers import risk_table
    from models.topic_report import topic_report_markdown

    url = settings.resolved_database_url
    with transaction(url) as session:
        markdown = topic_report_markdown(session)
        table = risk_table(session, limit=20)
    create_markdown_artifact(markdown=markdown, description=TOPIC_REPORT_ARTIFACT)
    if table:
        create_table_artifact(table=table, description=CHURN_RISK_ARTIFACT)
