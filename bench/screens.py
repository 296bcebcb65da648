#!/usr/bin/env python3
"""The staff screens at scale: what an agent and a unit wait for, over HTTP, with a
million claims (and their events) and a million tenants.

1. creates a fresh database, runs the migrations and loads a small demo landlord (its
   catalogue, units, users with the screens' password, a few thousand claims to copy from);
2. copies in 1,000,000 claims (100,000 open, 10,000 of them overdue: bench/watch.py's
   loader) with a "created" and a "routed" event each, 1,000,000 tenants with their phones
   and leases (bench/intake.py's loader); VACUUM ANALYZE; gives one open claim of the unit
   user's unit 200 timeline events;
3. starts gunicorn (production settings), signs in through the sign-in form as the demo's
   agent and unit user, and times, request after request from one client:
   - the unit queue's first page, sorted by deadline, with one filter (status);
   - the claim page of the claim with 200 events;
   - the tenant card of a typical tenant (the median number of claims), and of the tenant
     with the most claims (the copies pile up to two thousand on one tenant);
   - one keystroke of the console search: part of a phone number, the start of a name,
     a claim reference.

Target: p95 under 50 ms each. Only counts and timings are printed. Run
``python bench/screens.py --help`` for the options; see bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchlib import (  # noqa: E402
    code_state,
    create_database,
    database_url,
    drop_database,
    gunicorn,
    log,
    machine,
    percentiles,
    production_env,
    require_loopback,
    seed_demo,
    utc_stamp,
    write_result,
)

from grc.claims.views import RECENT_EVENTS  # noqa: E402

TARGET_P95_MS = 50.0
TIMELINE_EVENTS = 200
_CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def load_events(db_url: str, claims_from_id: int) -> dict[str, Any]:
    """Two events ("created", "routed") for every copied claim, and 200 on one open claim:
    the claim page's worst ordinary case."""
    started = time.perf_counter()
    with psycopg.connect(db_url) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        for kind in ("created", "routed"):
            conn.execute(
                "INSERT INTO claim_events (claim_id, kind, visibility, body, created_at)"
                " SELECT id, %s, 'internal', NULL, created_at FROM claims WHERE id >= %s",
                (kind, claims_from_id),
            )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM (ANALYZE) claim_events")
        events = conn.execute("SELECT count(*) FROM claim_events").fetchone()[0]
    return {"events": events, "seconds": time.perf_counter() - started}


def busy_claim(db_url: str, unit_email: str) -> dict[str, Any]:
    """An open claim of the unit user's unit with 200 timeline events (made so, if none
    has them yet): the claim page's worst ordinary case."""
    with psycopg.connect(db_url) as conn:
        unit_id = conn.execute(
            "SELECT unit_id FROM users WHERE email = %s", (unit_email,)
        ).fetchone()[0]
        found = conn.execute(
            "SELECT c.reference, count(*) FROM claims c JOIN claim_events e ON e.claim_id = c.id"
            " WHERE c.unit_id = %s AND c.status = 'in_progress' AND c.reference LIKE 'R-%%'"
            " GROUP BY c.reference"
            " HAVING count(*) >= %s LIMIT 1",
            (unit_id, TIMELINE_EVENTS),
        ).fetchone()
        if found is None:
            claim_id, reference = conn.execute(
                "SELECT id, reference FROM claims WHERE unit_id = %s AND status = 'in_progress'"
                " AND reference LIKE 'R-%%'"
                " ORDER BY id DESC LIMIT 1",
                (unit_id,),
            ).fetchone()
            have = conn.execute(
                "SELECT count(*) FROM claim_events WHERE claim_id = %s", (claim_id,)
            ).fetchone()[0]
            missing = max(0, TIMELINE_EVENTS - have)
            conn.execute(
                "INSERT INTO claim_events (claim_id, kind, visibility, body, created_at)"
                " SELECT %s, 'comment', CASE WHEN n %% 3 = 0 THEN 'tenant' ELSE 'internal' END,"
                " 'Point de suivi n° ' || n || ' : le prestataire a été relancé par téléphone.',"
                " now() - (%s - n) * interval '1 hour' FROM generate_series(1, %s) AS n",
                (claim_id, missing, missing),
            )
            found = (reference, have + missing)
        # The oldest event the page shows (it shows the newest RECENT_EVENTS): its earlier
        # events are the link's request.
        oldest_shown = conn.execute(
            "SELECT e.id FROM claim_events e JOIN claims c ON c.id = e.claim_id"
            " WHERE c.reference = %s ORDER BY e.id DESC OFFSET %s LIMIT 1",
            (found[0], RECENT_EVENTS - 1),
        ).fetchone()[0]
    return {"reference": found[0], "events": found[1], "oldest_shown_event": oldest_shown}


def pick_targets(db_url: str, unit_email: str) -> dict[str, Any]:
    """What the requests ask for: the unit of the demo's unit user, the tenant with the most
    claims, a phone number, a name and a reference to type."""
    with psycopg.connect(db_url) as conn:
        unit_code = conn.execute(
            "SELECT u.code FROM users JOIN treatment_units u ON u.id = users.unit_id"
            " WHERE users.email = %s",
            (unit_email,),
        ).fetchone()[0]
        per_tenant = conn.execute(
            "SELECT tenant_id, count(*) FROM claims WHERE tenant_id IS NOT NULL"
            " GROUP BY tenant_id ORDER BY count(*), tenant_id"
        ).fetchall()
        typical_id, typical_claims = per_tenant[len(per_tenant) // 2]
        tenant_id, tenant_claims = per_tenant[-1]
        phone = conn.execute(
            "SELECT number FROM tenant_phones WHERE kind = 'mobile' ORDER BY id DESC LIMIT 1"
        ).fetchone()[0]
        last_name = conn.execute(
            "SELECT last_name FROM tenants ORDER BY id DESC LIMIT 1"
        ).fetchone()[0]
        reference = conn.execute(
            "SELECT reference FROM claims WHERE tenant_id IS NOT NULL ORDER BY id LIMIT 1"
        ).fetchone()[0]
    national = "0" + phone.removeprefix("+33")
    return {
        "unit_code": unit_code,
        "tenant_id": tenant_id,
        "tenant_claims": tenant_claims,
        "typical_tenant_id": typical_id,
        "typical_tenant_claims": typical_claims,
        # What an agent types: the caller's number as read out, in part; a name's start.
        "searches": {
            "phone_part": f"{national[:2]} {national[2:4]} {national[4:6]} {national[6:8]}",
            "name_start": last_name[:4],
            "reference": reference,
        },
    }


def signed_in_client(base: str, email: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    form = client.get("/sign-in").text
    token = _CSRF_FIELD.search(form)
    if token is None:
        raise SystemExit("no CSRF token on the sign-in page")
    answer = client.post(
        "/sign-in", data={"email": email, "password": password, "csrf_token": token.group(1)}
    )
    if answer.status_code != 302:
        raise SystemExit(f"sign-in as {email} answered {answer.status_code}")
    return client


def time_requests(
    client: httpx.Client, path: str, rounds: int, warmup: int, headers: dict[str, str]
) -> dict[str, Any]:
    for _ in range(warmup):
        client.get(path, headers=headers)
    samples = []
    statuses: dict[int, int] = {}
    size = 0
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        size = len(response.content)
    return {
        "path_kind": path.split("?")[0],
        "ms": percentiles(samples),
        "statuses": statuses,
        "bytes": size,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--db", default="grc_bench_screens", help="database to (re)create")
    parser.add_argument(
        "--pg-admin",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="URL of a database to connect to for CREATE DATABASE",
    )
    parser.add_argument("--dwellings", type=int, default=5_000, help="demo landlord's size")
    parser.add_argument("--demo-claims", type=int, default=3_000, help="claims to copy from")
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=100_000, help="open claims among them")
    parser.add_argument("--overdue", type=int, default=10_000, help="overdue among the open")
    parser.add_argument("--tenants", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=200, help="timed requests per screen")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--reuse", action="store_true", help="time an existing database of a previous --keep run"
    )
    args = parser.parse_args(argv)
    require_loopback(args.pg_admin)

    from intake import load_million
    from watch import load_claims

    stamp = utc_stamp()
    db_url = database_url(args.pg_admin, args.db)
    instance = Path(tempfile.mkdtemp(prefix="grc-bench-screens-"))
    # Production settings, but the session cookie also travels over the loopback's HTTP.
    env = production_env(
        db_url, instance, drop_prefixes=("SENDGRID_", "TWILIO_"), GRC_SECURE_COOKIES="false"
    )
    result: dict[str, Any] = {
        "date": stamp,
        "code": code_state(),
        "machine": machine(args.pg_admin),
        "options": vars(args),
        "target_p95_ms": TARGET_P95_MS,
        "load_average_at_start": os.getloadavg(),
    }
    accounts_file = Path(tempfile.gettempdir()) / f"{args.db}-accounts.json"
    if not args.reuse:
        log(f"Creating {args.db}, migrations, demo landlord ({args.dwellings:,} dwellings)…")
        create_database(args.pg_admin, args.db)
        seed_demo(env, args.dwellings, args.demo_claims, args.seed)
        accounts_file.write_text((instance / "demo-accounts.json").read_text())
        with psycopg.connect(db_url) as conn:
            first_copy = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM claims").fetchone()[0]
        log(f"Copying {args.claims:,} claims and {args.tenants:,} tenants…")
        result["claims"] = load_claims(db_url, args.claims, args.open, args.overdue, args.seed)
        result["tenants"] = load_million(db_url, args.tenants, args.seed)
        result["events"] = load_events(db_url, first_copy)
        log(
            f"Loaded: {result['claims']['claims']:,} claims, {result['events']['events']:,} "
            f"events, tenants in {result['tenants'].get('seconds', 0):.0f} s"
        )
    accounts = json.loads(accounts_file.read_text())
    result["busy_claim"] = busy_claim(db_url, accounts["unit"])
    targets = pick_targets(db_url, accounts["unit"])
    result["targets"] = targets
    paths = {
        "unit_queue": f"/unit/{targets['unit_code']}?status=assigned",
        "claim_page": f"/claims/{result['busy_claim']['reference']}",
        "tenant_card": f"/console/tenants/{targets['typical_tenant_id']}",
        "claim_page_earlier_events": f"/claims/{result['busy_claim']['reference']}/events"
        f"?before={result['busy_claim']['oldest_shown_event']}",
        "tenant_card_busiest": f"/console/tenants/{targets['tenant_id']}",
        **{
            f"search_{kind}": "/console?" + str(httpx.QueryParams({"q": text}))
            for kind, text in targets["searches"].items()
        },
    }
    result["load_average_before_runs"] = os.getloadavg()
    timings: dict[str, Any] = {}
    with gunicorn(env, args.workers, instance / "gunicorn.log") as (_, address):
        base = f"http://{address}"
        agent = signed_in_client(base, accounts["agent"], accounts["password"])
        unit = signed_in_client(base, accounts["unit"], accounts["password"])
        htmx = {"HX-Request": "true"}
        for name, path in paths.items():
            client = unit if name.startswith(("unit_queue", "claim_page")) else agent
            headers = htmx if name.startswith(("search_", "claim_page_earlier")) else {}
            timings[name] = time_requests(client, path, args.rounds, args.warmup, headers)
            log(
                f"{name}: p95 {timings[name]['ms']['p95']:.1f} ms, p50 "
                f"{timings[name]['ms']['p50']:.1f} ms, {timings[name]['statuses']}"
            )
    result["timings"] = timings
    result["load_average_after_runs"] = os.getloadavg()
    if not args.keep:
        drop_database(args.pg_admin, args.db)
    ok = all(
        t["ms"]["p95"] < TARGET_P95_MS and set(t["statuses"]) == {200}
        for name, t in timings.items()
        # Shown, not targets: no real tenant has 2,000 claims; the earlier events of a long
        # timeline come on demand, after the page.
        if name not in ("tenant_card_busiest", "claim_page_earlier_events")
    )
    summary = [
        f"{name}: p95 {t['ms']['p95']:.1f} ms (p50 {t['ms']['p50']:.1f})"
        for name, t in timings.items()
    ]
    summary.append("targets met" if ok else "TARGETS MISSED")
    write_result("screens", stamp, result, summary)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
