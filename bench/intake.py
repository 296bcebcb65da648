#!/usr/bin/env python3
"""Intake and tenant-search benchmark against a real gunicorn + PostgreSQL on loopback.

1. creates a fresh database, runs the migrations and loads the demo landlord (20,000
   dwellings by default, few claims);
2. starts gunicorn (2 workers, production settings) on a free loopback port, with
   REDIS_URL set as in production, so that each request only enqueues its messages for
   the RQ workers (``--in-process-jobs`` measures the embedded default instead);
3. intake: concurrent clients POST valid claims on random occupied dwellings for a fixed
   duration; every answer must be 201; reports claims/s and latency percentiles;
4. search: adds 1,000,000 tenants (COPY), ANALYZEs, then times GET /api/v1/tenants?q= for
   three query mixes (phone, name, address), sequential requests from one client;
5. stops gunicorn, always, and writes the figures to bench/results/ as JSON.

Only counts and timings are printed: never a name, number or address.
Run ``python bench/intake.py --help`` for the options; see bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import re
import socket
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchlib import (  # noqa: E402
    CLK_TCK,
    RESULTS,
    backend_pids,
    cpu_delta,
    create_database,
    database_url,
    empty_queues,
    group_cpu,
    gunicorn,
    log,
    machine,
    percentiles,
    pids_cpu,
    production_env,
    require_loopback,
    seed_demo,
    system_cpu,
    utc_stamp,
    write_result,
)

from grc.demo import FIRST_NAMES, LAST_NAMES  # noqa: E402
from grc.text import search_key  # noqa: E402

TARGET_CLAIMS_PER_S = 300
TARGET_SEARCH_P95_MS = 30.0


# --- Small helpers -------------------------------------------------------------------------


def ms(stats: dict[str, float], key: str) -> str:
    return f"{stats.get(key, float('nan')) * 1000:.1f}"


# --- a. Intake -----------------------------------------------------------------------------


def intake_targets(db_url: str, base_url: str, token: str) -> tuple[list[int], list[str]]:
    today = date.today()  # noqa: DTZ011 - the server's local day is close enough here
    with psycopg.connect(db_url) as conn:
        dwellings = [
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT dwelling_id FROM leases WHERE start_date <= %s "
                "AND (end_date IS NULL OR end_date >= %s)",
                (today, today),
            )
        ]
    response = httpx.get(
        f"{base_url}/api/v1/categories", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    response.raise_for_status()
    categories = [c["code"] for c in response.json() if c["location"] == "dwelling"]
    return dwellings, categories


def post_request(base_url: str, path: str, token: str) -> tuple[str, int, bytes]:
    """Host, port and the head of a JSON POST to ``path``, ready for its body."""
    address = base_url.removeprefix("http://")
    host, _, port = address.partition(":")
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {address}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        "Connection: close\r\nContent-Length: "
    ).encode()
    return host, int(port), head


def send_once(host: str, port: int, head: bytes, body: bytes, timeout: float = 30) -> str:
    """One request on its own connection (gunicorn's sync workers close after each answer):
    the answer's status code, or the error's name. Plain sockets rather than an HTTP client
    library, so the load generator takes as little as possible of the CPU it shares with
    the server."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(head + str(len(body)).encode() + b"\r\n\r\n" + body)
            answer = bytearray()
            while chunk := sock.recv(65536):
                answer += chunk
    except OSError as exc:
        return type(exc).__name__
    status_line = bytes(answer[: answer.find(b"\r\n")]).split(b" ", 2)
    if len(status_line) < 2 or not status_line[0].startswith(b"HTTP/"):
        return "garbled answer"
    return status_line[1].decode()


def _intake_worker(
    base_url: str,
    token: str,
    dwellings: list[int],
    categories: list[str],
    threads: int,
    warmup: float,
    duration: float,
    seed: int,
    out: Any,
) -> None:
    """One load-generator process: ``threads`` clients posting claims back to back."""
    start_at = time.monotonic() + warmup
    stop_at = start_at + duration
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    host, port, head = post_request(base_url, "/api/v1/claims", token)

    def client_loop(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        mine: list[float] = []
        bad: list[str] = []
        while (now := time.monotonic()) < stop_at:
            body = json.dumps(
                {
                    "category": rng.choice(categories),
                    "channel": "phone",
                    "description": "Réclamation de test de charge.",
                    "dwelling_id": rng.choice(dwellings),
                }
            ).encode()
            t0 = time.perf_counter()
            status = send_once(host, port, head, body)
            elapsed = time.perf_counter() - t0
            if now >= start_at:
                if status == "201":
                    mine.append(elapsed)
                else:
                    bad.append(status)
        with lock:
            latencies.extend(mine)
            failures.extend(bad)

    pool = [threading.Thread(target=client_loop, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    out.send((latencies, failures))
    out.close()


def _cpu_by_party(parties: dict[str, list[int]]) -> dict[str, dict[int, float]]:
    return {name: pids_cpu(pids) for name, pids in parties.items()}


def bench_intake(
    base_url: str,
    token: str,
    dwellings: list[int],
    categories: list[str],
    processes: int,
    threads: int,
    warmup: float,
    duration: float,
    server_pid: int,
    admin_url: str,
    database: str,
) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    pipes, workers = [], []
    for p in range(processes):
        receiver, sender = ctx.Pipe(duplex=False)
        worker = ctx.Process(
            target=_intake_worker,
            args=(base_url, token, dwellings, categories, threads, warmup, duration, p, sender),
        )
        worker.start()
        sender.close()
        pipes.append(receiver)
        workers.append(worker)
    # CPU of each party over the measured window (the workers time it from their own start,
    # a few milliseconds later: close enough over 30 s).
    time.sleep(warmup)
    parties = {
        "gunicorn (master + workers)": list(group_cpu(server_pid)),
        "postgres backends": backend_pids(admin_url, database),
        "load generator": [w.pid for w in workers if w.pid],
    }
    cpu_before, machine_before = _cpu_by_party(parties), system_cpu()
    time.sleep(duration)
    cpu_after, machine_after = _cpu_by_party(parties), system_cpu()
    latencies: list[float] = []
    failures: list[str] = []
    for receiver in pipes:
        got_latencies, got_failures = receiver.recv()
        latencies.extend(got_latencies)
        failures.extend(got_failures)
    for worker in workers:
        worker.join()
    stats = percentiles(latencies)
    created = max(1, len(latencies))
    used = {name: cpu_delta(cpu_before[name], cpu_after[name]) for name in parties}
    cpu_ms = {name: 1000 * seconds / created for name, seconds in used.items()}
    busy = (machine_after[0] - machine_before[0]) / CLK_TCK
    ours = sum(used.values())
    cpu_ms["all of the above"] = 1000 * ours / created
    return {
        "created": len(latencies),
        "failed": len(failures),
        "failure_kinds": dict(sorted({f: failures.count(f) for f in set(failures)}.items())),
        "duration_s": duration,
        "claims_per_s": len(latencies) / duration,
        "latency_s": stats,
        "processes": processes,
        "threads_per_process": threads,
        "cpu_ms_per_claim": cpu_ms,
        "machine_cpu_s": {
            "busy": busy,
            "others": busy - ours,
            "note": "others: anything else on the machine, PostgreSQL's "
            "background processes and the kernel included",
        },
    }


# --- b. One million tenants ----------------------------------------------------------------

_SYLLABLES_A = (
    "Ber",
    "Lau",
    "Mar",
    "Schw",
    "Kl",
    "Hen",
    "Gau",
    "Vau",
    "Rich",
    "Thi",
    "Col",
    "Fran",
    "Hum",
    "Jac",
    "Mat",
    "Pier",
    "Bou",
    "Ch",
    "Del",
    "Gr",
    "Wei",
    "Zim",
    "Hof",
    "Kess",
    "Lamb",
    "Mich",
    "Noi",
    "Rou",
    "Sch",
    "Stei",
    "Wag",
    "Bau",
)
_SYLLABLES_B = (
    "tin",
    "ger",
    "mann",
    "ard",
    "otte",
    "ier",
    "el",
    "on",
    "in",
    "et",
    "and",
    "ert",
    "enne",
    "ot",
    "ault",
    "ler",
    "ner",
    "ber",
    "lin",
    "quin",
    "court",
    "ey",
    "é",
    "ès",
    "ière",
    "eau",
    "ard",
    "inger",
    "aux",
    "y",
)
_SYLLABLES_C = ("", "", "", "s", "t", "e", "in", "ot", "ois", "ach", "ig", "er")


def name_pool(rng: random.Random) -> tuple[list[str], list[float], list[str], list[float]]:
    """Surnames with a long tail, as in a real population: a few very common ones and
    thousands of rare ones (Zipf-like weights), so name searches are as selective as real
    ones; first names are far less varied."""
    synthetic = {
        f"{a}{b.lower()}{c}" for a in _SYLLABLES_A for b in _SYLLABLES_B for c in _SYLLABLES_C
    }
    last = list(LAST_NAMES) + sorted(synthetic - set(LAST_NAMES))
    rng.shuffle(last)
    last_weights = [1.0 / (rank + 10) for rank in range(len(last))]
    first = list(FIRST_NAMES)
    first_weights = [1.0 / (rank + 5) for rank in range(len(first))]
    return last, last_weights, first, first_weights


def load_million(db_url: str, count: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    last, last_w, first, first_w = name_pool(rng)
    keys: dict[tuple[str, str], str] = {}
    today = date.today()  # noqa: DTZ011
    now = datetime.now(UTC)
    started = time.perf_counter()
    with psycopg.connect(db_url) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        tenant_base = conn.execute("SELECT coalesce(max(id), 0) FROM tenants").fetchone()[0]
        lease_base = conn.execute("SELECT coalesce(max(id), 0) FROM leases").fetchone()[0]
        dwellings = [r[0] for r in conn.execute("SELECT id FROM dwellings")]
        lasts = rng.choices(last, last_w, k=count)
        firsts = rng.choices(first, first_w, k=count)
        with conn.cursor() as cur:
            with cur.copy(
                "COPY tenants (id, external_ref, first_name, last_name, email, "
                "preferred_channel, search_name, created_at) FROM STDIN"
            ) as copy:
                for i in range(count):
                    f, la = firsts[i], lasts[i]
                    key = keys.get((f, la))
                    if key is None:
                        key = keys[(f, la)] = search_key(la, f)
                    email = f"{key.replace(' ', '.')}{i % 97}@example.org" if i % 5 else None
                    copy.write_row(
                        (tenant_base + i + 1, f"BENCH{i:08d}", f, la, email, "sms", key, now)
                    )
            log(f"  tenants copied ({time.perf_counter() - started:.0f} s)")
            phones = 0
            with cur.copy("COPY tenant_phones (tenant_id, number, kind) FROM STDIN") as copy:
                for i in range(count):
                    tenant_id = tenant_base + i + 1
                    copy.write_row(
                        (tenant_id, f"+33{rng.choice('67')}{rng.randrange(10**8):08d}", "mobile")
                    )
                    phones += 1
                    if i % 3 == 0:
                        copy.write_row((tenant_id, f"+333{rng.randrange(10**8):08d}", "landline"))
                        phones += 1
            log(f"  phones copied ({time.perf_counter() - started:.0f} s)")
            with cur.copy(
                "COPY leases (id, reference, tenant_id, dwelling_id, start_date, "
                "end_date) FROM STDIN"
            ) as copy:
                for i in range(count):
                    # Former tenants: historic leases, several per dwelling.
                    end = today - timedelta(days=rng.randint(30, 40 * 365))
                    start = end - timedelta(days=rng.randint(90, 15 * 365))
                    copy.write_row(
                        (
                            lease_base + i + 1,
                            f"BENCH-{i:08d}",
                            tenant_base + i + 1,
                            rng.choice(dwellings),
                            start,
                            end,
                        )
                    )
            log(f"  leases copied ({time.perf_counter() - started:.0f} s)")
        for table in ("tenants", "leases"):  # ids were given explicitly: move the sequences on
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT max(id) FROM {table}))"
            )
        conn.commit()
        conn.autocommit = True
        # VACUUM now rather than autovacuum in the middle of the measurements; it also sets
        # the visibility map, as on a database in steady state.
        conn.execute("VACUUM (ANALYZE) tenants, tenant_phones, leases")
        conn.execute("ANALYZE")
    return {
        "tenants_added": count,
        "phones_added": phones,
        "leases_added": count,
        "distinct_last_names": len(set(lasts)),
        "seconds": time.perf_counter() - started,
    }


# --- Search query mixes --------------------------------------------------------------------


def _phone_formats(e164: str, rng: random.Random) -> str:
    national = "0" + e164[3:]
    pairs = " ".join(national[i : i + 2] for i in range(0, 10, 2))
    return rng.choice(
        (
            pairs,
            e164,
            f"0033 {e164[3]} {' '.join(pairs.split()[1:])}",
            pairs.replace(" ", "."),
            national,
        )
    )


def search_queries(db_url: str, per_mix: int, seed: int) -> dict[str, list[str]]:
    """Queries built from existing data, as an agent would type them."""
    rng = random.Random(seed)
    sample = per_mix * 2
    with psycopg.connect(db_url) as conn:
        # REPEATABLE and md5 ordering: the same seed picks the same rows, run after run.
        phones = [
            r[0]
            for r in conn.execute(
                "SELECT number FROM tenant_phones TABLESAMPLE SYSTEM (1) REPEATABLE (%s) LIMIT %s",
                (seed, sample),
            )
        ]
        names = [
            (r[0], r[1])
            for r in conn.execute(
                "SELECT last_name, first_name FROM tenants TABLESAMPLE SYSTEM (1) REPEATABLE (%s) "
                "LIMIT %s",
                (seed, sample),
            )
        ]
        streets = [
            r[0]
            for r in conn.execute(
                "SELECT search_address FROM buildings ORDER BY md5(code || %s) LIMIT %s",
                (str(seed), sample),
            )
        ]
    rng.shuffle(phones)
    rng.shuffle(names)
    mixes: dict[str, list[str]] = {"phone": [], "name": [], "address": []}
    for number in phones[:per_mix]:
        mixes["phone"].append(_phone_formats(number, rng))
    for last, first in names[:per_mix]:
        last_key, first_key = search_key(last), search_key(first)
        style = rng.random()
        if style < 0.4:
            query = last_key[: max(3, min(len(last_key), rng.randint(3, 7)))]
        elif style < 0.8:
            query = f"{last_key} {first_key[: rng.randint(2, len(first_key))]}"
        else:
            query = last_key
        mixes["name"].append(query)
    for address in streets[:per_mix]:
        words = address.split()  # "12 rue de bourgogne 57070 metz"
        number, street, city = words[0], words[1:-2], words[-1]
        style = rng.random()
        if style < 0.4:
            query = " ".join([number, *street])
        elif style < 0.7:
            query = " ".join(street)
        else:
            query = f"{max(street, key=len)} {city}"
        mixes["address"].append(query)
    return mixes


def bench_search(
    base_url: str, token: str, mixes: dict[str, list[str]], warmup: int
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:
        for query in [q for qs in mixes.values() for q in qs[:warmup]]:
            client.get("/api/v1/tenants", params={"q": query})
        for mix, queries in mixes.items():
            latencies: list[float] = []
            found = errors = 0
            for query in queries:
                t0 = time.perf_counter()
                response = client.get("/api/v1/tenants", params={"q": query})
                latencies.append(time.perf_counter() - t0)
                if response.status_code != 200:
                    errors += 1
                elif response.json():
                    found += 1
            results[mix] = {
                "latency_s": percentiles(latencies),
                "queries": len(queries),
                "with_results": found,
                "errors": errors,
            }
    return results


# --- Diagnosis: which statement is slow ----------------------------------------------------


def diagnose_search(db_url: str, mixes: dict[str, list[str]], per_mix: int) -> dict[str, Any]:
    """Time each SQL statement of ``search_tenants`` in-process and EXPLAIN the slowest.

    Literals are masked in the stored plans: they hold (synthetic) names and numbers."""
    import sqlalchemy as sa

    from grc import create_app
    from grc.clock import local_today
    from grc.extensions import db
    from grc.people.search import search_tenants

    app = create_app({"database_url": db_url, "environment": "development"})
    report: dict[str, Any] = {}
    with app.app_context():
        timings: list[tuple[float, str, Any]] = []
        current: dict[str, float] = {}

        def before(
            conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool
        ) -> None:
            current["t0"] = time.perf_counter()

        def after(
            conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool
        ) -> None:
            timings.append((time.perf_counter() - current["t0"], statement, params))

        sa.event.listen(db.engine, "before_cursor_execute", before)
        sa.event.listen(db.engine, "after_cursor_execute", after)
        today = local_today()
        for mix, queries in mixes.items():
            timings.clear()
            for query in queries[:per_mix]:
                search_tenants(db.session, query, today)
                db.session.rollback()
            by_shape: dict[str, list[float]] = {}
            slowest: dict[str, tuple[float, Any]] = {}
            for seconds, statement, params in timings:
                shape = _shape(statement)
                by_shape.setdefault(shape, []).append(seconds)
                if seconds > slowest.get(shape, (0.0, None))[0]:
                    slowest[shape] = (seconds, (statement, params))
            shapes = []
            for shape, samples in sorted(by_shape.items(), key=lambda kv: -sum(kv[1])):
                stats = percentiles(samples)
                statement, params = slowest[shape][1]
                plan = _explain(db, statement, params)
                db.session.rollback()
                shapes.append(
                    {
                        "statement": shape,
                        "calls": len(samples),
                        "p50_ms": stats["p50"] * 1000,
                        "p95_ms": stats["p95"] * 1000,
                        "plan_of_slowest": plan,
                    }
                )
            report[mix] = shapes
        db.engine.dispose()
    return report


def _shape(statement: str) -> str:
    flat = " ".join(statement.split())
    return flat if len(flat) < 400 else flat[:400] + " …"


def _explain(db: Any, statement: str, params: Any) -> list[str]:
    raw = db.session.connection().connection.dbapi_connection
    with raw.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
        lines = [row[0] for row in cur.fetchall()]
    return [re.sub(r"'[^']*'", "'…'", line) for line in lines]


def require_redis(redis_url: str) -> None:
    """Stop at once, with a way out, when the Redis of the production shape is not there."""
    import redis

    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        raise SystemExit(
            f"Redis at {redis_url} does not answer ({exc}); start it, or run "
            "with --in-process-jobs to measure the embedded default"
        ) from None


# --- Main ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--db", default="grc_bench", help="database to (re)create")
    parser.add_argument(
        "--pg-admin",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="URL of a database to connect to for CREATE DATABASE",
    )
    parser.add_argument("--dwellings", type=int, default=20_000)
    parser.add_argument("--demo-claims", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads per gunicorn worker (>1 uses the gthread worker)",
    )
    parser.add_argument("--processes", type=int, default=2, help="load-generator processes")
    parser.add_argument("--clients", type=int, default=2, help="client threads per process")
    parser.add_argument("--duration", type=float, default=30.0, help="intake seconds measured")
    parser.add_argument("--warmup", type=float, default=5.0, help="intake seconds not measured")
    parser.add_argument("--tenants", type=int, default=1_000_000, help="tenants added for search")
    parser.add_argument("--queries", type=int, default=400, help="search queries per mix")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--skip-intake", action="store_true")
    parser.add_argument("--skip-search", action="store_true")
    parser.add_argument(
        "--reuse-db",
        action="store_true",
        help="keep the database as a previous run left it (no reload)",
    )
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/13",
        help="REDIS_URL for the app (production shape: the web workers only "
        "enqueue the messages of each claim, the RQ workers deliver "
        "them); use a Redis database nothing else uses, the jobs left "
        "in its GRC queues are deleted at the end",
    )
    parser.add_argument(
        "--in-process-jobs",
        action="store_true",
        help="run the app without REDIS_URL, as the embedded default does: "
        "each request then also delivers its messages before answering",
    )
    parser.add_argument(
        "--wsgi",
        default="wsgi:app",
        help="gunicorn application (e.g. a variant on PYTHONPATH, for an A/B run)",
    )
    parser.add_argument(
        "--diagnose",
        action="store_true",
        help="after the search bench, time each SQL statement and EXPLAIN it",
    )
    args = parser.parse_args(argv)
    require_loopback(args.pg_admin)
    if args.in_process_jobs:
        args.redis_url = None
    else:
        require_loopback(args.redis_url)
        require_redis(args.redis_url)

    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = utc_stamp()
    db_url = database_url(args.pg_admin, args.db)
    instance = Path(tempfile.mkdtemp(prefix="grc-bench-"))
    env = production_env(db_url, instance, redis_url=args.redis_url)
    result: dict[str, Any] = {
        "date": stamp,
        "machine": machine(args.pg_admin),
        "options": vars(args),
        "targets": {"claims_per_s": TARGET_CLAIMS_PER_S, "search_p95_ms": TARGET_SEARCH_P95_MS},
    }
    # Other work on this small machine skews every figure: record how busy it was.
    result["load_average_at_start"] = os.getloadavg()

    # One file per database: --reuse-db must find the tokens of the database it reuses.
    tokens_file = RESULTS / f".bench-tokens-{args.db}.json"
    if args.reuse_db and tokens_file.exists():
        tokens = json.loads(tokens_file.read_text())
        log(f"Reusing database {args.db}.")
    else:
        log(
            f"Creating database {args.db}, migrating, loading the demo "
            f"({args.dwellings:,} dwellings, {args.demo_claims:,} claims)…"
        )
        create_database(args.pg_admin, args.db)
        result["migrate_s"], result["demo_load_s"] = seed_demo(
            env, args.dwellings, args.demo_claims, args.seed, show_stdout=True
        )
        tokens = json.loads((instance / "demo-tokens.json").read_text())
        tokens_file.write_text(json.dumps(tokens))
        tokens_file.chmod(0o600)
        log(f"  demo loaded in {result['demo_load_s']:.1f} s.")

    server_log = RESULTS / f"gunicorn-{stamp}.log"
    exit_code = 0
    with gunicorn(env, args.workers, server_log, threads=args.threads, target=args.wsgi) as (
        server,
        address,
    ):
        base_url = f"http://{address}"
        log(
            f"gunicorn: {args.workers} workers"
            + (f" × {args.threads} threads" if args.threads > 1 else " (sync)")
            + f" on {base_url}; "
            + jobs_mode(args.redis_url)
        )
        if not args.skip_intake:
            dwellings, categories = intake_targets(db_url, base_url, tokens["agent"])
            log(
                f"Intake: {args.processes} processes × {args.clients} clients, "
                f"{args.warmup:.0f} s warm-up + {args.duration:.0f} s on {len(dwellings):,} "
                f"occupied dwellings, {len(categories)} categories…"
            )
            intake = bench_intake(
                base_url,
                tokens["agent"],
                dwellings,
                categories,
                args.processes,
                args.clients,
                args.warmup,
                args.duration,
                server.pid,
                args.pg_admin,
                args.db,
            )
            result["intake"] = intake
            lat = intake["latency_s"]
            log(
                f"  {intake['claims_per_s']:.0f} claims/s, p50 {ms(lat, 'p50')} ms, "
                f"p95 {ms(lat, 'p95')} ms, p99 {ms(lat, 'p99')} ms; "
                f"{intake['failed']} failures {intake['failure_kinds'] or ''}"
            )
            log(
                "  CPU ms per claim: "
                + ", ".join(
                    f"{name} {value:.2f}" for name, value in intake["cpu_ms_per_claim"].items()
                )
                + f"; others on the machine {intake['machine_cpu_s']['others']:.1f} CPU-s"
            )
            if intake["failed"]:
                exit_code = 1
        if not args.skip_search:
            if not args.reuse_db:
                log(f"Adding {args.tenants:,} tenants with COPY…")
                result["million"] = load_million(db_url, args.tenants, args.seed)
                log(f"  loaded and analysed in {result['million']['seconds']:.0f} s.")
            mixes = search_queries(db_url, args.queries, args.seed)
            log(
                "Search: "
                + ", ".join(f"{len(q)} {m}" for m, q in mixes.items())
                + " queries, sequential, one client…"
            )
            search = bench_search(base_url, tokens["agent"], mixes, warmup=20)
            result["search"] = search
            for mix, figures in search.items():
                lat = figures["latency_s"]
                log(
                    f"  {mix:<8} p50 {ms(lat, 'p50')} ms, p95 {ms(lat, 'p95')} ms, "
                    f"p99 {ms(lat, 'p99')} ms ({figures['with_results']}/{figures['queries']} "
                    f"with results, {figures['errors']} errors)"
                )
                if figures["errors"]:
                    exit_code = 1
            if args.diagnose:
                result["diagnosis"] = diagnose_search(db_url, mixes, per_mix=100)
    log("gunicorn stopped.")
    if args.redis_url:
        result["redis_jobs_deleted"] = empty_queues(args.redis_url)

    result["load_average_at_end"] = os.getloadavg()
    summary = summarise(result)
    result["summary"] = summary
    write_result("intake", stamp, result, ["Summary", *summary])
    return exit_code


def jobs_mode(redis_url: str | None) -> str:
    if redis_url:
        return f"messages enqueued on {redis_url} (production shape)"
    return "messages delivered in the request (embedded default, --in-process-jobs)"


def summarise(result: dict[str, Any]) -> list[str]:
    start, end = result["load_average_at_start"][0], result["load_average_at_end"][0]
    lines = [
        f"  load average (1 min) {start:.2f} at start, {end:.2f} at end"
        + ("  (machine busy before the bench: figures are pessimistic)" if start > 1.0 else ""),
        f"  jobs: {jobs_mode(result['options']['redis_url'])}",
    ]
    if "intake" in result:
        rate = result["intake"]["claims_per_s"]
        verdict = "OK" if rate >= TARGET_CLAIMS_PER_S else "MISSED"
        lines.append(
            f"  intake: {rate:.0f} claims/s (target ≥ {TARGET_CLAIMS_PER_S}) "
            f"{verdict}; p50 {ms(result['intake']['latency_s'], 'p50')} ms, "
            f"p95 {ms(result['intake']['latency_s'], 'p95')} ms"
        )
    for mix, figures in result.get("search", {}).items():
        p95 = figures["latency_s"]["p95"] * 1000
        verdict = "OK" if p95 < TARGET_SEARCH_P95_MS else "MISSED"
        lines.append(
            f"  search {mix:<8} p50 {ms(figures['latency_s'], 'p50')} ms, "
            f"p95 {p95:.1f} ms, p99 {ms(figures['latency_s'], 'p99')} ms "
            f"(target p95 < {TARGET_SEARCH_P95_MS:.0f} ms) {verdict}"
        )
    return lines


if __name__ == "__main__":
    sys.exit(main())
