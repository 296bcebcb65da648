#!/usr/bin/env python3
"""Where an intake's CPU goes, in one process: POST /api/v1/claims through Flask's test
client on a database ``bench/intake.py`` left behind (``--reuse-db`` state), with the
hand-over to Redis as in production.

Three measures, as steady as this kind of machine allows:

- ``cpu``: CPU milliseconds per request (``time.process_time``), three rounds;
- ``profile``: cProfile (CPU clock) of the requests, written to a ``.pstats`` file and the
  top functions printed;
- ``instructions``: the process re-runs itself under ``valgrind --tool=callgrind`` with
  instrumentation off, switches it on for the measured requests only, and prints the
  instructions per request — a count that does not drift with the machine's speed.

``--without`` takes parts out (the tenant's acknowledgement, work orders, the response's
serialisation, the hand-over to Redis) to weigh each by difference.
Only counts and timings are printed. See bench/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchlib import RESULTS, database_url, log, require_loopback  # noqa: E402

READY, DONE = "ready", "done"


def _without(parts: list[str]) -> None:
    """Replace each named part by a no-op (or a minimal answer), for weighing by difference."""
    if "acknowledgement" in parts:
        import grc.claims.notify

        grc.claims.notify.notify_tenants = lambda *args, **kwargs: []  # type: ignore[assignment]
    if "work-order" in parts:
        import grc.contracts.work_orders

        grc.contracts.work_orders.open_work_order = lambda *args, **kwargs: None  # type: ignore[assignment]
    if "response" in parts:
        from grc.claims.schemas import ClaimDetailSchema

        ClaimDetailSchema.dump = lambda self, obj, **kwargs: {"id": obj.id}  # type: ignore[method-assign]
    if "redis" in parts:
        import workers.dispatch

        workers.dispatch.RqDelivery.__call__ = lambda self, *args, **kwargs: None  # type: ignore[method-assign]


def _poster(args: argparse.Namespace) -> Callable[[], None]:
    db_url = database_url(args.pg_admin, args.db)
    tokens_file = RESULTS / f".bench-tokens-{args.db}.json"
    if not tokens_file.exists():
        raise SystemExit(f"{tokens_file} is missing: run bench/intake.py --db {args.db} first")
    token = json.loads(tokens_file.read_text())["agent"]
    os.environ.update(
        {
            "DATABASE_URL": db_url.replace("postgresql://", "postgresql+psycopg://", 1),
            "REDIS_URL": args.redis_url,
            "GRC_ENV": "production",
            "SECRET_KEY": "bench-" + "k" * 40,
            "GRC_INSTANCE_PATH": tempfile.mkdtemp(prefix="grc-intake-profile-"),
        }
    )
    from grc import create_app

    _without(args.without)
    app = create_app()
    with psycopg.connect(db_url) as conn:
        dwellings = [
            row[0]
            for row in conn.execute(
                "SELECT DISTINCT dwelling_id FROM leases WHERE start_date <= current_date "
                "AND (end_date IS NULL OR end_date >= current_date)"
            )
        ]
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    categories = [
        c["code"]
        for c in client.get("/api/v1/categories", headers=headers).json
        if c["location"] == "dwelling"
    ]
    rng = random.Random(args.seed)

    def post() -> None:
        body = {
            "category": rng.choice(categories),
            "channel": "phone",
            "description": "Réclamation de test de charge.",
            "dwelling_id": rng.choice(dwellings),
        }
        response = client.post("/api/v1/claims", json=body, headers=headers)
        if response.status_code != 201:
            raise SystemExit(f"intake answered {response.status_code}")

    return post


def _serve(args: argparse.Namespace) -> None:
    """The measured process: warm up, then wait for the parent's go around the requests."""
    post = _poster(args)
    for _ in range(args.warmup):
        post()
    print(READY, flush=True)
    sys.stdin.readline()
    for _ in range(args.requests):
        post()
    print(DONE, flush=True)
    sys.stdin.readline()


def _instructions(args: argparse.Namespace) -> float:
    out = Path(tempfile.mkdtemp(prefix="grc-callgrind-")) / "callgrind.out"
    command = [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        f"--callgrind-out-file={out}",
        sys.executable,
        __file__,
        "--serve",
        *sys.argv[1:],
    ]
    child = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    assert child.stdin is not None
    assert child.stdout is not None

    def wait_for(word: str) -> None:
        while (line := child.stdout.readline()) and line.strip() != word:
            pass
        if not line:
            raise SystemExit("the measured process ended early")

    wait_for(READY)
    _instrument(child.pid, "on")
    child.stdin.write("\n")
    child.stdin.flush()
    wait_for(DONE)
    _instrument(child.pid, "off")
    child.stdin.write("\n")
    child.stdin.flush()
    child.wait()
    total = 0
    for line in out.read_text().splitlines():
        if line.startswith(("summary:", "totals:")):
            total = max(total, int(line.split()[1]))
    return total / args.requests


def _instrument(pid: int, state: str) -> None:
    subprocess.run(["callgrind_control", "-i", state, str(pid)], check=True, capture_output=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--db", default="grc_bench", help="database left by bench/intake.py")
    parser.add_argument("--pg-admin", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--mode", choices=("cpu", "profile", "instructions"), default="cpu")
    parser.add_argument("--requests", type=int, default=100, help="requests measured")
    parser.add_argument("--warmup", type=int, default=50, help="requests not measured")
    parser.add_argument(
        "--without",
        action="append",
        default=[],
        choices=("acknowledgement", "work-order", "response", "redis"),
        help="take this part out (repeatable)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    require_loopback(args.pg_admin, "PostgreSQL")
    require_loopback(args.redis_url, "Redis")

    if args.serve:
        _serve(args)
        return 0
    if args.mode == "instructions":
        per_request = _instructions(args)
        log(f"{per_request / 1e6:.2f} M instructions per intake ({args.requests} requests)")
        return 0

    post = _poster(args)
    for _ in range(args.warmup):
        post()
    if args.mode == "cpu":
        for _ in range(3):
            started = time.process_time()
            for _ in range(args.requests):
                post()
            spent = (time.process_time() - started) / args.requests
            log(f"{1000 * spent:.2f} ms of CPU per intake ({args.requests} requests)")
        return 0

    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for _ in range(args.requests):
        post()
    profiler.disable()
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"intake-profile-{time.strftime('%Y%m%dT%H%M%S')}.pstats"
    profiler.dump_stats(path)
    stats: Any = pstats.Stats(str(path))
    stats.sort_stats("cumulative").print_stats(40)
    log(f"profile written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
