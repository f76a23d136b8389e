"""Progress hooks: lets the CLI draw a progress bar while a flow runs in the same process.

Flows call :func:`start` and :func:`notify`; with no listener registered (a deployment run) they do
nothing. Listeners are process-local and never travel through task parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_listeners: list[Callable[[str, Any], None]] = []


def listen(callback: Callable[[str, Any], None]) -> Callable[[], None]:
    """Register ``callback(event, payload)``; returns a function that unregisters it."""
    _listeners.append(callback)
    return lambda: _listeners.remove(callback)


def start(total: int) -> None:
    """Announce that a run will go through ``total`` calls."""
    for callback in list(_listeners):
        callback("start", total)


def notify(outcome: Any) -> None:
    """Announce that one call is finished (processed, skipped or failed)."""
    for callback in list(_listeners):
        callback("call", outcome)
