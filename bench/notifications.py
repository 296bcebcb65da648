#!/usr/bin/env python3
"""Outbox delivery benchmark: RQ workers + PostgreSQL + Redis + a local provider stub.

1. creates a fresh PostgreSQL database and runs the migrations; empties a dedicated Redis
   database (FLUSHDB on that number only);
2. starts the SendGrid/Twilio stub of ``tests/stubs/providers.py`` in a process of its own
   (its CPU is not the workers'), which records the receive time of every request;
3. starts TWO ``flask --app wsgi grc worker notifications`` processes (production
   settings, senders pointed at the stub, ``GRC_DELIVERY_BATCH`` / ``GRC_DELIVERY_THREADS``
   from ``--delivery-batch`` / ``--delivery-threads``, else the product's defaults);
4. writes N outbox messages (~70% SMS, 30% e-mail, no claim) through the product's own
   ``queue_message``, committing in batches so the real after-commit hand-over
   (``RqDelivery``: one ``deliver_due_messages`` job per burst) wakes the workers; the
   commit time of every message is noted (a session ``after_commit`` listener placed before
   the hand-over's);
5. waits until the stub has N messages and the database N ``sent`` rows, then checks: every
   row sent once (1 attempt, provider id stored), N distinct message keys at the stub, no
   duplicate, provider ids at the stub == provider ids in the database;
6. reports messages/s (first commit -> last message received at the stub) and the delay
   commit -> provider call (p50/p95/p99), per channel too, and the delivery jobs run;
7. optional diagnosis with the run's workers stopped, always against an instant stub: one
   plain burst worker on pre-queued messages woken by a single delivery job (single-worker
   capacity), the same under cProfile with one sending thread (where a message's time goes
   in the job), ``deliver_due_messages`` in-process on 200 rows (SQL statements, commits,
   pool check-outs per message), and ``py-spy`` on a run worker if given;
8. stops workers and stub, always, and writes JSON (+ logs, profile) to bench/results/.

Only counts and timings are printed: the generated recipients are fake and never shown.
Run ``python bench/notifications.py --help``; see bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import multiprocessing as mp
import os
import pstats
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
# First, before this folder: bench/notifications.py must not hide the notifications package.
sys.path.insert(0, str(ROOT))
from benchlib import (  # noqa: E402
    CLK_TCK,
    RESULTS,
    Group,
    adopt_env,
    backend_cpu,
    code_state,
    cpu_delta,
    cpu_seconds,
    create_database,
    database_url,
    drop_database,
    flask_worker_command,
    log,
    log_lines,
    machine,
    percentiles,
    production_env,
    queue_state,
    require_loopback,
    run_flask,
    stop_on_sigterm,
    system_cpu,
    utc_stamp,
    wait_for_rq_workers,
    write_result,
)

TARGET_PER_S = 500.0
TARGET_P95_S = 1.0
TRACE_MESSAGES = 200  # rows for the in-process deliver_due_messages trace
SECRET_KEY = "bench-notifications-secret-key-0123456789-abcdefghij"  # noqa: S105 (local only)


# --- Small helpers -------------------------------------------------------------------------


def message_key_of(url: str | None) -> str | None:
    if not url:
        return None
    values = parse_qs(urlsplit(url).query).get("message_key")
    return values[-1] if values else None


# --- The provider stub, in a process of its own ---------------------------------------------


def _stub_main(conn: Any, counter: Any, delay_s: float, expected: int) -> None:
    """Run ``tests.stubs.providers.ProviderStub`` until told to stop, then send back one row
    per accepted/refused request: provider, status, message key, provider id, receive time."""
    sys.path.insert(0, str(ROOT))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    from tests.stubs.providers import ProviderStub

    class TimedStub(ProviderStub):
        def __init__(self) -> None:
            super().__init__()
            self.received_at: dict[int, float] = {}
            # socketserver listens with a backlog of 5: enough for tests, not for dozens of
            # concurrent senders (resets would look like lost answers). Linux lets a
            # listening socket raise its backlog with a second listen().
            self._server.socket.listen(1024)

        def _record(self, request: Any) -> None:  # called once per request, before answering
            now = time.time()
            with self._lock:
                self._requests.append(request)
                self.received_at[id(request)] = now
            with counter.get_lock():
                counter.value += 1

    stub = TimedStub().start()
    if delay_s > 0:  # every answer late by delay_s, as a real provider across the Internet
        stub.respond_next(delay=delay_s, times=expected)
    conn.send(stub.url)
    try:
        while conn.recv() != "stop":
            pass
    except EOFError:
        pass
    stub.stop()
    rows: list[tuple[Any, ...]] = []
    for email in stub.emails:
        rows.append(
            (
                "sendgrid",
                email.request.status,
                email.message_key,
                email.provider_id,
                stub.received_at[id(email.request)],
            )
        )
    for sms in stub.sms:
        rows.append(
            (
                "twilio",
                sms.request.status,
                message_key_of(sms.status_callback),
                sms.sid,
                stub.received_at[id(sms.request)],
            )
        )
    refused = [r for r in stub.requests if not r.accepted]
    rows.extend((r.provider, r.status, None, None, stub.received_at[id(r)]) for r in refused)
    with contextlib.suppress(BrokenPipeError, OSError):
        conn.send(rows)


class StubProcess:
    def __init__(self, delay_s: float = 0.0, expected: int = 0) -> None:
        ctx = mp.get_context("spawn")
        self.counter = ctx.Value("q", 0)
        self._conn, child = ctx.Pipe()
        self.process = ctx.Process(
            target=_stub_main,
            args=(child, self.counter, delay_s, expected),
            name="provider-stub",
            daemon=True,
        )
        self.process.start()
        if not self._conn.poll(30):
            self.process.kill()
            raise SystemExit("the provider stub did not start within 30 s")
        self.url: str = self._conn.recv()
        self.rows: list[tuple[Any, ...]] | None = None

    @property
    def received(self) -> int:
        return int(self.counter.value)

    def stop(self) -> list[tuple[Any, ...]]:
        if self.rows is not None:
            return self.rows
        self.rows = []
        if self.process.is_alive():
            try:
                self._conn.send("stop")
                if self._conn.poll(60):
                    self.rows = self._conn.recv()
            except (BrokenPipeError, EOFError, OSError):
                pass
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)
        return self.rows


# --- Workers --------------------------------------------------------------------------------


class Worker(Group):
    """One ``flask grc worker notifications`` process in a process group of its own; stopping
    it is RQ's warm shutdown (the current job finishes first), then SIGKILL."""

    def __init__(
        self, env: dict[str, str], log_path: Path, *extra: str, prefix: list[str] | None = None
    ) -> None:
        command = flask_worker_command("notifications", *extra)
        super().__init__([*(prefix or []), *command], env, log_path)

    def wait(self, timeout: float) -> int | None:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None


# --- Producer: the product's own queue_message + commit + after-commit hand-over ------------


SMS_BODY = (
    "GRC: votre demande {ref} a bien ete enregistree. Un technicien vous contactera "
    "sous 48 h ouvrees. Suivi: https://grc.localhost/s/{ref} - Ne pas repondre."
)
EMAIL_TEXT = (
    "Bonjour,\n\nNous avons bien recu votre demande {ref} concernant votre logement. "
    "Elle a ete transmise au service technique, qui vous recontactera pour convenir "
    "d'un rendez-vous si une intervention est necessaire.\n\nVous pouvez suivre son "
    "avancement depuis votre espace locataire.\n\nCordialement,\nVotre bailleur\n"
)
EMAIL_HTML = (
    "<html><body><p>Bonjour,</p><p>Nous avons bien re&ccedil;u votre demande "
    "<strong>{ref}</strong> concernant votre logement. Elle a &eacute;t&eacute; "
    "transmise au service technique, qui vous recontactera pour convenir d'un "
    "rendez-vous si une intervention est n&eacute;cessaire.</p><p>Vous pouvez "
    "suivre son avancement depuis votre espace locataire.</p><p>Cordialement,<br>"
    "Votre bailleur</p></body></html>"
)


class Producer:
    """Writes outbox rows in an application context of its own (REDIS_URL set, so the real
    RqDelivery enqueues them after each commit)."""

    def __init__(self) -> None:
        import sqlalchemy as sa

        from grc import create_app
        from grc.extensions import db

        self.app = create_app()
        self.db = db
        self._last_commit = 0.0

        def note_commit(session: Any) -> None:
            self._last_commit = time.time()

        # insert=True: runs before the hand-over listener, i.e. right after the DB commit.
        sa.event.listen(db.session, "after_commit", note_commit, insert=True)

    def produce(
        self, tag: str, count: int, sms_share: float, batch: int, rate: float, seed: int
    ) -> dict[str, Any]:
        from grc.messaging.models import MessageChannel, Purpose
        from grc.messaging.operations import NewMessage, queue_message

        rng = random.Random(seed)
        committed_at: dict[int, float] = {}
        returned_at: dict[int, float] = {}
        channel: dict[int, str] = {}
        handover_s: list[float] = []
        with self.app.app_context():
            session = self.db.session
            started = time.time()
            for first in range(0, count, batch):
                if rate > 0:  # paced: batch k is written at started + k * batch / rate
                    delay = started + first / rate - time.time()
                    if delay > 0:
                        time.sleep(delay)
                ids: list[tuple[int, str]] = []
                for number in range(first, min(count, first + batch)):
                    ref = f"B{number:07d}"
                    if rng.random() < sms_share:
                        new = NewMessage(
                            idempotency_key=f"bench-notify-{tag}-{number}",
                            channel=MessageChannel.SMS,
                            purpose=Purpose.ACKNOWLEDGEMENT,
                            recipient=f"+3375{number % 10_000_000:08d}",
                            body_text=SMS_BODY.format(ref=ref),
                        )
                    else:
                        new = NewMessage(
                            idempotency_key=f"bench-notify-{tag}-{number}",
                            channel=MessageChannel.EMAIL,
                            purpose=Purpose.ACKNOWLEDGEMENT,
                            recipient=f"locataire-{number}@bench.invalid",
                            subject=f"Votre demande {ref} est enregistree",
                            body_text=EMAIL_TEXT.format(ref=ref),
                            body_html=EMAIL_HTML.format(ref=ref),
                        )
                    message = queue_message(session, new)
                    if message is None:
                        raise SystemExit("queue_message refused a new idempotency key")
                    ids.append((message.id, new.channel.value))
                session.commit()  # after_commit: note_commit, then the RQ hand-over
                done = time.time()
                handover_s.append(done - self._last_commit)
                for message_id, kind in ids:
                    committed_at[message_id] = self._last_commit
                    returned_at[message_id] = done
                    channel[message_id] = kind
            ended = time.time()
            session.remove()
        return {
            "committed_at": committed_at,
            "returned_at": returned_at,
            "channel": channel,
            "started": started,
            "ended": ended,
            "handover_s": handover_s,
        }


# --- Waiting and checking ---------------------------------------------------------------------


def wait_for_stub(
    stub: StubProcess, target: int, timeout: float, stall: float, workers: list[Worker]
) -> bool:
    started = last_progress = time.time()
    last_count, last_report = stub.received, started
    while stub.received < target:
        now = time.time()
        count = stub.received
        if count != last_count:
            last_count, last_progress = count, now
        if now - last_report >= 5:
            log(f"  stub received {count}/{target}")
            last_report = now
        if now - started > timeout or now - last_progress > stall:
            log(f"  gave up waiting: {count}/{target} received")
            return False
        for worker in workers:
            if worker.process.poll() is not None:
                log(f"  a worker exited ({worker.process.returncode}):\n{worker.tail()}")
                return False
        time.sleep(0.05)
    return True


def wait_for_sent(db_url: str, ids: list[int], timeout: float = 30) -> int:
    started = time.time()
    with psycopg.connect(db_url, autocommit=True) as conn:
        while True:
            sent = conn.execute(
                "SELECT count(*) FROM outbox_messages WHERE id = ANY(%s) AND status = 'sent'",
                (ids,),
            ).fetchone()[0]
            if sent >= len(ids) or time.time() - started > timeout:
                return sent
            time.sleep(0.1)


def check_delivery(
    db_url: str, produced: dict[str, Any], rows: list[tuple[Any, ...]]
) -> dict[str, Any]:
    """Every produced row sent exactly once; the stub has each key exactly once; ids match."""
    ids = sorted(produced["channel"])
    with psycopg.connect(db_url, autocommit=True) as conn:
        db_rows = conn.execute(
            "SELECT id, status, attempts, provider, provider_id FROM outbox_messages "
            "WHERE id = ANY(%s)",
            (ids,),
        ).fetchall()
    statuses = Counter(status for _, status, _, _, _ in db_rows)
    attempts = Counter(attempt for _, _, attempt, _, _ in db_rows)
    db_provider_id = {row[0]: row[4] for row in db_rows}
    wanted = {f"grc-outbox-{i}": i for i in ids}
    accepted = [r for r in rows if 200 <= r[1] < 300 and r[2] in wanted]
    per_key = Counter(r[2] for r in accepted)
    duplicates = sum(n - 1 for n in per_key.values() if n > 1)
    missing = [k for k in wanted if k not in per_key]
    mismatched = sum(1 for r in accepted if db_provider_id.get(wanted[r[2]]) != r[3])
    refused = sum(1 for r in rows if not 200 <= r[1] < 300)
    unkeyed = sum(1 for r in rows if 200 <= r[1] < 300 and r[2] is None)
    ok = (
        statuses.get("sent", 0) == len(ids)
        and attempts.get(1, 0) == len(ids)
        and len(per_key) == len(ids)
        and duplicates == 0
        and not missing
        and mismatched == 0
    )
    return {
        "ok": ok,
        "messages": len(ids),
        "db_statuses": dict(statuses),
        "db_attempts": {str(k): v for k, v in attempts.items()},
        "stub_distinct_keys": len(per_key),
        "stub_accepted": len(accepted),
        "stub_duplicates": duplicates,
        "stub_missing": len(missing),
        "provider_id_mismatches": mismatched,
        "stub_refused_total": refused,
        "stub_unkeyed_total": unkeyed,
    }


def delivery_figures(produced: dict[str, Any], rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    committed, returned, channel = (
        produced["committed_at"],
        produced["returned_at"],
        produced["channel"],
    )
    first_seen: dict[int, float] = {}
    for _, status, key, _, at in rows:
        if 200 <= status < 300 and key and key.startswith("grc-outbox-"):
            message_id = int(key.removeprefix("grc-outbox-"))
            if message_id in committed and (
                message_id not in first_seen or at < first_seen[message_id]
            ):
                first_seen[message_id] = at
    if not first_seen:
        return {"delivered": 0}
    first_commit = min(committed.values())
    last_commit = max(committed.values())
    received = sorted(first_seen.values())
    delays = {i: first_seen[i] - committed[i] for i in first_seen}
    n = len(received)
    lo, hi = received[n // 10], received[(9 * n) // 10]
    # Messages received per whole second since the first commit (the shape of the run).
    timeline = Counter(int(at - first_commit) for at in received)
    return {
        "delivered": n,
        "window_s": received[-1] - first_commit,
        "messages_per_s": n / (received[-1] - first_commit),
        "produce_s": last_commit - first_commit,
        "committed_per_s": len(committed) / max(1e-9, produced["ended"] - produced["started"]),
        "stub_first_to_last_per_s": (n - 1) / max(1e-9, received[-1] - received[0]),
        "steady_per_s_10_90": (((9 * n) // 10 - n // 10) / (hi - lo)) if hi > lo else None,
        "delay_s": percentiles(list(delays.values())),
        "delay_sms_s": percentiles([d for i, d in delays.items() if channel[i] == "sms"]),
        "delay_email_s": percentiles([d for i, d in delays.items() if channel[i] == "email"]),
        "delay_from_commit_return_s": percentiles(
            [first_seen[i] - returned[i] for i in first_seen]
        ),
        "handover_per_batch_s": percentiles(produced["handover_s"]),
        "received_per_second": [timeline.get(s, 0) for s in range(max(timeline) + 1)],
        "channels": dict(Counter(channel.values())),
    }


# --- Delivery jobs: what the queue holds, what the workers ran --------------------------------


def jobs_run(log_path: Path) -> int:
    """Jobs a worker completed, from its log."""
    return log_lines([log_path])["rq_jobs_ok"]


def reset_delivery_queue(redis_conn: Any) -> int:
    """Empty the notifications queue and clear the 'a delivery job is waiting' flag, so the
    next commit wakes exactly one job. Returns how many jobs were left in the queue."""
    from rq import Queue

    from workers.dispatch import WAITING_FLAG

    queue = Queue("notifications", connection=redis_conn)
    left = queue.count
    queue.empty()
    redis_conn.delete(WAITING_FLAG)
    return left


class NoHandOver:
    """A dispatcher that hands nothing over: rows written for the in-process trace."""

    def __call__(self, messages: list[tuple[Any, Any]]) -> None:
        return None

    def wake(self) -> None:
        return None


# --- Diagnosis: one burst worker, plain and under cProfile; an in-process trace --------------


def _sum(stats: dict[Any, Any], path_part: str, name: str) -> tuple[int, float, float]:
    calls = tottime = cumtime = 0.0
    for (filename, _, funcname), (_cc, nc, tt, ct, _) in stats.items():
        if funcname == name and path_part in filename.replace("\\", "/"):
            calls, tottime, cumtime = calls + nc, tottime + tt, cumtime + ct
    return int(calls), tottime, cumtime


def analyse_profile(path: Path, messages: int, text_out: Path) -> dict[str, Any]:
    """Calls and cumulative ms per delivered message of the functions that matter."""
    stats = pstats.Stats(str(path))
    raw = stats.stats  # type: ignore[attr-defined]
    per_message: dict[str, dict[str, float]] = {}

    def add(key: str, part: str, name: str) -> None:
        calls, _, cum = _sum(raw, part, name)
        per_message[key] = {
            "calls_per_message": calls / messages,
            "ms_per_message": 1000 * cum / messages,
        }

    add("rq_work_loop", "rq/worker/base.py", "work")
    add("rq_execute_job", "rq/worker/", "execute_job")
    add("rq_perform_job", "rq/worker/", "perform_job")
    add("deliver_due_messages", "workers/jobs.py", "deliver_due_messages")
    add("job_started_flag", "workers/dispatch.py", "job_started")
    add("claim_due_messages", "grc/messaging/operations.py", "claim_due_messages")
    add("provider_message", "workers/jobs.py", "_provider_message")
    add("sending_send", "workers/jobs.py", "send")
    add("record_outcome", "workers/jobs.py", "_record_outcome")
    add("record_sent", "grc/messaging/operations.py", "record_sent")
    add("session_flush", "sqlalchemy/orm/session.py", "flush")
    add("session_commit", "sqlalchemy/orm/session.py", "commit")
    add("session_remove", "sqlalchemy/orm/scoping.py", "remove")
    add("build_senders", "notifications/factory.py", "build_senders")
    add("send_sms_twilio", "notifications/twilio_sms.py", "send_sms")
    add("send_email_sendgrid", "notifications/sendgrid_email.py", "send_email")
    add("sendgrid_build_mail", "notifications/sendgrid_email.py", "build_mail")
    add("twilio_http_request", "twilio/http/http_client.py", "request")
    add("psycopg_execute", "psycopg/cursor.py", "execute")
    add("psycopg_commit", "psycopg/connection.py", "commit")
    add("psycopg_rollback", "psycopg/connection.py", "rollback")
    add("redis_send_command", "redis/connection.py", "send_packed_command")
    add("redis_read_response", "redis/connection.py", "read_response")
    add("logging_handle", "logging/__init__.py", "handle")
    add("flask_app_context", "workers/app.py", "job_context")
    add("rq_dequeue", "rq/worker/base.py", "dequeue_job_and_maintain_ttl")
    add("rq_prepare_execution", "rq/worker/", "prepare_job_execution")
    add("rq_handle_success", "rq/worker/", "handle_job_success")
    add("rq_heartbeat", "rq/worker/", "heartbeat")
    socket_method = "<method '{}' of '_socket.socket' objects>"
    add("socket_recv_into", "~", socket_method.format("recv_into"))
    add("socket_connect", "~", socket_method.format("connect"))
    add("psycopg_connection_wait", "psycopg/connection.py", "wait")
    with text_out.open("w") as out:
        for order in ("cumulative", "tottime"):
            out.write(f"===== sorted by {order} =====\n")
            printer = pstats.Stats(str(path), stream=out)
            printer.sort_stats(order).print_stats(45)
    return per_message


def trace_round_trips(
    producer: Producer, args: argparse.Namespace, stamp: str, count: int
) -> dict[str, Any]:
    """In-process: ``workers.jobs.deliver_due_messages`` on ``count`` fresh rows, with every
    SQL statement, commit and pool check-out/reset counted (the job as the worker runs it,
    minus RQ; same batch and thread settings). The rows are written with a no-op hand-over
    so no worker is woken; the run's workers are stopped by then anyway."""
    from dataclasses import replace

    import sqlalchemy as sa

    from grc import worktable
    from workers.jobs import deliver_due_messages

    app = producer.app
    dispatchers = worktable.dispatchers(app)
    assert dispatchers is not None
    worktable.set_dispatchers(app, replace(dispatchers, delivery=NoHandOver()))
    try:
        produced = producer.produce(
            f"{stamp}-trace", count, args.sms_share, args.batch, 0, args.seed + 3
        )
    finally:
        worktable.set_dispatchers(app, dispatchers)
    statements: Counter[str] = Counter()
    events: Counter[str] = Counter()
    with app.app_context():
        engine = producer.db.engine

        def on_execute(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
            statements[" ".join(statement.split())[:90]] += 1

        listeners = [
            (engine, "before_cursor_execute", on_execute),
            (engine, "commit", lambda conn: events.update(["commit"])),
            (engine, "rollback", lambda conn: events.update(["rollback"])),
            (engine.pool, "checkout", lambda *a: events.update(["pool checkout"])),
            (engine.pool, "reset", lambda *a: events.update(["pool reset (rollback)"])),
        ]
        for target, name, fn in listeners:
            sa.event.listen(target, name, fn)
        # The job's per-message INFO lines would land on this terminal: keep it to counts.
        logging.disable(logging.INFO)
        started = time.perf_counter()
        try:
            summary = deliver_due_messages()
        finally:
            elapsed = time.perf_counter() - started
            logging.disable(logging.NOTSET)
            for target, name, fn in listeners:
                sa.event.remove(target, name, fn)
    return {
        "messages": count,
        "job_summary": summary,
        "wall_s": elapsed,
        "sql_statements_per_message": sum(statements.values()) / count,
        "statements_per_message": {k: v / count for k, v in statements.most_common()},
        "statements_total": dict(statements.most_common()),
        "events_per_message": {k: v / count for k, v in events.most_common()},
        "events_total": dict(events.most_common()),
        "produced_ids": [min(produced["channel"]), max(produced["channel"])],
        "_produced": produced,
        "note": "pool_pre_ping adds a ping per check-out that is not a cursor execute",
    }


def burst_worker(
    env: dict[str, str],
    producer: Producer,
    stub: StubProcess,
    redis_conn: Any,
    args: argparse.Namespace,
    tag: str,
    seed: int,
    log_path: Path,
    prefix: list[str] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Pre-fill ``--profile-messages`` rows while no worker runs (the real hand-over wakes a
    single delivery job: the first commit enqueues it, the others find it waiting), then run
    one ``--burst`` worker until the queue is empty."""
    count = args.profile_messages
    figures: dict[str, Any] = {"leftover_jobs_emptied": reset_delivery_queue(redis_conn)}
    base = stub.received
    produced = producer.produce(tag, count, args.sms_share, args.batch, 0, seed)
    figures["jobs_queued"] = queue_state(redis_conn, "notifications")["queued"]
    figures["ids"] = [min(produced["channel"]), max(produced["channel"])]
    worker = Worker(env, log_path, "--burst", prefix=prefix)
    try:
        started = time.time()
        figures["exit"] = worker.wait(900)
        figures["wall_s"] = time.time() - started
    finally:
        worker.stop()
    figures["jobs_run"] = jobs_run(log_path)
    wait_for_stub(stub, base + count, 30, 10, [])
    return figures, produced


def diagnose(
    args: argparse.Namespace,
    env: dict[str, str],
    producer: Producer,
    stub: StubProcess,
    redis_conn: Any,
    stamp: str,
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    count = args.profile_messages
    # a. one plain burst worker, the run's settings.
    log(f"diagnosis: {count} messages pre-queued; one plain burst worker")
    result["single_worker"], produced = burst_worker(
        env,
        producer,
        stub,
        redis_conn,
        args,
        f"{stamp}-single",
        args.seed + 1,
        RESULTS / f"notifications-{stamp}-single.log",
    )
    # b. the same under cProfile, one sending thread: cProfile sees only the job's thread.
    prof = RESULTS / f"notifications-{stamp}-worker.prof"
    log(
        f"diagnosis: {count} messages pre-queued; one burst worker under cProfile "
        "(GRC_DELIVERY_THREADS=1)"
    )
    result["profiled_worker"], produced_p = burst_worker(
        {**env, "GRC_DELIVERY_THREADS": "1"},
        producer,
        stub,
        redis_conn,
        args,
        f"{stamp}-profile",
        args.seed + 2,
        RESULTS / f"notifications-{stamp}-profiled.log",
        prefix=[sys.executable, "-m", "cProfile", "-o", str(prof)],
    )
    if prof.exists():
        result["profile_per_message"] = analyse_profile(
            prof, count, RESULTS / f"notifications-{stamp}-profile.txt"
        )
        result["profile_file"] = str(prof.relative_to(ROOT))
    # c. deliver_due_messages in-process, every statement counted.
    log(f"diagnosis: deliver_due_messages in-process on {TRACE_MESSAGES} rows")
    base = stub.received
    result["in_process_trace"] = trace_round_trips(producer, args, stamp, TRACE_MESSAGES)
    wait_for_stub(stub, base + TRACE_MESSAGES, 30, 10, [])
    result["_produced_single"] = produced
    result["_produced_profile"] = produced_p
    result["_produced_trace"] = result["in_process_trace"].pop("_produced")
    return result


def py_spy_record(py_spy: str, pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            py_spy,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(int(max(1, seconds))),
            "--rate",
            "200",
            "--format",
            "raw",
            "--output",
            str(out),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def summarise_py_spy(raw: Path, top: int = 25) -> dict[str, Any]:
    """Collapsed stacks -> share of samples per 'bucket' (RQ, DB, HTTP, logging, idle)."""
    buckets = Counter()
    leaves = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, samples = line.rpartition(" ")
        if not samples.isdigit():
            continue
        n = int(samples)
        total += n
        frames = stack.split(";")
        leaves[frames[-1]] += n
        joined = stack
        if "send_sms" in joined or "send_email" in joined:
            bucket = "provider HTTP (SDK + socket)"
        elif (
            "claim_due_messages" in joined
            or "_record_outcome" in joined
            or "commit" in joined
            or "psycopg" in joined
            or "sqlalchemy" in joined
        ):
            bucket = "database (SQLAlchemy + psycopg)"
        elif "concurrent/futures" in joined or "threading.py" in joined:
            bucket = "thread pool hand-off"
        elif "logging" in joined:
            bucket = "logging"
        elif "dequeue_job_and_maintain_ttl" in joined:
            bucket = "waiting for / fetching a job"
        elif "rq/" in joined or "redis" in joined:
            bucket = "RQ bookkeeping (Redis)"
        else:
            bucket = "other"
        buckets[bucket] += n
    return {
        "samples": total,
        "share": {k: round(v / total, 3) for k, v in buckets.most_common()} if total else {},
        "top_leaf_frames": [(k, round(v / total, 3)) for k, v in leaves.most_common(top)]
        if total
        else [],
    }


# --- Main -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--messages", "-n", type=int, default=5000)
    parser.add_argument(
        "--sms-share",
        type=float,
        default=0.7,
        help="share of SMS among the messages (the rest are e-mails)",
    )
    parser.add_argument("--batch", type=int, default=100, help="messages per producer commit")
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="pace the producer at this many messages/s (0: as fast as it can)",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--provider-delay-ms",
        type=float,
        default=0.0,
        help="the stub answers every request this late (real providers "
        "answer in ~100-300 ms; 0: at once)",
    )
    parser.add_argument("--database", default="grc_bench_notify")
    parser.add_argument(
        "--admin-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="URL of a database to connect to for CREATE DATABASE",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379")
    parser.add_argument(
        "--redis-db",
        type=int,
        default=14,
        help="Redis database number used (and FLUSHDB'd) by the bench",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=300,
        help="give up waiting for the deliveries after this many seconds",
    )
    parser.add_argument(
        "--delivery-batch",
        type=int,
        default=None,
        help="GRC_DELIVERY_BATCH for the workers: messages claimed per round "
        "trip (None: unset, the product's default)",
    )
    parser.add_argument(
        "--delivery-threads",
        type=int,
        default=None,
        help="GRC_DELIVERY_THREADS for the workers: concurrent provider calls "
        "per delivery job (None: unset, the product's default)",
    )
    parser.add_argument(
        "--profile-messages",
        type=int,
        default=1000,
        help="after the run: one burst worker, plain then under cProfile, on "
        "this many pre-queued messages, then an in-process trace (0: skip)",
    )
    parser.add_argument(
        "--py-spy",
        default=shutil.which("py-spy") or "",
        help="py-spy executable: record one worker during the run ('' skips)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    args = parser.parse_args(argv)
    if args.messages < 1 or args.batch < 1 or not 0 <= args.sms_share <= 1:
        parser.error("--messages and --batch must be positive, --sms-share within 0..1")
    for name in ("delivery_batch", "delivery_threads"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be positive")

    require_loopback(args.admin_url, "database")
    require_loopback(args.redis_url, "Redis")
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = utc_stamp()
    db_url = database_url(args.admin_url, args.database)
    redis_url = f"{args.redis_url.rstrip('/')}/{args.redis_db}"
    instance = Path(tempfile.mkdtemp(prefix="grc-bench-notify-"))

    result: dict[str, Any] = {
        "bench": "notifications",
        "started_utc": stamp,
        "options": {k: v for k, v in vars(args).items() if k != "admin_url"},
        "targets": {"messages_per_s": TARGET_PER_S, "p95_delay_s": TARGET_P95_S},
    }
    result["code"] = code_state()
    stop_on_sigterm(result)  # the finally below stops workers and stub
    stub: StubProcess | None = None
    workers: list[Worker] = []
    spy: subprocess.Popen[bytes] | None = None
    exit_code = 1
    try:
        import redis
        import sqlalchemy as sa

        redis_conn = redis.Redis.from_url(redis_url)
        redis_conn.flushdb()
        log(f"Redis db {args.redis_db} flushed; creating database {args.database}")
        create_database(args.admin_url, args.database)
        result["machine"] = machine(args.admin_url, redis_conn)

        # The delay applies to the run's N requests only: the diagnosis measures CPU.
        stub = StubProcess(args.provider_delay_ms / 1000, args.messages)
        log(f"provider stub on {stub.url} (pid {stub.process.pid})")
        env = production_env(
            db_url,
            instance,
            redis_url=redis_url,
            secret_key=SECRET_KEY,
            drop_prefixes=("TWILIO_", "SENDGRID_", "GRC_DELIVERY_"),
            SENDGRID_API_KEY="SG.test-key",
            SENDGRID_API_HOST=stub.url,
            TWILIO_ACCOUNT_SID="AC" + "0" * 31 + "1",
            TWILIO_AUTH_TOKEN="test-auth-token",  # noqa: S106 (the stub's, local only)
            TWILIO_FROM_NUMBER="+33700000000",
            TWILIO_API_BASE_URL=stub.url,
            GRC_EMAIL_FROM="ne-pas-repondre@bench.invalid",
            # Production sets it (Twilio status callbacks); the SMS message key rides in the
            # callback URL. Loopback, and never called: the stub sends no callback.
            GRC_PUBLIC_URL="http://127.0.0.1:9",
            PYTHONUNBUFFERED="1",
        )
        if args.delivery_batch is not None:
            env["GRC_DELIVERY_BATCH"] = str(args.delivery_batch)
        if args.delivery_threads is not None:
            env["GRC_DELIVERY_THREADS"] = str(args.delivery_threads)
        result["migrate_s"] = run_flask(env, "db", "upgrade")
        log(f"migrations applied in {result['migrate_s']:.1f} s")

        adopt_env(env, ("GRC_DELIVERY_",))  # the producer's create_app() reads them too
        producer = Producer()
        settings = producer.app.extensions["grc_settings"]
        result["delivery_settings"] = {
            "GRC_DELIVERY_BATCH": settings.delivery_batch,
            "GRC_DELIVERY_THREADS": settings.delivery_threads,
        }
        log(
            f"delivery jobs claim {settings.delivery_batch} messages per round and send from "
            f"{settings.delivery_threads} thread(s)"
        )
        # Warm the producer (imports, pool, first statements) without writing a message.
        with producer.app.app_context():
            producer.db.session.execute(sa.text("SELECT 1"))
            producer.db.session.remove()

        for number in range(args.workers):
            workers.append(Worker(env, RESULTS / f"notifications-{stamp}-worker{number}.log"))
        result["workers_ready_s"] = wait_for_rq_workers(redis_conn, workers, len(workers))
        log(
            f"{args.workers} workers registered in {result['workers_ready_s']:.1f} s "
            f"(pids {', '.join(str(w.pid) for w in workers)})"
        )
        time.sleep(1.0)  # let them settle in their blocking dequeue

        cpu_before = {w.pid: cpu_seconds(w.pid) for w in workers}
        cpu_before[stub.process.pid] = cpu_seconds(stub.process.pid)
        redis_pid = int(redis_conn.info("server").get("process_id", 0))
        redis_cpu_before = cpu_seconds(redis_pid) if redis_pid else None
        cpu_self_before = time.process_time()
        pg_before = backend_cpu(args.admin_url, args.database)
        system_before = system_cpu()
        result["loadavg_before"] = os.getloadavg()
        if args.py_spy:  # stopped with SIGINT once the run is over
            spy = py_spy_record(
                args.py_spy,
                workers[0].pid,
                args.timeout + 60,
                RESULTS / f"notifications-{stamp}-pyspy.txt",
            )

        log(
            f"writing {args.messages} messages in commits of {args.batch}"
            + (f" at {args.rate:.0f}/s" if args.rate else " as fast as possible")
        )
        produced = producer.produce(
            stamp, args.messages, args.sms_share, args.batch, args.rate, args.seed
        )
        log(f"  produced in {produced['ended'] - produced['started']:.2f} s; waiting for the stub")
        complete = wait_for_stub(stub, args.messages, args.timeout, 30, workers)
        ids = sorted(produced["channel"])
        sent = wait_for_sent(db_url, ids)
        cpu_after = {pid: cpu_seconds(pid) for pid in cpu_before}
        cpu_self = time.process_time() - cpu_self_before
        system_after = system_cpu()
        result["loadavg_after"] = os.getloadavg()
        pg_cpu = cpu_delta(pg_before, backend_cpu(args.admin_url, args.database))
        redis_cpu_after = cpu_seconds(redis_pid) if redis_pid else None
        redis_cpu = (
            redis_cpu_after - redis_cpu_before
            if redis_cpu_after is not None and redis_cpu_before is not None
            else 0.0
        )
        ours = sum((cpu_after[p] or 0) - (cpu_before[p] or 0) for p in cpu_before)
        busy = (system_after[0] - system_before[0]) / CLK_TCK
        total = (system_after[1] - system_before[1]) / CLK_TCK
        result["machine_cpu_during_run"] = {
            "busy_share": busy / total if total else None,
            "busy_cpu_s": busy,
            "ours_cpu_s": ours + pg_cpu + cpu_self + redis_cpu,
            "others_cpu_s": busy - ours - pg_cpu - cpu_self - redis_cpu,
            "note": "others = CPU used by anything but the bench, its workers, its stub, its "
            "PostgreSQL backends and redis-server (i.e. other people's work, PG "
            "background processes, the kernel's own threads)",
        }
        log(f"  stub received {stub.received}, database has {sent} sent")

        if spy is not None:
            try:
                if spy.poll() is None:
                    spy.send_signal(signal.SIGINT)  # py-spy writes what it has and exits
                _, err = spy.communicate(timeout=60)
                result["py_spy_exit"] = spy.returncode
                raw = RESULTS / f"notifications-{stamp}-pyspy.txt"
                if spy.returncode == 0 and raw.exists():
                    result["py_spy_worker0"] = summarise_py_spy(raw)
                else:
                    result["py_spy_error"] = err.decode(errors="replace")[-500:]
            except subprocess.TimeoutExpired:
                os.killpg(spy.pid, signal.SIGKILL)
                spy.wait()
            spy = None

        result["redis_after_run"] = queue_state(redis_conn, "notifications")
        for worker in workers:
            worker.stop()
        workers_logs = [str(w.log_path.relative_to(ROOT)) for w in workers]
        result["delivery_jobs_run_per_worker"] = [jobs_run(w.log_path) for w in workers]
        workers = []

        diagnosis: dict[str, Any] = {}
        if args.profile_messages > 0 and complete:
            diagnosis = diagnose(args, env, producer, stub, redis_conn, stamp)

        rows = stub.stop()
        result["check"] = check_delivery(db_url, produced, rows)
        result["run"] = delivery_figures(produced, rows)
        result["run"]["complete"] = complete
        delivered = max(1, result["run"].get("delivered", 0))
        result["cpu_ms_per_message"] = {
            "workers_total": 1000
            * sum(
                (cpu_after[w] or 0) - (cpu_before[w] or 0)
                for w in cpu_before
                if w != stub.process.pid
            )
            / delivered,
            "stub": 1000
            * ((cpu_after[stub.process.pid] or 0) - (cpu_before[stub.process.pid] or 0))
            / delivered,
            "producer_incl_handover": 1000 * cpu_self / delivered,
            "postgres_backends": 1000 * pg_cpu / delivered,
            "redis_server_shared": 1000 * redis_cpu / delivered,
        }
        result["cpu_ms_per_message"]["all_of_the_above"] = sum(
            result["cpu_ms_per_message"].values()
        )
        result["cpu_bound_capacity_msg_per_s_on_2_cores"] = (
            2000 / result["cpu_ms_per_message"]["all_of_the_above"]
        )
        result["worker_logs"] = workers_logs
        if diagnosis:
            single = diagnosis.pop("_produced_single")
            profiled = diagnosis.pop("_produced_profile")
            traced = diagnosis.pop("_produced_trace")
            for key, produced_here in (("single_worker", single), ("profiled_worker", profiled)):
                times = sorted(
                    r[4]
                    for r in rows
                    if r[2]
                    and r[2].startswith("grc-outbox-")
                    and int(r[2].removeprefix("grc-outbox-")) in produced_here["channel"]
                )
                if len(times) > 1:  # first to last receipt at the stub
                    span = times[-1] - times[0]
                    diagnosis[key]["per_s"] = (len(times) - 1) / span
                    diagnosis[key]["ms_per_message"] = 1000 * span / (len(times) - 1)
            diagnosis["single_worker_check"] = check_delivery(db_url, single, rows)
            diagnosis["profiled_check"] = check_delivery(db_url, profiled, rows)
            diagnosis["in_process_trace_check"] = check_delivery(db_url, traced, rows)
            result["diagnosis"] = diagnosis

        run = result["run"]
        met_rate = run.get("messages_per_s", 0) >= TARGET_PER_S
        met_p95 = run.get("delay_s", {}).get("p95", 1e9) < TARGET_P95_S
        checks = [result["check"]["ok"]] + [
            diagnosis[k]["ok"]
            for k in ("single_worker_check", "profiled_check", "in_process_trace_check")
            if k in diagnosis
        ]
        result["outcome"] = {
            "messages_per_s_target_met": met_rate,
            "p95_delay_target_met": met_p95,
            "checks_ok": all(checks),
        }
        exit_code = 0 if all(checks) else 2
    except KeyboardInterrupt:
        result["error"] = "interrupted"
        exit_code = 130
    finally:
        if spy is not None and spy.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(spy.pid, signal.SIGKILL)
        for worker in workers:
            worker.stop()
        if stub is not None:
            stub.stop()
        shutil.rmtree(instance, ignore_errors=True)
        if not args.keep_db:
            drop_database(args.admin_url, args.database)
        write_result("notifications", stamp, result, summarise(result))
    return exit_code


def summarise(result: dict[str, Any]) -> list[str]:
    run, check = result.get("run"), result.get("check")
    if not run or not check:
        return [f"no figures ({result.get('error', 'the run stopped early')})"]
    delay = run.get("delay_s", {})
    lines = [
        f"delivered {run.get('delivered')} messages ({run.get('channels')}); "
        f"checks {'OK' if check['ok'] else 'FAILED'}: {check}",
        f"throughput {run.get('messages_per_s', 0):.0f} msg/s first commit -> last receipt "
        f"(target {TARGET_PER_S:.0f}); steady 10-90% {run.get('steady_per_s_10_90') or 0:.0f}"
        f" msg/s; producer committed {run.get('committed_per_s', 0):.0f} msg/s",
        f"delay commit -> provider p50 {delay.get('p50', 0) * 1000:.0f} ms, p95 "
        f"{delay.get('p95', 0) * 1000:.0f} ms, p99 {delay.get('p99', 0) * 1000:.0f} ms, max "
        f"{delay.get('max', 0) * 1000:.0f} ms (target p95 < {TARGET_P95_S * 1000:.0f} ms)",
        f"CPU per message (ms): {json.dumps(result.get('cpu_ms_per_message'))}",
        f"delivery jobs run per worker: {result.get('delivery_jobs_run_per_worker')}; "
        f"machine: load {result.get('loadavg_before')} -> {result.get('loadavg_after')}, "
        f"others' CPU during the run "
        f"{(result.get('machine_cpu_during_run') or {}).get('others_cpu_s', 0):.1f} s",
    ]
    diag = result.get("diagnosis") or {}
    for key, label in (
        ("single_worker", "one burst worker alone"),
        ("profiled_worker", "the same under cProfile, 1 thread"),
    ):
        figures = diag.get(key) or {}
        if "per_s" in figures:
            lines.append(
                f"{label}: {figures['per_s']:.0f} msg/s "
                f"({figures['ms_per_message']:.2f} ms/message, "
                f"{figures.get('jobs_queued')} job queued, "
                f"{figures.get('jobs_run')} run)"
            )
    prof = diag.get("profile_per_message")
    if prof:
        lines.append(
            "profiled worker, per message: "
            + ", ".join(
                f"{k} {v['ms_per_message']:.3f} ms/{v['calls_per_message']:.2f}x"
                for k, v in prof.items()
                if v["calls_per_message"]
            )
        )
    trace = diag.get("in_process_trace")
    if trace:
        lines.append(
            f"in-process deliver_due_messages on {trace['messages']} rows "
            f"({trace['job_summary']}): {trace['sql_statements_per_message']:.2f} SQL "
            f"statements/message, events/message {trace['events_per_message']}"
        )
    if result.get("py_spy_worker0"):
        lines.append(f"py-spy worker 0: {result['py_spy_worker0']['share']}")
    return lines


if __name__ == "__main__":
    sys.exit(main())
