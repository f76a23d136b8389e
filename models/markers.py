"""Change markers: how one process (a server worker, the CLI) tells every other to drop a cache.

Server processes cache verified API keys and aggregate reports in memory. Revoking a key or
forgetting a customer bumps a counter in ``change_markers`` in the same transaction; every process
reads the counters on each authenticated request (one primary-key scan of a two-row table) and
drops the cache whose counter moved. So the change is seen everywhere at once, the way page
sessions are (they live in the database too).
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.tables import ChangeMarker, utcnow

KEYS = "keys"
REPORTS = "reports"


def bump_marker(session: Session, name: str) -> None:
    """Move the counter ``name`` on (adds/flushes only; the caller commits with its change)."""
    result = session.execute(
        update(ChangeMarker)
        .where(ChangeMarker.name == name)
        .values(generation=ChangeMarker.generation + 1, changed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if not getattr(result, "rowcount", 0):
        session.add(ChangeMarker(name=name, generation=1, changed_at=utcnow()))
    session.flush()


def read_markers(session: Session) -> dict[str, int]:
    """Every counter by name (missing counters read as 0)."""
    return {name: int(generation) for name, generation in session.execute(select(ChangeMarker.name, ChangeMarker.generation))}
