"""API latency under load: /customers/{id}, /customers?order=churn_risk and /reports/topics.

Loads a database with 100,000 calls of 20,000 customers (bulk inserts), starts the service with
``koe serve --workers N`` (one worker per core by default) on 127.0.0.1,
and runs 32 concurrent aiohttp clients against each endpoint for a bounded time; in the same run the
same query is timed directly on the database (one thread, no HTTP). Prints p50/p99 latency (ms) and
requests per second. Target: p99 < 100 ms on SQLite and PostgreSQL.

    .venv/bin/python bench/api.py                      # both backends, full size
    .venv/bin/python bench/api.py --backend sqlite --calls 20000 --customers 4000 --seconds 5
    .venv/bin/python bench/api.py --uvicorn-workers    # uvicorn's own workers, for comparison

PostgreSQL runs in a dedicated schema (``koe_bench_api``) that is dropped afterwards. The report
cache of the service is on (as in production: reports are at most 30 s old); the direct column
shows what one uncached query costs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.presenters import customer_detail, list_customers
from models.db import dispose_engine, load_read_sessionmaker, transaction, upgrade_database
from models.keys import create_key
from models.tables import (
    Agent,
    Call,
    CallMetricsRow,
    CallTopicRow,
    Customer,
    CustomerSummaryRow,
    TagRow,
    TopicRow,
)
from models.topic_report import topic_report

REPO = Path(__file__).resolve().parent.parent
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SCHEMA = "koe_bench_api"
TAGS = ("repeat_contact", "long_wait", "transfer", "churn_intent", "unresolved", "anger")
TOPICS = ("回線・つながらない", "請求・支払い", "解約・プラン変更", "機器・ルーター", "引っ越し", "メール設定", "スマホ", "料金プラン")
LEVELS = ("low", "medium", "high")


def load(url: str, calls: int, customers: int, seed: int = 7) -> None:
    """Bulk-insert the synthetic history (core ``executemany``, 10,000 rows a batch)."""
    rng = random.Random(seed)
    engine = sa.create_engine(url) if "postgresql" in url else None
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with transaction(url) as session:
        session.execute(sa.insert(TopicRow), [{"id": i, "label": label, "top_terms": [label], "quotes": []} for i, label in enumerate(TOPICS)])
        session.execute(sa.insert(Agent), [{"agent_id": f"A-{i:03d}"} for i in range(60)])
        session.execute(sa.insert(Customer), [{"customer_id": f"C-{i:06d}"} for i in range(customers)])
    for offset in range(0, calls, 10_000):
        rows, topics, tags, metrics = [], [], [], []
        for pk in range(offset + 1, min(calls, offset + 10_000) + 1):
            rows.append(
                {
                    "id": pk,
                    "call_id": f"call-{pk:07d}",
                    "customer_id": f"C-{rng.randrange(customers):06d}",
                    "agent_id": f"A-{rng.randrange(60):03d}",
                    "started_at": start + timedelta(seconds=rng.randrange(300 * 86400)),
                    "status": "done",
                    "duration_s": rng.uniform(60, 900),
                    "effort_index": rng.uniform(0, 100),
                    "customer_sentiment": rng.uniform(-1, 1),
                    "attributes": {},
                    "effort_components": [],
                }
            )
            topics.append({"call_pk": pk, "topic_id": rng.randrange(len(TOPICS)), "weight": 1.0})
            for tag in rng.sample(TAGS, rng.choice((0, 0, 1, 2))):
                tags.append({"call_pk": pk, "tag": tag, "utterance_index": 1, "start_s": 5.0, "evidence": "…", "rule": "bench"})
            metrics.append(
                {
                    "call_pk": pk, "duration_s": 300.0, "talk_s_agent": 120.0, "talk_s_customer": 150.0, "talk_ratio_agent": 0.44,
                    "silence_count": 3, "silence_s": 9.0, "longest_silence_s": 4.0, "silence_ratio": 0.03, "overtalk_count": 2,
                    "overtalk_s": 1.5, "hold_count": 1, "hold_s": 30.0, "turn_count": 40, "intervals": {},
                }
            )
        with transaction(url) as session:
            session.execute(sa.insert(Call), rows)
            session.execute(sa.insert(CallTopicRow), topics)
            session.execute(sa.insert(TagRow), tags)
            session.execute(sa.insert(CallMetricsRow), metrics)
    # One real summary (the insights stage's own computation) is the template of every customer's.
    from models.customers import refresh_summaries

    with transaction(url) as session:
        refresh_summaries(session, ["C-000000"], now=start + timedelta(days=300))
        template = session.get(CustomerSummaryRow, "C-000000")
        assert template is not None
        body = template.summary
    rows = []
    for i in range(1, customers):
        score = rng.random()
        rows.append(
            {
                "customer_id": f"C-{i:06d}",
                "call_count": calls // customers,
                "churn_score": score,
                "churn_level": LEVELS[min(2, int(score * 3))],
                "top_reason": rng.choice(("churn_intent", "repeat_contacts", "rising_effort")),
                "last_contact": start + timedelta(minutes=rng.randrange(300 * 24 * 60)),
                "summary": body,
            }
        )
    with transaction(url) as session:
        session.execute(sa.insert(CustomerSummaryRow), rows)
    if engine is not None:
        with engine.begin() as connection:
            # Calls went in with explicit ids, which PostgreSQL's sequence does not see: move it
            # past the loaded ids, or the next ``koe ingest`` collides with call 1.
            connection.execute(sa.text("SELECT setval(pg_get_serial_sequence('calls', 'id'), (SELECT max(id) FROM calls))"))
            connection.execute(sa.text("ANALYZE"))
        engine.dispose()


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(url: str, data_dir: Path, port: int, workers: int, *, uvicorn_workers: bool = False) -> subprocess.Popen[bytes]:
    """Run the service with ``koe serve --workers N`` (``--uvicorn-workers``: uvicorn's own workers, for comparison)."""
    env = {**os.environ, "KOE_DATABASE_URL": url, "KOE_DATA_DIR": str(data_dir)}
    if uvicorn_workers:
        command = [sys.executable, "-m", "uvicorn", "api.app:server_app", "--factory", "--no-access-log"]
    else:
        command = [sys.executable, "-m", "koe", "serve"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL)


def stop_server(server: subprocess.Popen[bytes]) -> None:
    """Stop the server (and its workers) and wait for it."""
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def wait_until_up(url: str, timeout_s: float = 60.0) -> None:
    """Poll ``url`` until it answers 200 (or fail after ``timeout_s`` seconds)."""
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up within {timeout_s:.0f} s")


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0-1) of ``values``, in the values' unit."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def hammer(base: str, key: str, paths: Callable[[random.Random], str], clients: int, seconds: float) -> tuple[list[float], int, float]:
    """``clients`` concurrent loops for ``seconds``; returns latencies (ms), error count and elapsed s.

    Each loop sends its next request as soon as the previous answer is read (a closed loop, no
    think time: the server is saturated, the harshest reading of "32 concurrent clients"). The
    client is aiohttp, whose C parser leaves most of the shared CPU to the server.
    """
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=clients)
    timeout = aiohttp.ClientTimeout(total=30)

    async def one(client: aiohttp.ClientSession, rng: random.Random) -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            try:
                async with client.get(paths(rng)) as response:
                    await response.read()
                    ok = response.status == 200
            except (aiohttp.ClientError, TimeoutError):
                ok = False
            latencies.append((time.perf_counter() - t0) * 1000)
            errors += not ok

    headers = {"Authorization": f"Bearer {key}"}
    async with aiohttp.ClientSession(base, headers=headers, connector=connector, timeout=timeout) as client:
        begun = time.perf_counter()
        await asyncio.gather(*(one(client, random.Random(i)) for i in range(clients)))
    return latencies, errors, time.perf_counter() - begun


def direct(operation: Callable[[Any, random.Random], Any], url: str, seconds: float) -> list[float]:
    """Latencies (ms) of ``operation`` run directly on a read session (as the service reads), one at a time."""
    sessions = load_read_sessionmaker(url)  # the engine the service reads with
    rng = random.Random(1)
    latencies = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        with sessions() as session:
            t0 = time.perf_counter()
            operation(session, rng)
            latencies.append((time.perf_counter() - t0) * 1000)
    return latencies


def bench_backend(name: str, url: str, args: argparse.Namespace, data_dir: Path) -> list[tuple[str, ...]]:
    """Load, serve and measure one backend; returns table rows."""
    upgrade_database(url)
    t0 = time.perf_counter()
    load(url, args.calls, args.customers)
    print(f"[{name}] loaded {args.calls} calls / {args.customers} customers in {time.perf_counter() - t0:.1f} s", flush=True)
    with transaction(url) as session:
        key, _ = create_key(session, "data", name="bench")

    port = free_port()
    # The server runs in its own processes, as `koe serve --workers N` does: the clients do not
    # share its GIL.
    server = start_server(url, data_dir, port, args.workers, uvicorn_workers=args.uvicorn_workers)
    wait_until_up(f"http://127.0.0.1:{port}/health")
    customers = args.customers
    cases: list[tuple[str, Callable[[random.Random], str], Callable[[Any, random.Random], Any]]] = [
        (
            "/customers/{id}",
            lambda r: f"/customers/C-{r.randrange(customers):06d}",
            lambda s, r: customer_detail(s, f"C-{r.randrange(customers):06d}"),
        ),
        (
            "/customers?order=churn_risk",
            lambda r: "/customers?order=churn_risk",
            lambda s, r: list_customers(s, order="churn_risk"),
        ),
        ("/reports/topics", lambda r: "/reports/topics", lambda s, r: topic_report(s)),
    ]
    rows = []
    base = f"http://127.0.0.1:{port}"
    try:
        for label, path, operation in cases:
            asyncio.run(hammer(base, key, path, 4, 1.0))  # warm-up (connections, caches)
            latencies, errors, elapsed = asyncio.run(hammer(base, key, path, args.clients, args.seconds))
            direct_ms = direct(operation, url, min(args.seconds, 5.0))
            rows.append(
                (
                    name,
                    label,
                    f"{percentile(latencies, 0.5):.1f}",
                    f"{percentile(latencies, 0.99):.1f}",
                    f"{len(latencies) / elapsed:.0f}",
                    str(errors),
                    f"{statistics.median(direct_ms):.2f}",
                    f"{percentile(direct_ms, 0.99):.2f}",
                )
            )
            print("  ".join(rows[-1]), flush=True)
    finally:
        stop_server(server)
        dispose_engine(url)
    return rows


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="Server processes (default: one per core).")
    parser.add_argument("--seconds", type=float, default=10.0, help="Load duration per endpoint (s).")
    parser.add_argument(
        "--uvicorn-workers",
        action="store_true",
        help="Serve with uvicorn's own --workers (one shared listening socket) instead of koe serve's.",
    )
    args = parser.parse_args()
    rows: list[tuple[str, ...]] = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.backend in ("sqlite", "both"):
            rows += bench_backend("sqlite", f"sqlite:///{tmp}/bench.db", args, Path(tmp))
        if args.backend in ("postgres", "both"):
            admin = sa.create_engine(POSTGRES)
            with admin.begin() as connection:
                connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
                connection.execute(sa.text(f'CREATE SCHEMA "{SCHEMA}"'))
            try:
                rows += bench_backend("postgres", f"{POSTGRES}?options=-csearch_path%3D{SCHEMA}", args, Path(tmp))
            finally:
                with admin.begin() as connection:
                    connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
                admin.dispose()
    header = ("backend", "endpoint", "p50 ms", "p99 ms", "req/s", "errors", "direct p50 ms", "direct p99 ms")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print(
        f"\n{args.calls} calls, {args.customers} customers, {args.clients} clients, {args.seconds:.0f} s per endpoint,"
        f" {args.workers} server workers, {os.cpu_count()} cores shared with the load generator"
    )
    for line in (header, *rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)))


if __name__ == "__main__":
    main()
