"""Keyset-pagination cursors: one opaque codec for every paged list (calls, customers).

A cursor is the sort key of the last row of a page, as URL-safe base64 of a JSON list. Decoding
checks every value's kind and range, so a crafted cursor is a 400 with a clear message, never a
database overflow (an id beyond 64 bits) or a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from datetime import datetime
from typing import Any, Literal

from koe.errors import InputError

#: The kind of each value in a cursor: a row id, a score, a text key, or a time (``None`` allowed).
Kind = Literal["id", "score", "text", "time"]
MAX_CURSOR_CHARS = 512
_MAX_ID = 2**63 - 1


def encode_cursor(*values: Any) -> str:
    """Opaque cursor for the row after which the next page starts (datetimes as ISO 8601)."""
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    raw = json.dumps(plain, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _value(raw: Any, kind: Kind) -> Any:
    if kind == "id":
        if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= _MAX_ID:
            raise ValueError("id out of range")
        return raw
    if kind == "score":
        score = float(raw)
        if not math.isfinite(score):
            raise ValueError("score not finite")
        return score
    if kind == "text":
        if not isinstance(raw, str):
            raise TypeError("text expected")
        return raw
    if raw is None:
        return None
    return datetime.fromisoformat(raw)


def decode_cursor(cursor: str, *kinds: Kind) -> tuple[Any, ...]:
    """The sort key a cursor from :func:`encode_cursor` points at, checked against ``kinds``.

    Raises:
        InputError: when the cursor was not produced by :func:`encode_cursor` for this list.

    """
    try:
        if len(cursor) > MAX_CURSOR_CHARS:
            raise ValueError("too long")
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(data, list) or len(data) != len(kinds):
            raise ValueError("wrong shape")
        return tuple(_value(raw, kind) for raw, kind in zip(data, kinds, strict=True))
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError) as exc:
        raise InputError(
            f"cursor {cursor[:40]!r}: not a cursor from a previous page; pass next_cursor from the previous "
            "page, or omit it to start from the first page"
        ) from exc
