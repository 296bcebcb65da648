"""The managers' reports at a large landlord's scale, on PostgreSQL.

Loads the demo landlord, then ``--claims`` claims (2,000,000 by default: ten years of the
largest landlords) with their timelines, written by INSERT … SELECT, each a copy of a demo
claim (its place, tenant, category, route) at its own moments: resolved and closed, or
cancelled, or open in the last two months, some of them paused once waiting for the tenant;
with further calls on one claim in ten, the call centre's calls (``--calls``) and a
satisfaction survey answered for three resolved claims in ten.

Then measures the claims' handling times as an upgrade would (the job ``measure_handling``
until none is left, timed), and times every report of ``grc.reports.reports.REPORTS`` and
the dashboard's figures for one full year, across the whole landlord and for one agency
(``--runs`` times each). Prints counts and timings only.

    .venv/bin/python bench/reports.py          # about 10 minutes; --help for the options
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import benchlib

TARGET_MS = 1000.0

# Each claim copies a demo claim with a tenant; its moments are its own. Ten years to
# --until; claims of the last 60 days are partly still open. Rows are written in time
# order, as a live database receives them: a period's claims, events and calls lie
# together on disk, which is what lets a year be read by its index.
CLAIMS = """
CREATE TEMPORARY TABLE templates AS
    SELECT row_number() OVER (ORDER BY id) AS n, * FROM claims WHERE tenant_id IS NOT NULL;
INSERT INTO claims (
    reference, status, channel, priority, category_id, description, tenant_id, location_kind,
    dwelling_id, equipment_id, building_id, residence_id, agency_id, route_kind,
    route_reason_code, route_reason, unit_id, contractor_id, contract_id, sla_clock,
    response_due, resolution_due, responded_at, paused_at, status_before_pause, resolved_at,
    closed_at, cancelled_at, first_contact_resolution, resolution, created_by_id, created_at,
    updated_at)
SELECT 'BR-' || g.i, s.status, t.channel, t.priority, t.category_id, t.description, t.tenant_id,
    t.location_kind, t.dwelling_id, t.equipment_id, t.building_id, t.residence_id, t.agency_id,
    t.route_kind, t.route_reason_code, t.route_reason, t.unit_id, t.contractor_id,
    t.contract_id, t.sla_clock, g.created + interval '4 hours', g.created + interval '72 hours',
    CASE WHEN s.status NOT IN ('assigned', 'cancelled') THEN g.responded END,
    CASE WHEN s.status = 'waiting_tenant' THEN g.responded + interval '1 hour' END,
    CASE WHEN s.status = 'waiting_tenant' THEN 'in_progress' END,
    CASE WHEN s.status IN ('resolved', 'closed') THEN g.resolved END,
    CASE WHEN s.status = 'closed' THEN g.resolved + interval '14 days' END,
    CASE WHEN s.status = 'cancelled' THEN g.created + interval '2 hours' END,
    s.status = 'resolved' AND g.r4 < 0.05 AND g.created < :until - interval '60 days',
    CASE WHEN s.status IN ('resolved', 'closed') THEN t.resolution END,
    t.created_by_id, g.created, g.created
FROM (
    SELECT i, random() AS r1, random() AS r4, created,
           created + random() * interval '8 hours' AS responded,
           created + interval '8 hours' + random() * interval '200 hours' AS resolved,
           random() AS r5
    FROM (SELECT i, :until - random() * interval '3652 days' AS created
          FROM generate_series(1, :claims) AS i) AS moments
) AS g
CROSS JOIN LATERAL (
    SELECT CASE
        WHEN g.r5 < 0.03 THEN 'cancelled'
        WHEN g.created >= :until - interval '60 days' AND g.r5 < 0.15 THEN 'assigned'
        WHEN g.created >= :until - interval '60 days' AND g.r5 < 0.30 THEN 'in_progress'
        WHEN g.created >= :until - interval '60 days' AND g.r5 < 0.35 THEN 'waiting_tenant'
        WHEN g.resolved >= :until THEN 'in_progress'
        WHEN g.created >= :until - interval '30 days' THEN 'resolved'
        ELSE 'closed' END AS status
) AS s
JOIN templates t ON t.n = 1 + (g.r1 * (SELECT count(*) FROM templates))::int
    % (SELECT count(*) FROM templates)
ORDER BY g.created;
"""

# The timeline the reports and the handling-time measure read: receipt, the first step,
# one pause in twenty (closed one day later, or still under way), the resolution and
# closing, or the cancellation.
EVENTS = """
INSERT INTO claim_events (claim_id, kind, action, from_status, to_status, visibility,
                          created_at)
SELECT c.id, e.kind, e.action, e.from_status, e.to_status, 'internal', e.at
FROM claims c
CROSS JOIN LATERAL (VALUES
    ('created', NULL, NULL, 'assigned', c.created_at, true),
    ('status_changed', 'start', 'assigned', 'in_progress', c.responded_at,
        c.responded_at IS NOT NULL),
    ('status_changed', 'wait_tenant', 'in_progress', 'waiting_tenant',
        coalesce(c.paused_at, c.responded_at + interval '1 hour'),
        c.paused_at IS NOT NULL
        OR (c.resolved_at IS NOT NULL AND c.id % 20 = 0
            AND c.resolved_at > c.responded_at + interval '25 hours')),
    ('status_changed', 'resume', 'waiting_tenant', 'in_progress',
        c.responded_at + interval '25 hours',
        c.paused_at IS NULL AND c.resolved_at IS NOT NULL AND c.id % 20 = 0
        AND c.resolved_at > c.responded_at + interval '25 hours'),
    ('status_changed', 'resolve', 'in_progress', 'resolved', c.resolved_at,
        c.resolved_at IS NOT NULL),
    ('status_changed', 'close', 'resolved', 'closed', c.closed_at, c.closed_at IS NOT NULL),
    ('status_changed', 'cancel', 'assigned', 'cancelled', c.cancelled_at,
        c.cancelled_at IS NOT NULL)
) AS e(kind, action, from_status, to_status, at, present)
WHERE c.reference LIKE 'BR-%' AND e.present
ORDER BY e.at;
"""

CALLERS = """
INSERT INTO claim_callers (claim_id, tenant_id, channel, called_at, recorded_by_id)
SELECT c.id, c.tenant_id, 'phone', c.created_at + interval '1 day',
       (SELECT id FROM users WHERE role = 'agent' ORDER BY id LIMIT 1)
FROM claims c WHERE c.reference LIKE 'BR-%' AND c.id % 10 = 3;
"""

CALLS = """
INSERT INTO calls (call_sid, caller_number, called_number, received_at, status, taken_at,
                   taken_by_id, ended_at, wait_seconds, duration_seconds)
SELECT 'CB' || g.i, '+33387000000', '+33387111111', g.received,
       CASE WHEN g.r < 0.9 THEN 'answered' ELSE 'abandoned' END,
       CASE WHEN g.r < 0.9 THEN g.received + g.wait * interval '1 second' END,
       CASE WHEN g.r < 0.9 THEN a.id END,
       g.received + (g.wait + g.talk) * interval '1 second',
       g.wait, g.wait + g.talk
FROM (SELECT i, :until - random() * interval '3652 days' AS received, random() AS r,
             (random() * 120)::int AS wait, (60 + random() * 400)::int AS talk,
             random() AS pick
      FROM generate_series(1, :calls) AS i) AS g
JOIN (SELECT row_number() OVER (ORDER BY id) AS n, id FROM users WHERE role = 'agent') AS a
    ON a.n = 1 + (g.pick * (SELECT count(*) FROM users WHERE role = 'agent'))::int
        % (SELECT count(*) FROM users WHERE role = 'agent')
ORDER BY g.received;
"""

SURVEYS = """
INSERT INTO surveys (claim_id, resolution_number, tenant_id, contractor_id, channel, recipient,
                     locale, status, planned_for, sent_at, answered_at, score, not_done,
                     needs_person, created_at)
SELECT c.id, 1, c.tenant_id, c.contractor_id, 'sms', '+33600000000', 'fr', 'answered',
       c.resolved_at + interval '2 hours', c.resolved_at + interval '2 hours',
       c.resolved_at + interval '5 hours', 1 + (c.id % 5), false, false, c.resolved_at
FROM claims c
WHERE c.reference LIKE 'BR-%' AND c.resolved_at IS NOT NULL AND c.id % 10 IN (1, 4, 7);
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-admin", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--db", default="grc_bench_reports")
    parser.add_argument("--dwellings", type=int, default=20000)
    parser.add_argument("--claims", type=int, default=2_000_000)
    parser.add_argument("--calls", type=int, default=1_500_000)
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--reuse", action="store_true", help="time the reports of a database kept by --keep"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    benchlib.require_loopback(args.pg_admin, "PostgreSQL")
    stamp = benchlib.utc_stamp()
    if not args.reuse:
        benchlib.create_database(args.pg_admin, args.db)
    result: dict[str, Any] = {"args": vars(args), "code": benchlib.code_state()}
    try:
        with tempfile.TemporaryDirectory() as instance:
            env = benchlib.production_env(
                benchlib.database_url(args.pg_admin, args.db), Path(instance)
            )
            if not args.reuse:
                migrate_s, demo_s = benchlib.seed_demo(env, args.dwellings, 800, seed=7)
                benchlib.log(f"migrated in {migrate_s:.1f} s, demo loaded in {demo_s:.1f} s")
            benchlib.adopt_env(env)
            result["machine"] = benchlib.machine(args.pg_admin)
            result.update(measure(args))
    finally:
        if not args.keep:
            benchlib.drop_database(args.pg_admin, args.db)
    timings = result["timings"]
    summary = [
        f"{name}: p50 {t['p50']:.0f} ms, p95 {t['p95']:.0f} ms" for name, t in timings.items()
    ]
    if "measure_handling_s" in result:
        summary.insert(0, f"handling times measured in {result['measure_handling_s']:.0f} s")
    benchlib.write_result("reports", stamp, result, summary)
    missed = [name for name, t in timings.items() if t["p95"] >= TARGET_MS]
    print("every report under 1 s at p95" if not missed else f"missed: {', '.join(missed)}")


def _load(args: argparse.Namespace) -> dict[str, Any]:
    from grc.extensions import db
    from workers.jobs import measure_handling

    until = datetime(args.year + 1, 12, 6, tzinfo=UTC)
    found: dict[str, Any] = {}
    for name, sql, params in (
        ("claims", CLAIMS, {"claims": args.claims, "until": until}),
        ("events", EVENTS, {}),
        ("callers", CALLERS, {}),
        ("calls", CALLS, {"calls": args.calls, "until": until}),
        ("surveys", SURVEYS, {}),
    ):
        started = time.perf_counter()
        for statement in sql.split(";"):
            if statement.strip():
                db.session.execute(sa.text(statement), params)
        db.session.commit()
        found[f"load_{name}_s"] = round(time.perf_counter() - started, 1)
        benchlib.log(f"{name} written in {found[f'load_{name}_s']} s")
    _vacuum()
    # What an upgrade does once: every claim responded to or resolved gets its handling times.
    started = time.perf_counter()
    outcome = measure_handling(until_done=True)
    found["measure_handling_s"] = round(time.perf_counter() - started, 1)
    benchlib.log(f"handling times: {outcome} in {found['measure_handling_s']} s")
    _vacuum()
    return found


def _vacuum() -> None:
    """What autovacuum does on a live database: statistics and the visibility map."""
    from grc.extensions import db

    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))


def measure(args: argparse.Namespace) -> dict[str, Any]:
    from grc import create_app
    from grc.extensions import db
    from grc.reports import filters as report_filters
    from grc.reports import reports

    app = create_app()
    result: dict[str, Any] = {}
    with app.app_context():
        if not args.reuse:
            result.update(_load(args))
        session = db.session
        result["counts"] = dict(
            session.execute(
                sa.text(
                    "SELECT 'claims', count(*) FROM claims UNION ALL "
                    "SELECT 'claim_events', count(*) FROM claim_events UNION ALL "
                    "SELECT 'claim_callers', count(*) FROM claim_callers UNION ALL "
                    "SELECT 'calls', count(*) FROM calls UNION ALL "
                    "SELECT 'surveys', count(*) FROM surveys UNION ALL "
                    "SELECT 'claims_of_the_year', count(*) FROM claims "
                    "WHERE created_at >= :start AND created_at < :end"
                ),
                {
                    "start": datetime(args.year, 1, 1, tzinfo=UTC),
                    "end": datetime(args.year + 1, 1, 1, tzinfo=UTC),
                },
            ).all()
        )
        # The agency with most claims: the slowest of the agencies.
        agency = session.execute(
            sa.text(
                "SELECT a.code FROM agencies a JOIN claims c ON c.agency_id = a.id "
                "GROUP BY a.code ORDER BY count(*) DESC LIMIT 1"
            )
        ).scalar_one()
        result["agency"] = agency
        year = {"from": f"{args.year}-01-01", "to": f"{args.year}-12-31"}
        scopes = {"landlord": year, "agency": {**year, "agency": agency}}
        now = datetime.now(UTC)
        samples: dict[str, list[float]] = {}
        rows: dict[str, int] = {}
        for _ in range(args.runs):
            for scope, query in scopes.items():
                filters = report_filters.load(session, query)
                for name in reports.REPORTS:
                    started = time.perf_counter()
                    table = reports.run(name, session, filters, now)
                    elapsed = (time.perf_counter() - started) * 1000
                    samples.setdefault(f"{name} ({scope})", []).append(elapsed)
                    rows[f"{name} ({scope})"] = len(table.rows)
                    session.rollback()
                started = time.perf_counter()
                reports.dashboard_totals(session, filters, now)
                samples.setdefault(f"dashboard ({scope})", []).append(
                    (time.perf_counter() - started) * 1000
                )
                session.rollback()
        result["rows"] = rows
        result["timings"] = {
            name: {
                "p50": statistics.median(values),
                "p95": benchlib.percentiles(values)["p95"],
                "max": max(values),
            }
            for name, values in samples.items()
        }
    return result


if __name__ == "__main__":
    main()
