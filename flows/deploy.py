"""Register the deployments of ``prefect.yaml`` with a Prefect server, from code.

``prefect deploy --all`` is the usual way, but Prefect 3.8.8's CLI (and ``Flow.deploy``) then asks
the server for the pool's online workers with ``offset``/``limit`` set to null, which the 3.8.8
server refuses (HTTP 422) after the first deployment. This module reads the same ``prefect.yaml``
and registers each deployment with ``flow.to_deployment(...).apply()``, which skips that query,
with a module entrypoint (see :func:`load_entrypoint`) and the working-directory pull step.
Usage, from the koe checkout::

    KOE_INBOX=/srv/koe/inbox python -m flows.deploy [--prefect-file prefect.yaml]
"""

from __future__ import annotations

import argparse
import importlib
import os
from pathlib import Path
from typing import Any, cast
from uuid import UUID

import yaml
from prefect import Flow
from prefect.deployments.runner import EntrypointType, RunnerDeployment
from prefect.runner.storage import LocalStorage
from prefect.schedules import Cron
from prefect.utilities.templating import apply_values

from koe.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent


def read_deployments(prefect_file: Path) -> list[dict[str, Any]]:
    """The deployments of ``prefect_file`` with ``{{ $ENV }}`` placeholders filled from the environment.

    Raises:
        ConfigError: when a placeholder names an unset variable.

    """
    config = yaml.safe_load(prefect_file.read_text(encoding="utf-8"))
    environment = {"KOE_ROOT": str(REPO), **os.environ}
    deployments = cast(list[dict[str, Any]], apply_values(config.get("deployments") or [], environment, remove_notset=False))
    for deployment in deployments:
        text = yaml.safe_dump(deployment)
        if "{{" in text:
            placeholder = text[text.index("{{") :].split("}}")[0] + "}}"
            raise ConfigError(
                f"{prefect_file}: deployment {deployment.get('name')!r} uses an unset variable"
                f" ({placeholder}); export it before deploying"
            )
    return deployments


def _schedules(items: list[dict[str, Any]] | None) -> list[Any]:
    schedules = []
    for item in items or []:
        if "cron" not in item:
            raise ConfigError(f"schedule {item!r}: only cron schedules are supported here")
        schedules.append(Cron(item["cron"], timezone=item.get("timezone"), active=item.get("active", True)))
    return schedules


def load_entrypoint(entrypoint: str) -> Flow[Any, Any]:
    """The flow of a ``flows/process.py:process_calls`` entrypoint, imported as a module.

    Deployments use module entrypoints (``flows.process.process_calls``): loading a flow by file
    path puts the file's folder first on ``sys.path``, where a module of ``flows/`` could shadow a
    top-level package of the same name (``flows/customers.py`` is named so that none does).
    """
    path, _, name = entrypoint.partition(":")
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    flow = getattr(module, name)
    if not isinstance(flow, Flow):
        raise ConfigError(f"{entrypoint}: not a Prefect flow; check prefect.yaml's entrypoint")
    return flow


def deploy_all(prefect_file: Path = REPO / "prefect.yaml", *, root: Path | None = None) -> dict[str, UUID]:
    """Create or update every deployment of ``prefect_file``; returns ``flow/deployment`` -> id.

    Args:
        prefect_file: The deployments file (``prefect.yaml`` of the koe checkout).
        root: Folder flow runs start in (the pull step); default: this koe checkout.

    """
    source = str((root or REPO).resolve())
    ids: dict[str, UUID] = {}
    for spec in read_deployments(prefect_file):
        flow = load_entrypoint(spec["entrypoint"])
        pool = spec.get("work_pool") or {}
        deployment: RunnerDeployment = flow.to_deployment(  # type: ignore[assignment]
            name=spec["name"],
            description=spec.get("description"),
            tags=spec.get("tags"),
            parameters=spec.get("parameters") or {},
            schedules=_schedules(spec.get("schedules")),
            concurrency_limit=spec.get("concurrency_limit"),
            work_pool_name=pool.get("name"),
            work_queue_name=pool.get("work_queue_name"),
            job_variables=pool.get("job_variables") or {},
            entrypoint_type=EntrypointType.MODULE_PATH,
        )
        # The pull step: flow runs start in the koe checkout (prefect.yaml's set_working_directory).
        deployment.storage = LocalStorage(source)
        ids[f"{flow.name}/{spec['name']}"] = cast(UUID, deployment.apply())
    return ids


def main() -> None:
    """Command line: ``python -m flows.deploy [--prefect-file FILE]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--prefect-file", type=Path, default=REPO / "prefect.yaml")
    args = parser.parse_args()
    for name, deployment_id in deploy_all(args.prefect_file).items():
        print(f"{name}: {deployment_id}")


if __name__ == "__main__":
    main()
