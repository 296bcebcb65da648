#!/usr/bin/env python3
"""Exports at scale: an XLSX of 100,000 claims and a CSV of 1,000,000, written by the export
job (``workers.jobs.run_export``: rows read in batches, progress committed every batch).

1. creates a fresh database, runs the migrations and loads a small demo landlord;
2. adds 1,000,000 claims with COPY (``bench/watch.py``'s loader), 100,000 of them open;
3. runs each export in a process of its own, started for it, so that its peak resident
   memory is the export's alone, with the application loaded: the XLSX of the
   open claims (the claim list's default filter: about 100,000 rows), then the CSV of every
   claim (``status=all``: about 1,000,000 rows). Each process reports its wall and CPU time,
   its resident memory once the application is loaded, the peak during the export (VmHWM,
   reset once the application is loaded) and the process's peak (``ru_maxrss``, start-up
   included).

The machine may be shared: the load average is recorded before and after each export.
Targets: XLSX under 15 s and under 200 MB peak; CSV under 100 MB peak. Run ``python
bench/exports.py --help`` for the options; see bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchlib import (  # noqa: E402
    code_state,
    create_database,
    database_url,
    log,
    machine,
    production_env,
    require_loopback,
    seed_demo,
    utc_stamp,
    write_result,
)

TARGETS = {"xlsx_seconds": 15.0, "xlsx_peak_mb": 200.0, "csv_peak_mb": 100.0}


def _status_mb(field: str) -> float:
    """A figure of /proc/self/status (VmRSS: resident now; VmHWM: its peak), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _reset_peak() -> bool:
    """Start the peak (VmHWM) again from the resident memory now (Linux 4.0+)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def child(fmt: str, args: dict[str, str]) -> dict[str, Any]:
    """In the process started for one export: ask for it as the demo's manager, then run
    the job as a worker would."""
    from grc import create_app
    from grc.db import utcnow
    from grc.exports import operations, registry
    from grc.exports.models import ExportFormat, ExportJob
    from grc.extensions import db
    from grc.people.models import Role, User
    from workers.jobs import run_export

    app = create_app()
    with app.app_context():
        import sqlalchemy as sa

        manager = db.session.execute(
            sa.select(User).where(User.role == Role.MANAGER).limit(1)
        ).scalar_one()
        source = registry.get("claims")
        request = source.parse(db.session, manager, args)
        job, _ = operations.request_export(
            db.session, manager, source, request, ExportFormat(fmt), "fr", utcnow()
        )
        db.session.commit()
        job_id = job.id
        db.session.remove()
        # The start-up's own peak (the sign-in's dummy Argon2 hash, 64 MiB, drawn by
        # create_app and freed) is kept apart: the export's peak is measured from here.
        startup_peak_mb = _status_mb("VmHWM")
        loaded_mb = _status_mb("VmRSS")
        reset = _reset_peak()
        cpu = time.process_time()
        started = time.perf_counter()
        outcome = run_export(job_id)
        seconds = time.perf_counter() - started
        cpu_s = time.process_time() - cpu
        done = db.session.get_one(ExportJob, job_id)
        path = operations.exports_directory(app) / str(done.file_name)
        size = path.stat().st_size if path.exists() else None
    return {
        "format": fmt,
        "args": args,
        "outcome": outcome,
        "rows": done.rows_done,
        "seconds": seconds,
        "cpu_seconds": cpu_s,
        "file_mb": size / 2**20 if size else None,
        "rss_loaded_mb": loaded_mb,
        "startup_peak_rss_mb": startup_peak_mb,
        "export_peak_rss_mb": _status_mb("VmHWM") if reset else None,
        # Resetting VmHWM resets ru_maxrss too: the process's peak is the larger of the two.
        "process_peak_rss_mb": max(
            startup_peak_mb, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        ),
    }


def run_child(env: dict[str, str], fmt: str, args: dict[str, str]) -> dict[str, Any]:
    load_before = os.getloadavg()
    done = subprocess.run(
        [sys.executable, __file__, "--child", fmt, json.dumps(args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"the {fmt} export failed")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["load_average_before"] = load_before
    result["load_average_after"] = os.getloadavg()
    log(
        f"{fmt}: {result['rows']:,} rows in {result['seconds']:.1f} s "
        f"(CPU {result['cpu_seconds']:.1f} s); RSS: app loaded {result['rss_loaded_mb']:.0f} MB, "
        f"peak during the export {result['export_peak_rss_mb']:.0f} MB, process peak "
        f"{result['process_peak_rss_mb']:.0f} MB (start-up {result['startup_peak_rss_mb']:.0f}"
        f" MB); file {result['file_mb']:.0f} MB; load {load_before[0]:.1f} → "
        f"{result['load_average_after'][0]:.1f}"
    )
    return result


def main(argv: list[str] | None = None) -> int:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2], json.loads(sys.argv[3])), default=str))
        return 0
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--db", default="grc_bench_exports", help="database to (re)create")
    parser.add_argument(
        "--pg-admin",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="URL of a database to connect to for CREATE DATABASE",
    )
    parser.add_argument("--dwellings", type=int, default=5_000, help="demo landlord's size")
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=100_000, help="open claims among them")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reuse", action="store_true", help="keep the database loaded before")
    args = parser.parse_args(argv)
    require_loopback(args.pg_admin)

    from watch import load_claims

    stamp = utc_stamp()
    db_url = database_url(args.pg_admin, args.db)
    instance = Path(tempfile.mkdtemp(prefix="grc-bench-exports-"))
    env = production_env(db_url, instance)
    result: dict[str, Any] = {
        "date": stamp,
        "code": code_state(),
        "machine": machine(args.pg_admin),
        "options": vars(args),
        "targets": TARGETS,
        "load_average_at_start": os.getloadavg(),
    }
    if not args.reuse:
        log(f"Creating {args.db}, migrations, demo landlord ({args.dwellings:,} dwellings)…")
        create_database(args.pg_admin, args.db)
        seed_demo(env, args.dwellings, 300, args.seed)
        log(f"Copying {args.claims:,} claims ({args.open:,} open)…")
        result["data"] = load_claims(db_url, args.claims, args.open, 0, args.seed)
        log(f"Loaded: {result['data']}")
    # A job left running by an interrupted run would be found again (one active job per
    # request): the bench's own database starts each run without any.
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("DELETE FROM export_jobs")
    result["xlsx"] = run_child(env, "xlsx", {})
    result["csv"] = run_child(env, "csv", {"status": "all"})
    result["load_average_at_end"] = os.getloadavg()
    # Against the process's peak, start-up included: what a worker's host must provide.
    met = {
        "xlsx_seconds": result["xlsx"]["seconds"] < TARGETS["xlsx_seconds"],
        "xlsx_peak_mb": result["xlsx"]["process_peak_rss_mb"] < TARGETS["xlsx_peak_mb"],
        "csv_peak_mb": result["csv"]["process_peak_rss_mb"] < TARGETS["csv_peak_mb"],
    }
    result["met"] = met
    write_result(
        "exports",
        stamp,
        result,
        [f"{name}: {'met' if ok else 'MISSED'}" for name, ok in met.items()],
    )
    return 0 if all(met.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
