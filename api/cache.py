"""A small in-process cache for aggregate reports.

Topic and agent reports aggregate the whole call history (hundreds of milliseconds on 100,000
calls); people look at them far more often than they change. Each entry lives :data:`TTL_S`
seconds; when it expires one request recomputes it while the others keep getting the previous
value (stale-while-revalidate), so 32 concurrent readers never all hit the database at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool

TTL_S = 30.0
MAX_ENTRIES = 256
#: What :meth:`ReportCache.peek` returns when it has nothing to serve.
MISSING: Any = object()


@dataclass(slots=True)
class _Entry:
    value: Any
    fresh_until: float
    refreshing: bool = False


class ReportCache:
    """Thread-safe TTL cache with single-flight refresh.

    Args:
        ttl_s: Seconds an entry is served without recomputing; 0 disables caching.

    """

    def __init__(self, ttl_s: float = TTL_S) -> None:
        self.ttl_s = ttl_s
        self._entries: dict[Hashable, _Entry] = {}
        self._lock = threading.Lock()
        self._first_compute: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The cached value for ``key``, computing it with ``compute`` when missing or stale."""
        if self.ttl_s <= 0:
            return compute()
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and (entry.fresh_until > now or entry.refreshing):
                return entry.value
            if entry is not None:
                entry.refreshing = True
            gate = self._first_compute.setdefault(key, threading.Lock())
        if entry is None:
            # Nothing to serve yet: the first caller computes, the others wait for its result.
            with gate:
                with self._lock:
                    entry = self._entries.get(key)
                if entry is not None:
                    return entry.value
                return self._store(key, compute())
        try:
            return self._store(key, compute())
        except BaseException:
            with self._lock:
                entry.refreshing = False
            raise

    def peek(self, key: Hashable) -> Any:
        """The value :meth:`get` would return without computing, or :data:`MISSING`."""
        if self.ttl_s <= 0:
            return MISSING
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and (entry.fresh_until > time.monotonic() or entry.refreshing):
                return entry.value
        return MISSING

    async def aget(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """:meth:`get` for async routes: a cached value costs no thread; computing runs in a worker thread."""
        value = self.peek(key)
        if value is not MISSING:
            return value
        return await run_in_threadpool(self.get, key, compute)

    def _store(self, key: Hashable, value: Any) -> Any:
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
                self._first_compute.clear()
            self._entries[key] = _Entry(value, time.monotonic() + self.ttl_s)
        return value

    def clear(self) -> None:
        """Forget every entry (after a pipeline run finishes)."""
        with self._lock:
            self._entries.clear()
