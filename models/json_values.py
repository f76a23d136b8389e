"""JSON-ready values for what ``models`` reads back: ISO 8601 times and rounded numbers.

Every read that returns a dict (call detail, call list, reports, runs, search, customer pages)
formats its times and numbers here, so one call shows the same digits on every page.
"""

from __future__ import annotations

from datetime import datetime


def iso(value: datetime | None) -> str | None:
    """ISO 8601 text of a datetime (``None`` stays ``None``)."""
    return value.isoformat() if value is not None else None


def round_or_none(value: float | None, digits: int = 3) -> float | None:
    """``value`` rounded to ``digits`` decimals as a float; ``None`` (a SQL NULL) stays ``None``.

    SQL averages arrive as ``Decimal`` on PostgreSQL and as ``float`` on SQLite: converting first
    gives JSON the same float on both.

    Args:
        value: A number (any unit) or ``None``.
        digits: Decimals to keep.

    Returns:
        The rounded float, or ``None``.

    """
    return None if value is None else round(float(value), digits)
