"""The CUS indicators of one year at a large landlord's scale, on PostgreSQL.

Loads the demo landlord, then ``--claims`` claims (2,000,000 by default) spread over ten
years, ``--lift-share`` of them on lifts, written by one INSERT … SELECT (no timeline:
the indicators read none), and times ``cus_indicators`` for one full year, every agency
and the landlord (``--runs`` times): the lift breakdowns, the response counts and the
whole. Prints counts and timings only.

    .venv/bin/python bench/cus.py              # about 3 minutes; --help for the options
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import benchlib

INSERT = """
WITH lifts AS (
    SELECT row_number() OVER (ORDER BY e.id) AS n, e.id AS equipment_id,
           b.id AS building_id, r.id AS residence_id, r.agency_id
    FROM equipment e JOIN buildings b ON b.id = e.building_id
    JOIN residences r ON r.id = b.residence_id WHERE e.kind = 'elevator'),
places AS (
    SELECT row_number() OVER (ORDER BY b.id) AS n, b.id AS building_id,
           r.id AS residence_id, r.agency_id
    FROM buildings b JOIN residences r ON r.id = b.residence_id),
counts AS (SELECT (SELECT count(*) FROM lifts) AS lifts, (SELECT count(*) FROM places) AS places),
template AS (SELECT * FROM claims WHERE status IN ('resolved', 'closed') ORDER BY id LIMIT 1),
g AS (
    SELECT i, random() < :lift_share AS on_lift, random() AS r1, random() AS r2, random() AS r3,
           timestamptz '2016-01-01 00:00+00' + random() * interval '3653 days' AS created
    FROM generate_series(1, :claims) AS i),
picked AS (
    SELECT g.*,
           CASE WHEN g.on_lift THEN l.equipment_id END AS equipment_id,
           coalesce(l.building_id, p.building_id) AS building_id,
           coalesce(l.residence_id, p.residence_id) AS residence_id,
           coalesce(l.agency_id, p.agency_id) AS agency_id
    FROM g CROSS JOIN counts
    LEFT JOIN lifts l ON g.on_lift AND l.n = 1 + floor(g.r1 * counts.lifts)::int
    LEFT JOIN places p ON NOT g.on_lift AND p.n = 1 + floor(g.r1 * counts.places)::int)
INSERT INTO claims (
    reference, status, channel, priority, category_id, description, location_kind,
    equipment_id, building_id, residence_id, agency_id, route_kind, route_reason_code,
    route_reason, unit_id, contractor_id, contract_id, sla_clock, response_due,
    resolution_due, responded_at, resolved_at, first_contact_resolution, resolution,
    created_at, updated_at)
SELECT 'B-' || picked.i, 'resolved', t.channel, t.priority, t.category_id, t.description,
    CASE WHEN picked.on_lift THEN 'equipment' ELSE 'building' END,
    picked.equipment_id, picked.building_id, picked.residence_id, picked.agency_id,
    t.route_kind, t.route_reason_code, t.route_reason, t.unit_id, t.contractor_id,
    t.contract_id, t.sla_clock, picked.created + interval '4 hours',
    picked.created + interval '72 hours', picked.created + picked.r2 * interval '8 hours',
    picked.created + interval '8 hours' + picked.r3 * interval '40 hours', false,
    t.resolution, picked.created, picked.created
FROM picked CROSS JOIN template t
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-admin", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--db", default="grc_bench_cus")
    parser.add_argument("--dwellings", type=int, default=20000)
    parser.add_argument("--claims", type=int, default=2_000_000)
    parser.add_argument("--lift-share", type=float, default=0.03)
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    benchlib.require_loopback(args.pg_admin, "PostgreSQL")
    stamp = benchlib.utc_stamp()
    benchlib.create_database(args.pg_admin, args.db)
    result: dict[str, object] = {"args": vars(args), "code": benchlib.code_state()}
    try:
        with tempfile.TemporaryDirectory() as instance:
            env = benchlib.production_env(
                benchlib.database_url(args.pg_admin, args.db), Path(instance)
            )
            migrate_s, demo_s = benchlib.seed_demo(env, args.dwellings, 200, seed=7)
            benchlib.log(f"migrated in {migrate_s:.1f} s, demo loaded in {demo_s:.1f} s")
            benchlib.adopt_env(env)
            result.update(measure(args))
    finally:
        if not args.keep:
            benchlib.drop_database(args.pg_admin, args.db)
    timings = result["timings"]
    assert isinstance(timings, dict)
    summary = [
        f"{name}: p50 {t['p50']:.0f} ms, p95 {t['p95']:.0f} ms" for name, t in timings.items()
    ]
    benchlib.write_result("cus", stamp, result, summary)


def measure(args: argparse.Namespace) -> dict[str, object]:
    from grc import create_app
    from grc.clock import settings
    from grc.cus import indicators, queries
    from grc.extensions import db

    app = create_app()
    with app.app_context():
        started = time.perf_counter()
        db.session.execute(sa.text(INSERT), {"claims": args.claims, "lift_share": args.lift_share})
        db.session.commit()
        load_s = time.perf_counter() - started
        # What autovacuum does on a live database: statistics, and the visibility map that
        # lets the lift claims be read from the index alone.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
        benchlib.log(f"{args.claims} claims written in {load_s:.1f} s")
        counts = dict(
            db.session.execute(
                sa.text(
                    "SELECT 'claims', count(*) FROM claims UNION ALL "
                    "SELECT 'lift_claims', count(*) FROM claims c JOIN equipment e "
                    "ON e.id = c.equipment_id AND e.kind = 'elevator' UNION ALL "
                    "SELECT 'lifts', count(*) FROM equipment WHERE kind = 'elevator' "
                    "UNION ALL SELECT 'agencies', count(*) FROM agencies"
                )
            ).all()
        )
        tz = settings().tz
        now = datetime.now(UTC)
        start, end = indicators.year_bounds(args.year, tz)
        samples: dict[str, list[float]] = {"breakdowns": [], "responses": [], "whole": []}
        report = None
        for _ in range(args.runs):
            t0 = time.perf_counter()
            breakdowns = list(indicators.year_breakdowns(db.session, start, end))
            t1 = time.perf_counter()
            queries.response_counts(db.session, start, end, now)
            t2 = time.perf_counter()
            report = indicators.cus_indicators(db.session, args.year, tz, now)
            t3 = time.perf_counter()
            db.session.rollback()
            samples["breakdowns"].append((t1 - t0) * 1000)
            samples["responses"].append((t2 - t1) * 1000)
            samples["whole"].append((t3 - t2) * 1000)
        assert report is not None
        return {
            "load_s": load_s,
            "counts": counts,
            "year": {
                "breakdowns": len(breakdowns),
                "long": report.landlord.breakdowns.long_breakdowns,
                "claims": report.landlord.response.claims,
            },
            "timings": {
                name: {
                    "p50": statistics.median(values),
                    "p95": benchlib.percentiles(values)["p95"],
                    "max": max(values),
                }
                for name, values in samples.items()
            },
        }


if __name__ == "__main__":
    main()
