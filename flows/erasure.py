"""Forgetting a customer everywhere koe put them: its database, its copies, its caches, Prefect.

``models.privacy.forget_customer`` erases koe's rows and files in one transaction (and bumps the
change marker that makes every server process drop its report cache). Prefect keeps what koe
published there in its own database: the topic report and the risk table artifacts of every run.
:func:`forget_everywhere` deletes every koe artifact through Prefect's API and publishes the
current ones again, now without the customer. koe's artifacts carry no key, so Prefect holds no
``artifact-collection`` event copying their data (``flows.run_records.publish_artifacts``).
"""

from __future__ import annotations

import logging
from typing import Any

from prefect import flow

from koe.settings import Settings, get_settings
from models.db import transaction
from models.privacy import compact_storage, forget_customer

log = logging.getLogger(__name__)
_PAGE = 200


def forget_everywhere(settings: Settings, customer_id: str, *, compact: bool = True) -> dict[str, Any]:
    """Forget ``customer_id`` in koe's database and files, then in Prefect.

    Args:
        settings: koe's settings (database, data folder).
        customer_id: The customer to forget.
        compact: Compact the database afterwards (``compact_storage``); the API does it in the background.

    Returns:
        ``forget_customer``'s counts, plus ``prefect_artifacts`` (how many were deleted) and
        ``prefect_error`` (why Prefect could not be reached, else ``None``: run ``koe customers
        forget`` again once it can be; koe's own erasure has already committed).

    Raises:
        NotFoundError: when koe holds nothing about the customer.

    """
    url = settings.resolved_database_url
    with transaction(url) as session:
        removed = forget_customer(session, customer_id, data_dir=settings.data_dir)
    if compact:
        compact_storage(url)
    removed["prefect_artifacts"], removed["prefect_error"] = 0, None
    try:
        removed["prefect_artifacts"] = republish_artifacts(settings)
    except Exception as exc:  # Prefect down must not undo or hide koe's own erasure
        removed["prefect_error"] = (
            f"Prefect artifacts not re-published ({type(exc).__name__}: {str(exc)[:200]}); "
            "check PREFECT_API_URL and run `koe customers forget` again"
        )
        log.warning("erasure: %s", removed["prefect_error"])
    return removed


def republish_artifacts(settings: Settings) -> int:
    """Delete every koe artifact from Prefect, then publish the current ones; returns how many were deleted."""
    from uuid import UUID

    from prefect.client.orchestration import get_client

    from flows.run_records import KOE_ARTIFACTS

    deleted = 0
    with get_client(sync_client=True) as client:
        offset = 0
        while True:
            # The REST call itself: Prefect 3.8's sync read_artifacts sends omitted filters as null
            # (a 422), and an empty task-run filter would leave out artifacts of flow runs.
            response = client.request(
                "POST", "/artifacts/filter", json={"limit": _PAGE, "offset": offset, "sort": "ID_DESC"}
            )
            page = response.json()
            if not page:
                break
            ours = [a for a in page if a.get("description") in KOE_ARTIFACTS]
            for artifact in ours:
                client.delete_artifact(UUID(artifact["id"]))
            deleted += len(ours)
            offset += len(page) - len(ours)
    publish_current_artifacts()
    return deleted


@flow(name="publish-artifacts")
def publish_current_artifacts() -> None:
    """Publish koe's artifacts from the database as it is now (a flow, so they belong to a run)."""
    from flows.run_records import publish_artifacts

    publish_artifacts(get_settings())
