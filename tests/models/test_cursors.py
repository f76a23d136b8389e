from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from koe.errors import InputError
from models.cursors import decode_cursor, encode_cursor


def test_round_trip_keeps_kinds() -> None:
    when = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    assert decode_cursor(encode_cursor(when, 42), "time", "id") == (when, 42)
    assert decode_cursor(encode_cursor(0.75, "C-1"), "score", "text") == (0.75, "C-1")
    assert decode_cursor(encode_cursor(None, "C-1"), "time", "text") == (None, "C-1")


def _crafted(values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


@pytest.mark.parametrize(
    ("cursor", "kinds"),
    [
        ("nope", ("time", "id")),
        (_crafted([None, 10**30]), ("time", "id")),  # beyond 64 bits: the database would overflow
        (_crafted([None, -1]), ("time", "id")),
        (_crafted([None, True]), ("time", "id")),
        (_crafted(["not a time", 1]), ("time", "id")),
        (_crafted(["NaN", "C-1"]), ("score", "text")),
        (_crafted([1e400, "C-1"]), ("score", "text")),
        (_crafted([0.5, 7]), ("score", "text")),
        (_crafted({"t": None, "id": 1}), ("time", "id")),
        (_crafted([None]), ("time", "id")),
        ("A" * 600, ("time", "id")),
    ],
)
def test_crafted_cursors_are_input_errors(cursor: str, kinds: tuple) -> None:
    with pytest.raises(InputError, match="not a cursor from a previous page"):
        decode_cursor(cursor, *kinds)
