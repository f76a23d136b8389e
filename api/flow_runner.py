"""Starting Prefect flows from the API: one background thread, one flow at a time.

``POST /pipeline/runs`` records the request as a koe pipeline run (so it can answer 202 with a run
id at once), then runs the real Prefect flow (``process_calls`` or ``reprocess``) in a worker
thread. The flow is given the run's id and reports into that record (its counts, failures and
Prefect flow-run id); if the flow fails before it can, the runner records the error that stopped it.

The flows read koe's settings from the environment, so the service must run with the same
``KOE_DATABASE_URL`` as the app (checked before a run starts).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from koe.errors import ConfigError, InputError
from koe.settings import get_settings
from models.db import transaction, with_retries
from models.runs import fail_run_if_running, start_run

FlowName = Literal["process_calls", "reprocess"]
logger = logging.getLogger("koe.api.flow_runner")


def _process_calls_parameters(parameters: dict[str, Any]) -> dict[str, Any]:
    source = parameters.get("source")
    if not isinstance(source, str) or not source:
        raise InputError("parameters.source: give the folder of recordings or the transcript .jsonl to ingest")
    if "://" not in source and not Path(source).exists():
        raise InputError(f"parameters.source: {source} does not exist on the server; give an existing path")
    manifest = parameters.get("manifest")
    if manifest is not None and not isinstance(manifest, str):
        raise InputError("parameters.manifest: must be a path or null")
    force = parameters.get("force", False)
    if not isinstance(force, bool):
        raise InputError("parameters.force: must be true or false")
    unknown = set(parameters) - {"source", "manifest", "force"}
    if unknown:
        raise InputError(f"parameters.{sorted(unknown)[0]}: unknown parameter of process_calls")
    return {"source": source, "manifest": manifest, "force": force}


def _reprocess_parameters(parameters: dict[str, Any]) -> dict[str, Any]:
    stage = parameters.get("stage", "analysis")
    if stage not in ("analysis", "transcribe"):
        raise InputError("parameters.stage: must be 'analysis' or 'transcribe'")
    since = parameters.get("since")
    if since is not None:
        try:
            since = datetime.fromisoformat(str(since))
        except ValueError as exc:
            raise InputError("parameters.since: must be an ISO 8601 time with a time zone") from exc
        if since.tzinfo is None:
            raise InputError("parameters.since: add a time zone, e.g. 2026-11-01T00:00:00+09:00")
    unknown = set(parameters) - {"stage", "since"}
    if unknown:
        raise InputError(f"parameters.{sorted(unknown)[0]}: unknown parameter of reprocess")
    return {"stage": stage, "since": since}


def _load_flow(name: FlowName) -> Callable[..., dict[str, Any]]:
    if name == "process_calls":
        from flows.process import process_calls

        return process_calls
    from flows.reprocess import reprocess

    return reprocess


class PipelineRunner:
    """Runs flows requested through the API in a single background thread.

    Args:
        database_url: The app's database (where the request's run is recorded).
        on_finish: Called after every run (the app clears its report cache).

    """

    def __init__(self, database_url: str, on_finish: Callable[[], None] | None = None) -> None:
        self._url = database_url
        self._on_finish = on_finish
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="koe-flow")
        self.futures: dict[int, Future[None]] = {}

    def start(self, flow: FlowName, parameters: dict[str, Any], *, requested_by: str) -> int:
        """Validate ``parameters``, record the run and start the flow; returns koe's run id.

        Raises:
            InputError: for unknown or invalid parameters.
            ConfigError: when the flows would write to another database than the app reads.

        """
        checked = _process_calls_parameters(parameters) if flow == "process_calls" else _reprocess_parameters(parameters)
        flow_url = get_settings().resolved_database_url
        if flow_url != self._url:
            raise ConfigError(
                "KOE_DATABASE_URL of the service process differs from the app's database; "
                "start `koe serve` with the same settings the flows read"
            )
        recorded = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in checked.items()}
        recorded.update(requested_by=requested_by, via="api")

        def record() -> int:
            with transaction(self._url) as session:
                return start_run(session, flow, recorded)

        run_id = with_retries(record)
        self.futures[run_id] = self._executor.submit(self._run, run_id, flow, checked)
        return run_id

    def _run(self, run_id: int, flow: FlowName, parameters: dict[str, Any]) -> None:
        try:
            # The flow reports into the run recorded for the request (one record per run).
            _load_flow(flow)(**parameters, run_id=run_id)
        except Exception as exc:  # the run's record must say why it stopped, whatever it was
            logger.exception("pipeline run %s (%s) failed", run_id, flow)
            error = f"{type(exc).__name__}: {exc}"

            def record() -> None:
                with transaction(self._url) as session:
                    fail_run_if_running(session, run_id, error)  # else the flow recorded its end

            with_retries(record)
        finally:
            if self._on_finish is not None:
                self._on_finish()

    def shutdown(self) -> None:
        """Stop accepting runs and wait for the one in progress."""
        self._executor.shutdown(wait=True, cancel_futures=True)
