"""Where per-call tasks run: the flow's thread pool, or a Dask cluster (``KOE_TASK_RUNNER=dask``).

The switch is a setting rather than a decorator argument so that the same flow serves ``koe ingest``,
a deployment on one machine and a deployment whose worker hands calls to a Dask cluster (set
``KOE_TASK_RUNNER`` and ``KOE_DASK_ADDRESS`` in the work pool's environment). Dask workers read koe's
settings from their own environment and load the Whisper model and the tagger once per worker
process (the stages' ``load_*`` functions); only call ids and sources travel to them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from prefect import Task
from prefect.futures import PrefectFuture

from koe.settings import Settings

Submit = Callable[[Task[Any, Any], dict[str, Any]], PrefectFuture[Any]]


def load_dask_task_runner(settings: Settings) -> Any:
    """A ``DaskTaskRunner`` for ``settings``: the cluster at ``dask_address``, or a local one.

    The local cluster has ``dask_workers`` single-threaded worker processes: transcription is
    CPU-bound and CTranslate2 uses its own threads, so one task per process keeps cores busy
    without oversubscribing them.
    """
    from prefect_dask import DaskTaskRunner

    if settings.dask_address:
        return DaskTaskRunner(address=settings.dask_address)
    return DaskTaskRunner(
        cluster_kwargs={
            "n_workers": settings.dask_workers,
            "threads_per_worker": 1,
            "processes": True,
            "dashboard_address": None,
        }
    )


@contextmanager
def per_call_runner(settings: Settings) -> Iterator[Submit]:
    """Yield ``submit(task, parameters) -> future`` on the configured runner.

    With Dask, the cluster (when it is a temporary local one) lives as long as the block: collect
    every future's result inside it.
    """
    if settings.task_runner != "dask":

        def submit_here(task: Task[Any, Any], parameters: dict[str, Any]) -> PrefectFuture[Any]:
            return task.submit(**parameters)

        yield submit_here
        return
    with load_dask_task_runner(settings) as runner:

        def submit_dask(task: Task[Any, Any], parameters: dict[str, Any]) -> PrefectFuture[Any]:
            return runner.submit(task, parameters)

        yield submit_dask
