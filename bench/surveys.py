#!/usr/bin/env python3
"""Surveys and supplier ratings at scale: every contractor's ratings over a million claims,
and tenants' SMS answers through the signed Twilio webhook.

1. creates a fresh database, runs the migrations and loads a small demo landlord (its
   catalogue, agencies, contractors and contracts, a few thousand claims to copy from);
2. copies in, over the last ``--quarters`` quarters, 1,000,000 closed claims routed to a
   contractor, each with its done work order (on time or late, per contractor), five
   timeline events and, for 4 %, a reopening after the work was done; a survey for 90 % of
   them, 300,000 answered (3 % "not done"), the others expired; 1,000,000 tenants with
   their phones and leases (bench/intake.py's loader); VACUUM ANALYZE;
3. ratings: times ``grc.ratings.operations.compute_period`` in-process (read the facts,
   compute, replace the period's stored rows, commit) for the last complete quarter and for
   its last month, several runs each: wall time, and CPU of Python and of the PostgreSQL
   backend;
4. SMS: creates ``--sms`` resolved claims, each with its survey sent to a tenant of its own
   (a distinct mobile number), starts gunicorn (production settings, Redis for the jobs),
   posts one signed answer per survey ("4", "quatre", "5 merci beaucoup", 5 % "pas fait",
   …) from ``--clients`` threads, then checks in the database that every answer was stored
   once, counted once and read as written, that a repeated post changes nothing and that a
   forged one is refused.

Only counts and timings are printed. Run ``python bench/surveys.py --help`` for the options;
see bench/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import secrets
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from array import array
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchlib import (  # noqa: E402
    CLK_TCK,
    RESULTS,
    adopt_env,
    backend_cpu,
    code_state,
    cpu_delta,
    create_database,
    database_url,
    drop_database,
    empty_queues,
    gunicorn,
    log,
    machine,
    percentiles,
    production_env,
    require_loopback,
    seed_demo,
    system_cpu,
    utc_stamp,
    write_result,
)

from contractors.rating import Period, PeriodKind, period_containing  # noqa: E402

TARGET_RATINGS_S = 2.0
TARGET_ANSWERS_PER_S = 250.0
INBOUND_PATH = "/webhooks/twilio/inbound"
PUBLIC_URL = "https://grc.example.org"
TWILIO_SID = "AC" + "0" * 32
TWILIO_FROM = "+33700000000"
# The answers tenants send, with what they must be read as: a score, or "not done".
SCORE_ANSWERS = (
    ("5", 5),
    ("4", 4),
    (" 5 ", 5),
    ("4/5", 4),
    ("5/5", 5),
    ("quatre", 4),
    ("cinq", 5),
    ("5 merci beaucoup", 5),
    ("3", 3),
    ("2", 2),
    ("1", 1),
    ("Très bien 5", 5),
    ("4 rapide et propre", 4),
    ("Super, 5/5", 5),
    ("3 moyen", 3),
    ("4 merci", 4),
)
NOT_DONE_ANSWERS = ("pas fait", "toujours une fuite", "1 personne n'est venue")


# --- loading -------------------------------------------------------------------------------


def _profiles(contractor_ids: list[int], rng: random.Random) -> dict[int, tuple[float, ...]]:
    """Each contractor's habits, so that their grades differ: share acknowledged on time,
    share completed on time, share reopened, and the weights of scores 1 to 5."""
    found = {}
    for n, contractor_id in enumerate(sorted(contractor_ids)):
        quality = 1 - n / max(1, len(contractor_ids) - 1)  # the first the best
        found[contractor_id] = (
            0.70 + 0.28 * quality + rng.uniform(-0.02, 0.02),
            0.55 + 0.40 * quality,
            0.08 - 0.06 * quality,
            *(
                (0.10 - 0.07 * quality),
                (0.12 - 0.08 * quality),
                0.20,
                0.30,
                (0.28 + 0.30 * quality),
            ),
        )
    return found


def load_history(db_url: str, total: int, answered: int, quarters: int, seed: int) -> dict:
    """Closed claims copied from the demo's claims routed to a contractor, created evenly
    over the last ``quarters`` quarters (the current one included), each with its done work
    order, its timeline and, for 90 %, its survey; ``answered`` of the surveys answered."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    first = period_containing(now, PeriodKind.QUARTER)
    for _ in range(quarters - 1):
        first = first.previous()
    window_start = first.start.timestamp()
    # Everything is closed well before now: resolution, survey, answer, closing.
    window_end = (now - timedelta(days=20)).timestamp()
    started = time.perf_counter()
    with psycopg.connect(db_url) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        cur = conn.execute(
            "SELECT * FROM claims WHERE contract_id IS NOT NULL AND tenant_id IS NOT NULL"
            " AND status <> 'cancelled' ORDER BY id"
        )
        columns = [d.name for d in cur.description]
        templates = [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]
        profiles = _profiles(list({t["contractor_id"] for t in templates}), rng)
        claim_base = conn.execute("SELECT coalesce(max(id), 0) FROM claims").fetchone()[0]
        order_base = conn.execute("SELECT coalesce(max(id), 0) FROM work_orders").fetchone()[0]
        survey_base = conn.execute("SELECT coalesce(max(id), 0) FROM surveys").fetchone()[0]
        copied = [c for c in columns if c != "id"]
        # What the work orders and surveys need of each claim, kept compact.
        template_of = array("i")
        created_ts = array("d")
        resolved_ts = array("d")
        hour = 3600.0
        with (
            conn.cursor() as copy_cur,
            copy_cur.copy(f"COPY claims (id, {', '.join(copied)}) FROM STDIN") as copy,
        ):
            for i in range(total):
                t = rng.randrange(len(templates))
                row = dict(templates[t])
                created = rng.uniform(window_start, window_end)
                resolved = created + rng.uniform(6 * hour, 15 * 24 * hour)
                created_at = datetime.fromtimestamp(created, UTC)
                resolved_at = datetime.fromtimestamp(resolved, UTC)
                row.update(
                    reference=f"S-{i:09d}",
                    status="closed",
                    created_at=created_at,
                    updated_at=resolved_at,
                    response_due=created_at + timedelta(hours=4),
                    resolution_due=created_at + timedelta(days=10),
                    responded_at=created_at + timedelta(minutes=30),
                    paused_at=None,
                    status_before_pause=None,
                    resolved_at=resolved_at,
                    closed_at=resolved_at + timedelta(days=3),
                    cancelled_at=None,
                    appointment_at=None,
                    appointment_end=None,
                    first_contact_resolution=False,
                    resolution="Réparé.",
                )
                copy.write_row((claim_base + i + 1, *(row[c] for c in copied)))
                template_of.append(t)
                created_ts.append(created)
                resolved_ts.append(resolved)
        log(f"  {total:,} claims copied ({time.perf_counter() - started:.0f} s)")

        reopened: list[tuple[int, datetime]] = []
        with (
            conn.cursor() as copy_cur,
            copy_cur.copy(
                "COPY work_orders (id, claim_id, contract_id, contractor_id, status,"
                " acknowledge_due, complete_due, beyond_claim_deadline, acknowledged_at,"
                " completed_at, cancelled_at, needs_attention, created_at) FROM STDIN"
            ) as copy,
        ):
            for i in range(total):
                row = templates[template_of[i]]
                ack_p, done_p, reopen_p = profiles[row["contractor_id"]][:3]
                sent = datetime.fromtimestamp(created_ts[i] + 60, UTC)
                resolved_at = datetime.fromtimestamp(resolved_ts[i], UTC)
                ack_due = sent + timedelta(hours=24)
                done_due = sent + timedelta(days=7)
                ack_at = sent + timedelta(
                    hours=rng.uniform(0.2, 23.9) if rng.random() < ack_p else rng.uniform(24.1, 72)
                )
                cancelled = rng.random() < 0.02
                if cancelled:
                    status, done_at, cancelled_at = "cancelled", None, resolved_at
                else:
                    status, cancelled_at = "done", None
                    done_at = resolved_at - timedelta(minutes=30)
                    # The claim's dates decide when the work was done, the contractor's
                    # habits whether that was within the deadline.
                    late = rng.random() >= done_p
                    done_due = done_at + timedelta(hours=rng.uniform(1, 48) * (-1 if late else 1))
                    if rng.random() < reopen_p:
                        reopened.append((claim_base + i + 1, done_at + timedelta(days=1)))
                copy.write_row(
                    (
                        order_base + i + 1,
                        claim_base + i + 1,
                        row["contract_id"],
                        row["contractor_id"],
                        status,
                        ack_due,
                        done_due,
                        False,
                        ack_at,
                        done_at,
                        cancelled_at,
                        False,
                        sent,
                    )
                )
        log(f"  {total:,} work orders copied ({time.perf_counter() - started:.0f} s)")

        surveyed = [i for i in range(total) if i % 10 != 9]
        answered_set = set(rng.sample(range(len(surveyed)), min(answered, len(surveyed))))
        with (
            conn.cursor() as copy_cur,
            copy_cur.copy(
                "COPY surveys (id, claim_id, resolution_number, tenant_id, contractor_id,"
                " channel, recipient, locale, status, group_id, planned_for, sent_at,"
                " reminded_at, expires_at, answered_at, score, not_done, needs_person,"
                " created_at) FROM STDIN"
            ) as copy,
        ):
            for n, i in enumerate(surveyed):
                row = templates[template_of[i]]
                weights = profiles[row["contractor_id"]][3:]
                resolved_at = datetime.fromtimestamp(resolved_ts[i], UTC)
                sent = resolved_at + timedelta(hours=2)
                sms = n % 10 < 7
                recipient = f"+3369{n:07d}" if sms else f"t{n}@example.org"
                if n in answered_set:
                    not_done = rng.random() < 0.03
                    score = None if not_done else rng.choices((1, 2, 3, 4, 5), weights)[0]
                    status, answered_at = (
                        "answered",
                        sent + timedelta(minutes=rng.uniform(1, 36 * 60)),
                    )
                    reminded_at = (
                        sent + timedelta(days=1) if answered_at > sent + timedelta(days=1) else None
                    )
                else:
                    not_done, score, status, answered_at = False, None, "expired", None
                    reminded_at = sent + timedelta(days=1)
                copy.write_row(
                    (
                        survey_base + n + 1,
                        claim_base + i + 1,
                        1,
                        row["tenant_id"],
                        row["contractor_id"],
                        "sms" if sms else "email",
                        recipient,
                        "fr",
                        status,
                        survey_base + n + 1,  # sent alone: its own group, as the job does
                        sent,
                        sent,
                        reminded_at,
                        sent + timedelta(days=7),
                        answered_at,
                        score,
                        not_done,
                        False,
                        resolved_at,
                    )
                )
        log(f"  {len(surveyed):,} surveys copied ({time.perf_counter() - started:.0f} s)")
        conn.execute(
            "INSERT INTO survey_answers (survey_id, text, reading, score, source, counted,"
            " received_at) SELECT id, coalesce(score::text, 'pas fait'),"
            " CASE WHEN not_done THEN 'not_done' ELSE 'score' END, score, channel, true,"
            " answered_at FROM surveys WHERE id > %s AND status = 'answered'",
            (survey_base,),
        )
        # The timeline: created, routed, work order, resolved, closed; and the reopenings.
        for kind, action, moment in (
            ("created", None, "c.created_at"),
            ("routed", None, "c.created_at"),
            ("work_order", None, "c.created_at"),
            ("status_changed", "resolve", "c.resolved_at"),
            ("status_changed", "close", "c.closed_at"),
        ):
            conn.execute(
                "INSERT INTO claim_events (claim_id, kind, action, visibility, created_at)"  # noqa: S608
                f" SELECT c.id, %s, %s, 'internal', {moment} FROM claims c WHERE c.id > %s",
                (kind, action, claim_base),
            )
        with (
            conn.cursor() as copy_cur,
            copy_cur.copy(
                "COPY claim_events (claim_id, kind, action, from_status, to_status,"
                " visibility, created_at) FROM STDIN"
            ) as copy,
        ):
            for claim_id, moment in reopened:
                copy.write_row(
                    (
                        claim_id,
                        "status_changed",
                        "reopen",
                        "resolved",
                        "in_progress",
                        "internal",
                        moment,
                    )
                )
        log(f"  answers and events written ({time.perf_counter() - started:.0f} s)")
        for table in ("claims", "work_orders", "surveys"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT max(id) FROM {table}))"
            )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM (ANALYZE) claims, work_orders, surveys, survey_answers, claim_events")
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM claims), (SELECT count(*) FROM work_orders),"
            " (SELECT count(*) FROM surveys), (SELECT count(*) FROM surveys"
            " WHERE status = 'answered'), (SELECT count(*) FROM claim_events)"
        ).fetchone()
    return {
        "claims": counts[0],
        "work_orders": counts[1],
        "surveys": counts[2],
        "answered_surveys": counts[3],
        "claim_events": counts[4],
        "reopened_after_done": len(reopened),
        "first_quarter": first.label,
        "seconds": time.perf_counter() - started,
    }


# --- ratings -------------------------------------------------------------------------------


def timed_periods(now: datetime) -> list[Period]:
    """The last complete quarter, and its last month: what the daily job recomputes (with
    the current ones) and what a landlord reads in a contract review."""
    quarter = period_containing(now, PeriodKind.QUARTER).previous()
    month = Period(PeriodKind.MONTH, quarter.year, quarter.number * 3, quarter.tz)
    return [quarter, month]


def time_ratings(
    app: Any, admin_url: str, database: str, runs: int, stamp: str, explain: bool
) -> dict[str, Any]:
    """``compute_period`` run after run in one transaction each, committed, as the job and
    the on-demand computation do; then, for the quarter, the facts query under EXPLAIN
    ANALYZE and one run under cProfile."""
    import sqlalchemy as sa

    from grc.db import settings_for_large_counts, utcnow
    from grc.extensions import db
    from grc.ratings.operations import compute_period, counts_query, facts_query

    results: dict[str, Any] = {}
    with app.app_context():
        for period in timed_periods(utcnow()):
            samples = []
            for _ in range(runs):
                db.session.execute(sa.text("SELECT 1"))  # the backend exists before timing
                backends = backend_cpu(admin_url, database)
                cpu = time.process_time()
                started = time.perf_counter()
                ratings = compute_period(db.session, period, utcnow())
                db.session.commit()
                samples.append(
                    {
                        "seconds": time.perf_counter() - started,
                        "python_cpu_s": time.process_time() - cpu,
                        "postgresql_cpu_s": cpu_delta(backends, backend_cpu(admin_url, database)),
                        "load_average": os.getloadavg()[0],
                    }
                )
                db.session.expunge_all()
            orders = db.session.execute(
                sa.select(sa.func.count()).select_from(facts_query(period).subquery())
            ).scalar_one()
            seconds = [s["seconds"] for s in samples]
            entry: dict[str, Any] = {
                "period": period.label,
                "work_orders": orders,
                "ratings_stored": len(ratings),
                "contractors": len({r.contractor_id for r in ratings}),
                "runs": samples,
                "median_s": statistics.median(seconds),
                "max_s": max(seconds),
                "median_python_cpu_s": statistics.median(s["python_cpu_s"] for s in samples),
                "median_postgresql_cpu_s": statistics.median(
                    s["postgresql_cpu_s"] for s in samples
                ),
            }
            log(
                f"ratings {period.label}: {orders:,} work orders, {len(ratings)} ratings; "
                f"median {entry['median_s'] * 1000:,.0f} ms, max {entry['max_s'] * 1000:,.0f} ms"
                f" (CPU: Python {entry['median_python_cpu_s'] * 1000:,.0f} ms, PostgreSQL "
                f"{entry['median_postgresql_cpu_s'] * 1000:,.0f} ms)"
            )
            results[period.kind.value] = entry
        if explain:
            quarter = timed_periods(utcnow())[0]
            settings_for_large_counts(db.session)
            compiled = counts_query(quarter, utcnow()).compile(
                dialect=db.engine.dialect, compile_kwargs={"render_postcompile": True}
            )
            plan = db.session.connection().exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS) " + str(compiled), compiled.params
            )
            results["explain_counts_quarter"] = [line for (line,) in plan]
            db.session.rollback()
            profiler = cProfile.Profile()
            profiler.enable()
            compute_period(db.session, quarter, utcnow())
            db.session.commit()
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
            path = RESULTS / f"surveys-{stamp}-ratings-profile.txt"
            path.write_text(out.getvalue())
            results["profile"] = str(path.relative_to(ROOT))
    return results


# --- SMS answers ---------------------------------------------------------------------------


def prepare_open_surveys(db_url: str, count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` resolved claims, each with its done work order and its survey sent an hour
    ago by SMS to a tenant of its own, whose mobile number no other tenant or survey has.
    Made at each run (a previous run answered its own)."""
    rng = random.Random(seed + int(time.time()))
    now = datetime.now(UTC)
    with psycopg.connect(db_url) as conn:
        cur = conn.execute(
            "SELECT * FROM claims WHERE contract_id IS NOT NULL AND tenant_id IS NOT NULL"
            " AND reference LIKE 'R-%%' AND status <> 'cancelled' ORDER BY id"
        )
        columns = [d.name for d in cur.description]
        templates = [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]
        numbers: list[str] = []
        while len(numbers) < count:
            wanted = {f"+3375{rng.randrange(10**7):07d}" for _ in range(2 * count)}
            taken = {
                n
                for (n,) in conn.execute(
                    "SELECT number FROM tenant_phones WHERE number = ANY(%s)"
                    " UNION SELECT recipient FROM surveys WHERE recipient = ANY(%s)",
                    (list(wanted), list(wanted)),
                )
            }
            numbers.extend(sorted(wanted - taken - set(numbers))[: count - len(numbers)])
        rng.shuffle(numbers)
        bases = {
            table: conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]  # noqa: S608
            for table in ("tenants", "claims", "work_orders", "surveys")
        }
        run = secrets.token_hex(3)
        surveys = []
        with conn.cursor() as cur:
            with cur.copy(
                "COPY tenants (id, external_ref, first_name, last_name, preferred_channel,"
                " search_name, created_at) FROM STDIN"
            ) as copy:
                for n in range(count):
                    copy.write_row(
                        (
                            bases["tenants"] + n + 1,
                            f"SMS{run}{n:06d}",
                            "Camille",
                            "Sondage",
                            "sms",
                            "sondage camille",
                            now,
                        )
                    )
            with cur.copy("COPY tenant_phones (tenant_id, number, kind) FROM STDIN") as copy:
                for n in range(count):
                    copy.write_row((bases["tenants"] + n + 1, numbers[n], "mobile"))
            copied = [c for c in columns if c != "id"]
            resolved_at = now - timedelta(hours=3)
            created_at = now - timedelta(days=4)
            with cur.copy(f"COPY claims (id, {', '.join(copied)}) FROM STDIN") as copy:
                for n in range(count):
                    row = dict(rng.choice(templates))
                    row.update(
                        reference=f"Q{run}{n:06d}",
                        status="resolved",
                        tenant_id=bases["tenants"] + n + 1,
                        created_at=created_at,
                        updated_at=resolved_at,
                        response_due=created_at + timedelta(hours=4),
                        resolution_due=created_at + timedelta(days=10),
                        responded_at=created_at + timedelta(minutes=30),
                        paused_at=None,
                        status_before_pause=None,
                        resolved_at=resolved_at,
                        closed_at=None,
                        cancelled_at=None,
                        appointment_at=None,
                        appointment_end=None,
                        first_contact_resolution=False,
                        resolution="Réparé.",
                    )
                    copy.write_row((bases["claims"] + n + 1, *(row[c] for c in copied)))
                    surveys.append(
                        {
                            "survey_id": bases["surveys"] + n + 1,
                            "claim_id": bases["claims"] + n + 1,
                            "number": numbers[n],
                            "contract_id": row["contract_id"],
                            "contractor_id": row["contractor_id"],
                        }
                    )
            with cur.copy(
                "COPY work_orders (id, claim_id, contract_id, contractor_id, status,"
                " acknowledge_due, complete_due, beyond_claim_deadline, acknowledged_at,"
                " completed_at, needs_attention, created_at) FROM STDIN"
            ) as copy:
                for n, s in enumerate(surveys):
                    copy.write_row(
                        (
                            bases["work_orders"] + n + 1,
                            s["claim_id"],
                            s["contract_id"],
                            s["contractor_id"],
                            "done",
                            created_at + timedelta(hours=24),
                            created_at + timedelta(days=7),
                            False,
                            created_at + timedelta(hours=1),
                            resolved_at - timedelta(minutes=30),
                            False,
                            created_at,
                        )
                    )
            sent = now - timedelta(hours=1)
            with cur.copy(
                "COPY surveys (id, claim_id, resolution_number, tenant_id, contractor_id,"
                " channel, recipient, locale, status, group_id, planned_for, sent_at,"
                " expires_at, not_done, needs_person, created_at) FROM STDIN"
            ) as copy:
                for n, s in enumerate(surveys):
                    copy.write_row(
                        (
                            s["survey_id"],
                            s["claim_id"],
                            1,
                            bases["tenants"] + n + 1,
                            s["contractor_id"],
                            "sms",
                            s["number"],
                            "fr",
                            "sent",
                            s["survey_id"],  # sent alone: its own group, as the job does
                            sent,
                            sent,
                            sent + timedelta(days=7),
                            False,
                            False,
                            resolved_at,
                        )
                    )
        for table in ("tenants", "claims", "work_orders", "surveys"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT max(id) FROM {table}))"
            )
        conn.commit()
        conn.autocommit = True
        conn.execute("ANALYZE tenants, tenant_phones, claims, work_orders, surveys")
    for n, s in enumerate(surveys):
        if n % 20 == 0:
            s["text"], s["score"] = rng.choice(NOT_DONE_ANSWERS), None
        else:
            s["text"], s["score"] = rng.choice(SCORE_ANSWERS)
        s["sid"] = "SM" + secrets.token_hex(16)
    return surveys


def signed_request(
    host: str, survey: dict[str, Any], auth_token: str, *, forged: bool = False
) -> bytes:
    """The POST Twilio sends for one SMS received, signed with the account's auth token over
    the public URL and the form: built before the clock starts (Twilio's work, not ours)."""
    from twilio.request_validator import RequestValidator

    params = {
        "AccountSid": TWILIO_SID,
        "Body": survey["text"],
        "From": survey["number"],
        "MessageSid": survey["sid"],
        "SmsSid": survey["sid"],
        "SmsStatus": "received",
        "NumMedia": "0",
        "To": TWILIO_FROM,
    }
    signature = RequestValidator(auth_token).compute_signature(PUBLIC_URL + INBOUND_PATH, params)
    if forged:
        signature = signature[::-1]
    body = urlencode(params).encode()
    head = (
        f"POST {INBOUND_PATH} HTTP/1.1\r\nHost: {host}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\nX-Twilio-Signature: {signature}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


def send_once(host: str, port: int, request: bytes, timeout: float = 30) -> int:
    """One request on its own connection (gunicorn's sync workers close each): the status."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    status_line = b"".join(chunks).split(b"\r\n", 1)[0]
    return int(status_line.split()[1]) if status_line.startswith(b"HTTP/") else 0


def post_all(address: str, requests: list[bytes], clients: int) -> list[tuple[float, float, int]]:
    """``requests`` posted from ``clients`` threads, each taking the next as soon as its
    previous one is answered: (sent, answered, status) per request."""
    host, port = address.split(":")
    results: list[tuple[float, float, int]] = [(0.0, 0.0, 0)] * len(requests)
    position = iter(range(len(requests)))
    lock = threading.Lock()

    def client() -> None:
        while True:
            with lock:
                n = next(position, None)
            if n is None:
                return
            sent = time.perf_counter()
            try:
                status = send_once(host, int(port), requests[n])
            except OSError:
                status = 0
            results[n] = (sent, time.perf_counter(), status)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def check_answers(db_url: str, surveys: list[dict[str, Any]]) -> dict[str, Any]:
    """Every answer stored once, counted once and read as written."""
    ids = [s["survey_id"] for s in surveys]
    by_id = {s["survey_id"]: s for s in surveys}
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT s.id, s.status, s.score, s.not_done, c.status,"
            " (SELECT count(*) FROM survey_answers a WHERE a.survey_id = s.id),"
            " (SELECT count(*) FROM survey_answers a WHERE a.survey_id = s.id AND a.counted),"
            " (SELECT count(*) FROM inbound_sms i JOIN survey_answers a"
            "   ON a.inbound_sms_id = i.id WHERE a.survey_id = s.id"
            "   AND i.outcome = 'survey_answer')"
            " FROM surveys s JOIN claims c ON c.id = s.claim_id WHERE s.id = ANY(%s)",
            (ids,),
        ).fetchall()
        inbound = conn.execute(
            "SELECT count(*), count(DISTINCT message_sid) FROM inbound_sms"
            " WHERE message_sid = ANY(%s)",
            ([s["sid"] for s in surveys],),
        ).fetchone()
        reopened_orders = conn.execute(
            "SELECT count(*) FROM work_orders WHERE claim_id = ANY(%s) AND status <> 'done'",
            ([s["claim_id"] for s in surveys],),
        ).fetchone()[0]
    wrong: dict[str, int] = {}

    def miss(what: str) -> None:
        wrong[what] = wrong.get(what, 0) + 1

    for survey_id, status, score, not_done, claim_status, answers, counted, via_sms in rows:
        expected = by_id[survey_id]
        if status != "answered":
            miss("not answered")
        if answers != 1:
            miss("answers kept != 1")
        if counted != 1:
            miss("answers counted != 1")
        if via_sms != 1:
            miss("not linked to its inbound SMS")
        if expected["score"] is None:
            if not not_done or score is not None:
                miss("'not done' not read as such")
            if claim_status == "resolved":
                miss("'not done' and the claim not reopened")
        elif score != expected["score"] or not_done:
            miss("score not read as written")
    not_done_expected = sum(s["score"] is None for s in surveys)
    return {
        "surveys": len(rows),
        "inbound_sms_rows": inbound[0],
        "inbound_sms_distinct_sids": inbound[1],
        "not_done_answers": not_done_expected,
        "new_work_orders_for_not_done": reopened_orders,
        "wrong": wrong,
        "ok": not wrong and len(rows) == len(surveys) and inbound[0] == len(surveys),
    }


def answer_counts(db_url: str, surveys: list[dict[str, Any]]) -> tuple[int, int, int]:
    with psycopg.connect(db_url) as conn:
        return conn.execute(
            "SELECT (SELECT count(*) FROM survey_answers WHERE survey_id = ANY(%s)),"
            " (SELECT count(*) FROM inbound_sms), (SELECT count(*) FROM claim_events)",
            ([s["survey_id"] for s in surveys],),
        ).fetchone()


def bench_sms(
    env: dict[str, str],
    args: argparse.Namespace,
    db_url: str,
    stamp: str,
    instance: Path,
) -> dict[str, Any]:
    auth_token = env["TWILIO_AUTH_TOKEN"]
    log(f"SMS: {args.sms + args.sms_warmup:,} open surveys, each to a tenant of its own")
    started = time.perf_counter()
    surveys = prepare_open_surveys(db_url, args.sms + args.sms_warmup, args.seed)
    setup_s = time.perf_counter() - started
    warmup, measured = surveys[: args.sms_warmup], surveys[args.sms_warmup :]
    result: dict[str, Any] = {"setup_s": setup_s, "answers": len(measured)}
    with gunicorn(env, args.web_workers, instance / "gunicorn.log") as (group, address):
        host = address.split(":")[0]
        forged = send_once(
            host,
            int(address.split(":")[1]),
            signed_request(address, measured[0], auth_token, forged=True),
        )
        result["forged_post_status"] = forged
        post_all(address, [signed_request(address, s, auth_token) for s in warmup], args.clients)
        requests = [signed_request(address, s, auth_token) for s in measured]
        web_before = group.cpu()
        pg_before = backend_cpu(args.pg_admin, args.db)
        self_before = time.process_time()
        system_before = system_cpu()
        load_before = os.getloadavg()
        log(
            f"posting {len(requests):,} signed answers from {args.clients} threads "
            f"to {args.web_workers} gunicorn workers (load average {load_before[0]:.2f})"
        )
        posts = post_all(address, requests, args.clients)
        system_after = system_cpu()
        cpu = {
            "web (gunicorn)": cpu_delta(web_before, group.cpu()),
            "postgres backends": cpu_delta(pg_before, backend_cpu(args.pg_admin, args.db)),
            "load generator (this process)": time.process_time() - self_before,
        }
        load_after = os.getloadavg()
        # Twilio retrying: the same posts again change nothing.
        before_repeat = answer_counts(db_url, measured)
        repeats = post_all(address, requests[: args.repeats], args.clients)
        after_repeat = answer_counts(db_url, measured)
    wall = max(p[1] for p in posts) - min(p[0] for p in posts)
    statuses: dict[int, int] = {}
    for _, _, status in posts:
        statuses[status] = statuses.get(status, 0) + 1
    busy = (system_after[0] - system_before[0]) / CLK_TCK
    ours = sum(cpu.values())
    n = len(measured)
    result.update(
        {
            "web_workers": args.web_workers,
            "clients": args.clients,
            "wall_s": wall,
            "answers_per_s": n / wall,
            "statuses": statuses,
            "latency_ms": percentiles([(p[1] - p[0]) * 1000 for p in posts]),
            "cpu_ms_per_answer": {k: 1000 * v / n for k, v in cpu.items()}
            | {"all of the above": 1000 * ours / n},
            "machine_cpu": {"busy_cpu_s": busy, "ours_cpu_s": ours, "others_cpu_s": busy - ours},
            "load_average_before": load_before,
            "load_average_after": load_after,
            "repeated_posts": {
                "posted": len(repeats),
                "statuses": sorted({s for _, _, s in repeats}),
                "answers, inbound SMS and events before": before_repeat,
                "after": after_repeat,
                "unchanged": before_repeat == after_repeat,
            },
        }
    )
    log(f"  {n / wall:,.0f} answers/s, statuses {statuses}; checking the database")
    result["check"] = check_answers(db_url, measured)
    result["check"]["ok"] = (
        result["check"]["ok"]
        and statuses == {200: n}
        and forged == 403
        and result["repeated_posts"]["unchanged"]
    )
    return result


def profile_sms(app: Any, db_url: str, count: int, seed: int, stamp: str) -> dict[str, Any]:
    """Diagnosis, with no server running: ``count`` answers posted through Flask's test
    client in this process, half of them plain (CPU per answer, SQL statements per
    answer), half under cProfile (``-sms-profile.txt`` and ``-sms.prof``)."""
    import sqlalchemy as sa

    from grc.extensions import db

    auth_token = os.environ["TWILIO_AUTH_TOKEN"]
    surveys = prepare_open_surveys(db_url, count, seed + 1)
    client = app.test_client()

    def post(survey: dict[str, Any]) -> None:
        request = signed_request("localhost", survey, auth_token)
        head, body = request.split(b"\r\n\r\n", 1)
        signature = head.split(b"X-Twilio-Signature: ", 1)[1].split(b"\r\n", 1)[0]
        response = client.post(
            INBOUND_PATH,
            data=body,
            content_type="application/x-www-form-urlencoded",
            headers={"X-Twilio-Signature": signature.decode()},
        )
        if response.status_code != 200:
            raise SystemExit(f"the webhook answered {response.status_code} in-process")

    warm, plain, profiled = surveys[:20], surveys[20 : count // 2], surveys[count // 2 :]
    for survey in warm:
        post(survey)
    statements = 0

    def count_statement(*_: Any) -> None:
        nonlocal statements
        statements += 1

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count_statement)
    cpu, started = time.process_time(), time.perf_counter()
    for survey in plain:
        post(survey)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - started
    sa.event.remove(engine, "before_cursor_execute", count_statement)
    profiler = cProfile.Profile()
    profiler.enable()
    for survey in profiled:
        post(survey)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(80)
    path = RESULTS / f"surveys-{stamp}-sms-profile.txt"
    path.write_text(out.getvalue())
    profiler.dump_stats(RESULTS / f"surveys-{stamp}-sms.prof")
    found = {
        "answers": len(plain),
        "cpu_ms_per_answer": 1000 * cpu / len(plain),
        "wall_ms_per_answer": 1000 * wall / len(plain),
        "sql_statements_per_answer": statements / len(plain),
        "profile": str(path.relative_to(ROOT)),
    }
    log(
        f"in-process: {found['cpu_ms_per_answer']:.2f} ms of CPU per answer, "
        f"{found['sql_statements_per_answer']:.1f} SQL statements"
    )
    return found


# --- main ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--db", default="grc_bench_surveys", help="database to (re)create")
    parser.add_argument(
        "--pg-admin",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="URL of a database to connect to for CREATE DATABASE",
    )
    parser.add_argument("--dwellings", type=int, default=5_000, help="demo landlord's size")
    parser.add_argument("--demo-claims", type=int, default=3_000, help="claims to copy from")
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--answered", type=int, default=300_000, help="answered surveys")
    parser.add_argument("--quarters", type=int, default=5, help="quarters the claims span")
    parser.add_argument("--tenants", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each period")
    parser.add_argument("--sms", type=int, default=3_000, help="answers posted and timed")
    parser.add_argument("--sms-warmup", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=100, help="answers posted a second time")
    parser.add_argument("--clients", type=int, default=6, help="posting threads")
    parser.add_argument("--web-workers", type=int, default=4, help="gunicorn (sync) workers")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--skip-ratings", action="store_true")
    parser.add_argument("--skip-sms", action="store_true")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="EXPLAIN ANALYZE of the quarter's counting query and a cProfile of one run",
    )
    parser.add_argument(
        "--profile-sms",
        type=int,
        default=0,
        metavar="N",
        help="after the run, N answers in-process: CPU and SQL statements per answer, and "
        "a cProfile of half of them",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--reuse", action="store_true", help="time an existing database of a previous --keep run"
    )
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/10",
        help="REDIS_URL for the app; use a Redis database nothing else uses: the jobs left "
        "in its GRC queues are deleted at the end",
    )
    args = parser.parse_args(argv)
    require_loopback(args.pg_admin)
    require_loopback(args.redis_url, "Redis")

    stamp = utc_stamp()
    db_url = database_url(args.pg_admin, args.db)
    instance = Path(tempfile.mkdtemp(prefix="grc-bench-surveys-"))
    env = production_env(
        db_url,
        instance,
        redis_url=args.redis_url,
        drop_prefixes=("SENDGRID_", "TWILIO_", "GRC_"),
        TWILIO_ACCOUNT_SID=TWILIO_SID,
        TWILIO_AUTH_TOKEN=secrets.token_hex(16),
        TWILIO_FROM_NUMBER=TWILIO_FROM,
        # Where Twilio posts, as it signs it; never called.
        GRC_PUBLIC_URL=PUBLIC_URL,
    )
    result: dict[str, Any] = {
        "date": stamp,
        "code": code_state(),
        "machine": machine(args.pg_admin),
        "options": vars(args),
        "targets": {"ratings_s": TARGET_RATINGS_S, "answers_per_s": TARGET_ANSWERS_PER_S},
        "load_average_at_start": os.getloadavg(),
    }
    exit_code = 1
    try:
        if not args.reuse:
            log(f"Creating {args.db}, migrations, demo landlord ({args.dwellings:,} dwellings)…")
            create_database(args.pg_admin, args.db)
            seed_demo(env, args.dwellings, args.demo_claims, args.seed)
            log(f"Copying {args.claims:,} claims with their orders and surveys…")
            result["history"] = load_history(
                db_url, args.claims, args.answered, args.quarters, args.seed
            )
            log(f"Loaded: {result['history']}")
            if args.tenants:
                from intake import load_million

                log(f"Copying {args.tenants:,} tenants…")
                result["tenants"] = load_million(db_url, args.tenants, args.seed)
        adopt_env(env, ("SENDGRID_", "TWILIO_", "GRC_"))
        from grc import create_app

        app = create_app()
        if not args.skip_ratings:
            result["load_average_before_ratings"] = os.getloadavg()
            result["ratings"] = time_ratings(
                app, args.pg_admin, args.db, args.runs, stamp, args.explain
            )
            result["load_average_after_ratings"] = os.getloadavg()
        if not args.skip_sms:
            result["sms"] = bench_sms(env, args, db_url, stamp, instance)
        if args.profile_sms:
            result["sms_in_process"] = profile_sms(app, db_url, args.profile_sms, args.seed, stamp)
        result["jobs_deleted"] = empty_queues(args.redis_url)
        exit_code = 0 if _met(result) else 1
    except KeyboardInterrupt:
        result["error"] = "interrupted"
        exit_code = 130
    finally:
        if not args.keep:
            drop_database(args.pg_admin, args.db)
        result["load_average_at_end"] = os.getloadavg()
        if (instance / "gunicorn.log").exists():
            shutil.copy(instance / "gunicorn.log", RESULTS / f"surveys-{stamp}-gunicorn.log")
        shutil.rmtree(instance, ignore_errors=True)
        write_result("surveys", stamp, result, summarise(result))
    return exit_code


def _met(result: dict[str, Any]) -> bool:
    ratings = result.get("ratings") or {}
    sms = result.get("sms") or {}
    return all(
        entry["max_s"] < TARGET_RATINGS_S
        for key, entry in ratings.items()
        if key in ("quarter", "month")
    ) and (not sms or (sms["answers_per_s"] >= TARGET_ANSWERS_PER_S and sms["check"]["ok"]))


def summarise(result: dict[str, Any]) -> list[str]:
    lines = []
    for key in ("quarter", "month"):
        entry = (result.get("ratings") or {}).get(key)
        if entry:
            loads = [r["load_average"] for r in entry["runs"]]
            lines.append(
                f"ratings {entry['period']} ({entry['work_orders']:,} work orders, "
                f"{entry['ratings_stored']} ratings): median {entry['median_s'] * 1000:,.0f} ms, "
                f"max {entry['max_s'] * 1000:,.0f} ms (target {TARGET_RATINGS_S:.0f} s); CPU "
                f"Python {entry['median_python_cpu_s'] * 1000:,.0f} ms, PostgreSQL "
                f"{entry['median_postgresql_cpu_s'] * 1000:,.0f} ms; load average "
                f"{min(loads):.2f}-{max(loads):.2f}"
            )
    sms = result.get("sms")
    if sms:
        lat = sms["latency_ms"]
        lines.append(
            f"SMS: {sms['answers']:,} answers in {sms['wall_s']:.1f} s: "
            f"{sms['answers_per_s']:,.0f} answers/s (target {TARGET_ANSWERS_PER_S:.0f}), "
            f"{sms['web_workers']} gunicorn workers, {sms['clients']} clients; latency p50 "
            f"{lat['p50']:.1f} / p95 {lat['p95']:.1f} / p99 {lat['p99']:.1f} ms; load average "
            f"{sms['load_average_before'][0]:.2f} before, {sms['load_average_after'][0]:.2f} after"
        )
        lines.append(
            "  CPU ms per answer: "
            + ", ".join(f"{k} {v:.2f}" for k, v in sms["cpu_ms_per_answer"].items())
            + f"; others' CPU {sms['machine_cpu']['others_cpu_s']:.1f} s"
        )
        lines.append(
            f"  checks {'OK' if sms['check']['ok'] else 'FAILED'}: {sms['check']}; forged post "
            f"{sms['forged_post_status']}; repeated posts unchanged "
            f"{sms['repeated_posts']['unchanged']}"
        )
    if not lines:
        lines.append(f"no figures ({result.get('error', 'the run stopped early')})")
    else:
        lines.append("targets met" if _met(result) else "TARGETS MISSED")
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
