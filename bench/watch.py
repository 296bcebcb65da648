#!/usr/bin/env python3
"""The periodic watches at scale: ``watch_sla`` and ``watch_work_orders`` over a million claims.

1. creates a fresh database, runs the migrations and loads a small demo landlord (its
   catalogue, units, managers, contracts and a few claims to copy from);
2. adds claims with COPY, copied from the demo's: by default 1,000,000 of which 100,000 open,
   10,000 of them past their resolution deadline; each open claim routed to a contractor gets
   an open work order, past its completion deadline when its claim is overdue; VACUUM ANALYZE;
3. times one run of each watch (select, render, queue the messages, commit), then a second
   run right after it, which has nothing new to do.

The app runs with REDIS_URL set, as the cron does in production: the messages are handed to
RQ queues and never delivered (the queues are emptied at the end). Only counts and timings
are printed. Run ``python bench/watch.py --help`` for the options; see bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchlib import (  # noqa: E402
    RESULTS,
    backend_cpu,
    code_state,
    cpu_delta,
    create_database,
    database_url,
    empty_queues,
    log,
    require_loopback,
    run_flask,
)

TARGET_FIRST_RUN_S = 2.0
TARGET_SECOND_RUN_S = 0.2
OPEN_STATUSES = ("assigned", "in_progress")


def load_claims(db_url: str, total: int, open_count: int, overdue: int, seed: int) -> dict:
    """Copies of the demo's claims: ``total - open_count`` closed, then the open ones, the
    last ``overdue`` of them past their deadline; open work orders for the open claims
    routed to a contractor. Ids are given explicitly (the sequences are moved on after)."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    started = time.perf_counter()
    with psycopg.connect(db_url) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        cur = conn.execute("SELECT * FROM claims WHERE status <> 'cancelled' ORDER BY id")
        columns = [d.name for d in cur.description]
        templates = [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]
        claim_base = conn.execute("SELECT coalesce(max(id), 0) FROM claims").fetchone()[0]
        order_base = conn.execute("SELECT coalesce(max(id), 0) FROM work_orders").fetchone()[0]
        copied = [c for c in columns if c != "id"]
        orders = []
        with (
            conn.cursor() as copy_cur,
            copy_cur.copy(f"COPY claims (id, {', '.join(copied)}) FROM STDIN") as copy,
        ):
            for i in range(total):
                row = dict(rng.choice(templates))
                created = now - timedelta(days=rng.uniform(1, 3 * 365))
                closed = i < total - open_count
                late = i >= total - overdue
                if closed:
                    due = created + timedelta(days=rng.uniform(1, 20))
                elif late:
                    due = now - timedelta(hours=rng.uniform(1, 240))
                    created = due - timedelta(hours=rng.uniform(4, 30 * 24))
                else:  # opened in the last three days, due within two months
                    due = now + timedelta(hours=rng.uniform(6, 60 * 24))
                    created = now - timedelta(hours=rng.uniform(1, 72))
                row.update(
                    reference=f"B-{i:09d}",
                    status="closed" if closed else rng.choice(OPEN_STATUSES),
                    created_at=created,
                    updated_at=created,
                    response_due=min(due, created + timedelta(hours=4)),
                    resolution_due=due,
                    responded_at=None,
                    paused_at=None,
                    status_before_pause=None,
                    resolved_at=due if closed else None,
                    closed_at=due + timedelta(days=1) if closed else None,
                    cancelled_at=None,
                    appointment_at=None,
                    appointment_end=None,
                    first_contact_resolution=False,
                    resolution="Réparé." if closed else None,
                )
                claim_id = claim_base + i + 1
                copy.write_row((claim_id, *(row[c] for c in copied)))
                if not closed and row["contract_id"] is not None:
                    orders.append((claim_id, row, created, due))
        log(f"  {total:,} claims copied ({time.perf_counter() - started:.0f} s)")
        with (
            conn.cursor() as copy_cur,
            copy_cur.copy(
                "COPY work_orders (id, claim_id, contract_id, contractor_id, status,"
                " acknowledge_due, complete_due, beyond_claim_deadline, acknowledged_at,"
                " needs_attention, created_at) FROM STDIN"
            ) as copy,
        ):
            for n, (claim_id, row, created, due) in enumerate(orders):
                copy.write_row(
                    (
                        order_base + n + 1,
                        claim_id,
                        row["contract_id"],
                        row["contractor_id"],
                        "acknowledged",
                        created + timedelta(hours=1),
                        due,
                        False,
                        created + timedelta(minutes=30),
                        False,
                        created,
                    )
                )
        log(f"  {len(orders):,} open work orders copied ({time.perf_counter() - started:.0f} s)")
        for table in ("claims", "work_orders"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT max(id) FROM {table}))"
            )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM (ANALYZE) claims, work_orders")
        conn.execute("ANALYZE")
        counts = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE status IN ('assigned', 'in_progress')),"
            " count(*) FILTER (WHERE status IN ('assigned', 'in_progress')"
            " AND resolution_due <= now()) FROM claims"
        ).fetchone()
    return {
        "claims": counts[0],
        "open": counts[1],
        "overdue": counts[2],
        "open_work_orders": len(orders),
        "seconds": time.perf_counter() - started,
    }


def time_watches(
    db_url: str, instance: str, redis_url: str, admin_url: str, database: str
) -> dict[str, Any]:
    """Each watch twice in a row, as the cron calls it: a transaction, committed. Besides the
    wall time, the CPU time of this process and of the PostgreSQL backend: on a machine
    shared with other work, the wall time grows with the load, the CPU time much less."""
    os.environ.update(
        DATABASE_URL=db_url,
        GRC_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(48),
        GRC_INSTANCE_PATH=instance,
        REDIS_URL=redis_url,
    )
    from grc import create_app
    from grc.claims.sla_watch import watch_sla
    from grc.contracts.work_orders import watch_work_orders
    from grc.db import utcnow
    from grc.extensions import db

    app = create_app()
    results: dict[str, Any] = {}
    with app.app_context():
        for name, watch in (("watch_sla", watch_sla), ("watch_work_orders", watch_work_orders)):
            for run in ("first", "second"):
                db.session.execute(sa.text("SELECT 1"))  # the backend exists before timing
                backends = backend_cpu(admin_url, database)
                cpu = time.process_time()
                started = time.perf_counter()
                report = watch(db.session, utcnow())
                db.session.commit()
                seconds = time.perf_counter() - started
                python_cpu = time.process_time() - cpu
                postgres_cpu = cpu_delta(backends, backend_cpu(admin_url, database))
                results[f"{name}_{run}"] = {
                    "seconds": seconds,
                    "python_cpu_s": python_cpu,
                    "postgresql_cpu_s": postgres_cpu,
                    "report": vars(report),
                }
                log(
                    f"{name} {run} run: {seconds * 1000:,.0f} ms (CPU: Python "
                    f"{python_cpu * 1000:,.0f} ms, PostgreSQL {postgres_cpu * 1000:,.0f} ms) "
                    f"{vars(report)}"
                )
                db.session.expunge_all()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--db", default="grc_bench_watch", help="database to (re)create")
    parser.add_argument(
        "--pg-admin",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="URL of a database to connect to for CREATE DATABASE",
    )
    parser.add_argument("--dwellings", type=int, default=5_000, help="demo landlord's size")
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=100_000, help="open claims among them")
    parser.add_argument("--overdue", type=int, default=10_000, help="overdue among the open")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/11",
        help="REDIS_URL for the app; use a Redis database nothing else uses: the jobs left "
        "in its GRC queues are deleted at the end",
    )
    args = parser.parse_args(argv)
    require_loopback(args.pg_admin)
    require_loopback(args.redis_url)

    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    db_url = database_url(args.pg_admin, args.db)
    instance = tempfile.mkdtemp(prefix="grc-bench-")
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "GRC_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "GRC_INSTANCE_PATH": instance,
    }
    env.pop("REDIS_URL", None)
    result: dict[str, Any] = {
        "date": stamp,
        "code": code_state(),
        "options": vars(args),
        "targets": {"first_run_s": TARGET_FIRST_RUN_S, "second_run_s": TARGET_SECOND_RUN_S},
        "load_average_at_start": os.getloadavg(),
    }
    log(f"Creating {args.db}, migrations, demo landlord ({args.dwellings:,} dwellings)…")
    create_database(args.pg_admin, args.db)
    run_flask(env, "db", "upgrade")
    run_flask(env, "grc", "demo", "--dwellings", str(args.dwellings), "--claims", "300")
    log(f"Copying {args.claims:,} claims ({args.open:,} open, {args.overdue:,} overdue)…")
    result["data"] = load_claims(db_url, args.claims, args.open, args.overdue, args.seed)
    log(f"Loaded: {result['data']}")
    result["load_average_before_runs"] = os.getloadavg()
    result["runs"] = time_watches(db_url, instance, args.redis_url, args.pg_admin, args.db)
    result["load_average_after_runs"] = os.getloadavg()
    result["jobs_deleted"] = empty_queues(args.redis_url)
    path = RESULTS / f"watch-{stamp}.json"
    path.write_text(json.dumps(result, indent=2, default=str))
    log(f"Results in {path.relative_to(ROOT)}")
    ok = all(
        run["seconds"] < (TARGET_FIRST_RUN_S if name.endswith("first") else TARGET_SECOND_RUN_S)
        for name, run in result["runs"].items()
    )
    log("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
