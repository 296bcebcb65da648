"""Workers under faults, as production runs them: real ``grc worker`` processes, a real
redis-server that is stopped and started again, the provider SDKs against the local stub.

A Redis outage never kills a worker and delivery resumes by itself once Redis is back; a
worker killed mid-batch leaves for a person only the SMS whose provider call had started;
a worker's scheduler process ends with it; an idle worker stops promptly when asked.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from redis import Redis
from rq import Queue, Worker

from grc.extensions import db
from grc.messaging import operations as outbox
from grc.messaging.models import DeliveryStatus, MessageChannel, OutboxMessage, Purpose
from tests.workers.conftest import wait_until
from workers import queues
from workers.jobs import sweep_outbox
from workers.worker import SingleQueueWorker


def _queue_sms(queued_app, numbers: range) -> None:
    """One SMS per number, each with a text of its own, written in one commit by the
    deployment's application (its hand-over wakes a delivery job, or fails quietly while
    Redis is down)."""
    with queued_app.app_context():
        _write_sms(numbers)


def _write_sms(numbers: range) -> None:
    for n in numbers:
        outbox.queue_message(
            db.session,
            outbox.NewMessage(
                idempotency_key=f"fault-test-{n}",
                channel=MessageChannel.SMS,
                purpose=Purpose.ACKNOWLEDGEMENT,
                recipient=f"+3361234{n:04d}",
                body_text=f"Message {n}",
            ),
        )
    db.session.commit()


def _statuses() -> dict[DeliveryStatus, int]:
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)
    )
    return dict(rows.all())


def _sent() -> int:
    return _statuses().get(DeliveryStatus.SENT, 0)


def _sweep(queued_app) -> int:
    """What ``rq cron`` runs every 30 s, run here in the deployment's settings."""
    with queued_app.app_context():
        return sweep_outbox()


def _bodies_at_the_stub(stub) -> list[str]:
    return sorted(sms.body for sms in stub.sms)


def test_a_redis_outage_while_a_worker_delivers_a_burst(queued_app, workers, stub, redis_server):
    worker = workers.start("notifications", "--with-scheduler", env={"GRC_DELIVERY_THREADS": "8"})
    # The first waves of calls are slow: the worker is busy when Redis goes away.
    stub.respond_next(delay=0.5, times=32, provider="twilio")
    _queue_sms(queued_app, range(200))
    wait_until(lambda: len(stub.requests) >= 1, what="the burst to reach the stub")
    redis_server.stop()

    # The job that was running delivers its burst from the database; its bookkeeping in
    # Redis then fails, which used to end the worker.
    wait_until(lambda: _sent() == 200, timeout=30, what="the burst to be delivered")
    time.sleep(1)
    _queue_sms(queued_app, range(200, 300))  # claims made during the outage: their hand-over fails
    time.sleep(3)  # an outage longer than the worker's first waits
    assert worker.poll() is None, "the worker died with Redis"

    redis_server.start()

    def all_delivered() -> bool:
        _sweep(queued_app)  # as rq cron does, but every second
        return _sent() == 300

    wait_until(all_delivered, timeout=60, interval=1, what="delivery after Redis's return")
    time.sleep(0.5)
    assert _bodies_at_the_stub(stub) == sorted(f"Message {n}" for n in range(300))
    assert _statuses() == {DeliveryStatus.SENT: 300}
    assert worker.poll() is None  # nobody restarted it
    # Back in RQ's registry (the restarted Redis had forgotten it), its scheduler running.
    connection = Redis.from_url(redis_server.url)
    [registered] = Worker.all(queue=Queue(queues.NOTIFICATIONS, connection=connection))
    assert registered.pid == worker.pid
    assert [pid for pid in _children(worker.pid) if _running(pid)]


def test_a_worker_started_while_redis_is_down_waits_for_it(queued_app, workers, stub, redis_server):
    redis_server.stop()
    worker = workers.start()
    log = Path(workers.log_dir, "worker-0.log")
    wait_until(
        lambda: worker.poll() is not None or "Redis is unreachable" in log.read_text(),
        what="the worker to meet the missing Redis",
    )
    time.sleep(1)
    assert worker.poll() is None, "the worker gave up on Redis at start"
    redis_server.start()
    _queue_sms(queued_app, range(3))
    wait_until(lambda: _sent() == 3, what="delivery once Redis answers")
    assert _bodies_at_the_stub(stub) == [f"Message {n}" for n in range(3)]


def test_a_worker_killed_mid_batch_leaves_only_started_sms_to_a_person(queued_app, workers, stub):
    first = workers.start(env={"GRC_DELIVERY_THREADS": "4", "GRC_DELIVERY_BATCH": "20"})
    stub.respond_next(delay=30, times=4, provider="twilio")  # the first wave hangs
    _queue_sms(queued_app, range(20))
    wait_until(lambda: len(stub.requests) == 4, what="the first wave of calls")
    time.sleep(0.3)
    assert len(stub.requests) == 4  # the rest of the batch waits for that wave
    workers.kill(first)

    workers.start()
    time.sleep(2.1)  # the dead worker's lease (GRC_DELIVERY_LEASE_SECONDS=2) runs out
    assert _sweep(queued_app) == 20
    wait_until(lambda: _sent() == 16, what="the never-called SMS to be sent")
    time.sleep(0.5)
    assert _statuses() == {DeliveryStatus.SENT: 16, DeliveryStatus.NEEDS_CHECK: 4}
    called_first = {request.form["Body"] for request in stub.requests[:4]}
    db.session.expire_all()
    set_aside = db.session.scalars(
        sa.select(OutboxMessage.body_text).where(OutboxMessage.status == DeliveryStatus.NEEDS_CHECK)
    ).all()
    assert set(set_aside) == called_first
    # Every SMS reached the provider exactly once.
    assert _bodies_at_the_stub(stub) == sorted(f"Message {n}" for n in range(20))


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # an exited orphan nobody reaped yet is not running


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_the_scheduler_process_ends_with_a_killed_worker(workers):
    worker = workers.start("notifications", "--with-scheduler")
    wait_until(lambda: _children(worker.pid), what="the scheduler process")
    [scheduler] = _children(worker.pid)
    os.kill(worker.pid, signal.SIGKILL)  # the worker alone, as the OOM killer would
    worker.wait(timeout=10)
    wait_until(lambda: not _running(scheduler), timeout=10, what="the scheduler to end")


def test_an_idle_worker_stops_on_sigterm_within_seconds(queued_app, workers, stub):
    worker = workers.start("notifications", "--with-scheduler")
    _queue_sms(queued_app, range(1))
    wait_until(lambda: _sent() == 1, what="a delivery")
    time.sleep(0.5)  # idle again, waiting for the next job
    worker.send_signal(signal.SIGTERM)
    try:
        assert worker.wait(timeout=8) == 0
    except subprocess.TimeoutExpired:
        pytest.fail("an idle worker took more than 8 s to stop on SIGTERM")


def test_a_stopping_worker_does_not_wait_for_its_command_channel(redis_server):
    """The race that made an idle worker take a minute to stop: the thread listening to
    RQ's command channel gets the unsubscription before it is told to stop, and then waits
    its whole polling time before it looks again; the stop waits for that thread."""
    worker = SingleQueueWorker([queues.NOTIFICATIONS], connection=Redis.from_url(redis_server.url))
    worker.subscribe()
    worker.pubsub.unsubscribe()
    wait_until(lambda: not worker.pubsub.subscribed, what="the thread to see the unsubscription")
    worker.pubsub_thread.stop(timeout=4)
    assert not worker.pubsub_thread.is_alive()
