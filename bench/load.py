"""Load with concurrent writes: 32 API clients for 60 s while ``koe ingest`` stores new calls.

Reuses ``bench/api.py`` for the 100,000-call / 20,000-customer database, the uvicorn server (its own
process, as ``koe serve``) and the client loop. The clients mix the read endpoints (customer detail,
churn ranking, topic report, a customer's calls, search); meanwhile real ``koe ingest`` processes
import batches of transcript JSONL calls into the same database. Reported: requests, errors (any
non-200 or transport error), throughput, p50/p99 latency, and whether every written call is stored
exactly once and complete (no write lost).

    .venv/bin/python bench/load.py                                   # SQLite, full size
    .venv/bin/python bench/load.py --backend postgres
    .venv/bin/python bench/load.py --calls 20000 --customers 4000 --seconds 20   # quick check
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.api import free_port, hammer, load, percentile, start_server, stop_server, wait_until_up  # noqa: E402
from models.db import dispose_engine, load_engine, transaction, upgrade_database  # noqa: E402
from models.keys import create_key  # noqa: E402

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DIALOGUE = [
    ("agent", "お電話ありがとうございます。サポートセンターの佐藤です。"),
    ("customer", "先週も電話したんですけど、まだインターネットがつながらないんです。"),
    ("agent", "大変申し訳ございません。回線の状況をお調べいたします。"),
    ("customer", "もう解約しようかと思っています。"),
]


def batch(path: Path, first: int, count: int, customers: int) -> list[str]:
    """Write ``count`` transcript calls (ids ``load-<n>``) to ``path``; returns their ids."""
    rng = random.Random(first)
    lines, ids = [], []
    for n in range(first, first + count):
        utterances = [
            {"speaker": s, "start_s": 3.5 * i, "end_s": 3.5 * i + 3.0, "text": t} for i, (s, t) in enumerate(DIALOGUE)
        ]
        ids.append(f"load-{n:06d}")
        lines.append(
            json.dumps(
                {
                    "call_id": ids[-1],
                    "customer_id": f"C-{rng.randrange(customers):06d}",
                    "agent_id": f"A-{rng.randrange(60):03d}",
                    "started_at": "2026-11-20T10:00:00+09:00",
                    "utterances": utterances,
                },
                ensure_ascii=False,
            )
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    old = time.time() - 3600  # settled: not "still being written"
    os.utime(path, (old, old))
    return ids


def writer(url: str, data_dir: Path, stop: threading.Event, customers: int, per_batch: int, out: dict[str, Any]) -> None:
    """Run ``koe ingest`` on new batches until ``stop``; records written ids and summaries in ``out``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOE_", "PREFECT_API"))}
    env.update(KOE_DATABASE_URL=url, KOE_DATA_DIR=str(data_dir), PREFECT_HOME=str(data_dir / "prefect"))
    inbox = data_dir / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    first = 0
    while not stop.is_set():
        path = inbox / f"batch-{first:06d}.jsonl"
        ids = batch(path, first, per_batch, customers)
        first += per_batch
        result = subprocess.run(
            [sys.executable, "-m", "koe", "ingest", str(path), "--json"],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=900, check=False,
        )
        if result.returncode != 0:
            out["errors"].append(result.stderr[-2000:])
            continue
        out["written"].extend(ids)
        out["summaries"].append(json.loads(result.stdout))


def check_writes(url: str, ids: list[str]) -> dict[str, int]:
    """How the written calls are stored: done, duplicates, incomplete (missing utterances/metrics)."""
    with load_engine(url).connect() as connection:
        rows = connection.execute(
            sa.text(
                "select c.call_id, c.status,"
                " (select count(*) from utterances u where u.call_pk = c.id),"
                " (select count(*) from call_metrics m where m.call_pk = c.id)"
                " from calls c where c.call_id like 'load-%'"
            )
        ).tuples().all()
    stored = [r[0] for r in rows]
    complete = sum(1 for _, status, n, m in rows if status == "done" and n == len(DIALOGUE) and m == 1)
    return {
        "written": len(ids),
        "stored": len(set(stored) & set(ids)),
        "complete": complete,
        "duplicates": len(stored) - len(set(stored)),
    }


def run(url: str, args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    upgrade_database(url)
    started = time.perf_counter()
    load(url, args.calls, args.customers)
    print(f"loaded {args.calls} calls / {args.customers} customers in {time.perf_counter() - started:.0f} s", flush=True)
    with transaction(url) as session:
        key, _ = create_key(session, "data", name="bench-load")
    port = free_port()
    server = start_server(url, data_dir, port, args.workers)
    base = f"http://127.0.0.1:{port}"
    wait_until_up(f"{base}/health")
    customers = args.customers
    paths = (
        lambda r: f"/customers/C-{r.randrange(customers):06d}",
        lambda r: "/customers?order=churn_risk",
        lambda r: "/reports/topics",
        lambda r: f"/calls?customer_id=C-{r.randrange(customers):06d}",
        lambda r: "/search?q=" + r.choice(["つながらない", "解約", "請求", "佐藤"]),
    )
    out: dict[str, Any] = {"written": [], "summaries": [], "errors": []}
    stop = threading.Event()
    ingest = threading.Thread(target=writer, args=(url, data_dir, stop, customers, args.batch, out))
    try:
        asyncio.run(hammer(base, key, lambda r: r.choice(paths)(r), 4, 2.0))  # warm-up
        ingest.start()
        latencies, errors, elapsed = asyncio.run(
            hammer(base, key, lambda r: r.choice(paths)(r), args.clients, args.seconds)
        )
        stop.set()
        ingest.join()
    finally:
        stop.set()
        stop_server(server)
    writes = check_writes(url, out["written"])
    dispose_engine(url)
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.5), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "ingest_runs": len(out["summaries"]),
        "ingest_failures": len(out["errors"]),
        "ingest_errors": out["errors"],
        **writes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="Server processes (default: one per core).")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--batch", type=int, default=50, help="Calls per koe ingest run.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="koe-load-") as tmp:
        data_dir = Path(tmp)
        if args.backend == "sqlite":
            url = f"sqlite:///{data_dir / 'koe.db'}"
            result = run(url, args, data_dir)
        else:
            schema = "koe_bench_load"
            admin = sa.create_engine(POSTGRES)
            with admin.begin() as connection:
                connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            try:
                result = run(f"{POSTGRES}?options=-csearch_path%3D{schema}", args, data_dir)
            finally:
                with admin.begin() as connection:
                    connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                admin.dispose()
    errors_of_ingest = result.pop("ingest_errors", [])
    print(json.dumps({"backend": args.backend, "clients": args.clients, "seconds": args.seconds, **result}, indent=2))
    for error in errors_of_ingest:
        print("koe ingest failed:", error, file=sys.stderr)
    lost = result["written"] - result["complete"]
    print(f"errors={result['errors']} lost_or_incomplete_writes={lost} duplicates={result['duplicates']}")


if __name__ == "__main__":
    main()
