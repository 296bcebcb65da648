"""The outbox with real Redis, real worker processes and the real provider SDKs (against the
local stub): nothing is lost, nothing is sent twice."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest
import sqlalchemy as sa

from grc.extensions import db
from grc.messaging.models import DeliveryStatus, OutboxMessage, Purpose
from grc.people.models import Channel
from tests.factories import claim_payload, without_contracts
from tests.workers.conftest import ROOT, wait_until
from workers.jobs import sweep_outbox


@pytest.fixture(autouse=True)
def _tenant_messages_only(request):
    """Claims go to units: the messages these tests follow are the tenants' (work orders to
    contractors are tested with the inbound e-mail). The world is built in the deployment's
    application context, as the tests use it."""
    if "world" not in request.fixturenames:
        return
    if "queued_app" in request.fixturenames:
        request.getfixturevalue("queued_app")
    without_contracts(db.session, request.getfixturevalue("world"))


def _acknowledgement() -> OutboxMessage:
    db.session.expire_all()
    return db.session.execute(
        sa.select(OutboxMessage).where(OutboxMessage.purpose == Purpose.ACKNOWLEDGEMENT)
    ).scalar_one()


def _create_claim(queued_app, world) -> dict:
    response = queued_app.test_client().post(
        "/api/v1/claims", json=claim_payload(world), headers=world.headers("agent")
    )
    assert response.status_code == 201, response.json
    return response.json


def _sweep(queued_app) -> int:
    with queued_app.app_context():  # the deployment's settings and RQ hand-over
        return sweep_outbox()


def _sweep_when_due(queued_app) -> int:
    time.sleep(1.1)  # GRC_SWEEP_AFTER_SECONDS=1 in these tests
    return _sweep(queued_app)


def test_delivered_by_a_worker_through_the_twilio_sdk(queued_app, world, workers, stub):
    workers.start()
    claim = _create_claim(queued_app, world)
    wait_until(lambda: _acknowledgement().status == DeliveryStatus.SENT, what="delivery")
    [sms] = stub.sms
    assert sms.to == "+33612345678"
    assert sms.from_ == "+33700000000"
    assert claim["reference"] in sms.body
    message = _acknowledgement()
    assert message.provider_id == sms.sid
    assert message.attempts == 1


def test_claim_saved_while_redis_is_down_is_acknowledged_after_recovery(
    queued_app, world, workers, stub, redis_server
):
    redis_server.stop()
    claim = _create_claim(queued_app, world)  # 201: the hand-over failure is not the client's
    assert _acknowledgement().status == DeliveryStatus.PENDING

    redis_server.start()
    workers.start()
    assert _sweep_when_due(queued_app) == 1
    wait_until(lambda: _acknowledgement().status == DeliveryStatus.SENT, what="delivery")
    assert [s.body for s in stub.sms if claim["reference"] in s.body] == [stub.sms[0].body]
    assert len(stub.sms) == 1


def test_process_dying_between_commit_and_hand_over(queued_app, world, workers, stub):
    """The web process commits the claim and dies before enqueueing: the sweeper covers."""
    script = textwrap.dedent(f"""
        import os
        from grc import create_app
        from dataclasses import replace
        from grc import worktable
        from tests.dispatchers import Calling
        app = create_app()
        worktable.set_dispatchers(
            app, replace(worktable.dispatchers(app), delivery=Calling(lambda _: os._exit(0)))
        )
        response = app.test_client().post(
            "/api/v1/claims", headers={{"Authorization": "Bearer {world.tokens["agent"]}"}},
            json={{"category": "PLB-FUITE", "channel": "phone", "description": "Fuite",
                   "dwelling_id": {world.dwellings["TIL-11"].id}}})
        raise SystemExit("the process should have died right after the commit")
    """)
    died = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=workers.env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert died.returncode == 0, died.stdout + died.stderr
    assert _acknowledgement().status == DeliveryStatus.PENDING
    assert stub.sms == []

    workers.start()
    assert _sweep_when_due(queued_app) == 1
    wait_until(lambda: _acknowledgement().status == DeliveryStatus.SENT, what="delivery")
    assert _sweep_when_due(queued_app) == 0  # delivered: nothing to hand over again
    time.sleep(0.5)
    assert len(stub.sms) == 1


def test_worker_killed_during_an_sms_delivery(queued_app, world, workers, stub):
    """The provider may have the SMS: it is not sent blindly again but set aside."""
    stub.respond_next(delay=6, provider="twilio")
    first = workers.start()
    _create_claim(queued_app, world)
    wait_until(lambda: len(stub.requests) == 1, what="the SMS to reach the stub")
    workers.kill(first)
    assert _acknowledgement().status == DeliveryStatus.SENDING

    workers.start()
    time.sleep(2.1)  # the dead worker's lease (GRC_DELIVERY_LEASE_SECONDS=2) runs out
    assert _sweep(queued_app) == 1
    wait_until(lambda: _acknowledgement().status == DeliveryStatus.NEEDS_CHECK, what="set aside")
    time.sleep(0.5)
    assert len(stub.requests) == 1  # exactly one SMS ever reached the provider
    assert "check with the provider" in _acknowledgement().last_error


def test_worker_killed_during_an_email_delivery(queued_app, world, workers, stub):
    """An e-mail is sent again with the same message key: the provider holds one message."""
    tenant = world.tenants["TIL-11"]
    tenant.preferred_channel = Channel.EMAIL
    db.session.commit()
    stub.respond_next(delay=6, provider="sendgrid")
    first = workers.start()
    _create_claim(queued_app, world)
    wait_until(lambda: len(stub.requests) == 1, what="the e-mail to reach the stub")
    workers.kill(first)

    workers.start()
    time.sleep(2.1)
    assert _sweep(queued_app) == 1
    wait_until(lambda: _acknowledgement().status == DeliveryStatus.SENT, what="resend")
    message = _acknowledgement()
    assert message.attempts == 2
    assert stub.distinct_email_keys() == [message.message_key]


def test_worker_on_two_queues_refuses_to_start(workers):
    both = subprocess.run(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "wsgi",
            "grc",
            "worker",
            "default",
            "notifications",
        ],
        cwd=ROOT,
        env=workers.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert both.returncode == 2
    assert "exactly one queue" in both.stderr
    with_rq = subprocess.run(
        [
            sys.executable,
            "-m",
            "rq.cli",
            "worker",
            "-w",
            "workers.worker.SingleQueueWorker",
            "-u",
            workers.env["REDIS_URL"],
            "--burst",
            "default",
            "notifications",
        ],
        cwd=ROOT,
        env=workers.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert with_rq.returncode != 0
    assert "exactly one queue" in with_rq.stdout + with_rq.stderr


def test_quiet_hours_sms_is_scheduled_in_rq(queued_app, world, redis_server):
    from datetime import UTC, datetime

    from freezegun import freeze_time
    from rq import Queue

    from workers import queues

    with freeze_time(datetime(2026, 3, 10, 21, 30, tzinfo=UTC)):  # 22:30 in Paris
        response = queued_app.test_client().post(
            "/api/v1/claims",
            json=claim_payload(world, category="PLB-ROBINET"),
            headers=world.headers("agent"),
        )
    assert response.status_code == 201
    message = _acknowledgement()
    assert message.available_at == datetime(2026, 3, 11, 7, 0, tzinfo=UTC)
    queue = Queue(queues.NOTIFICATIONS, connection=queues.connection(redis_server.url))
    assert queue.count == 0
    [job_id] = queue.scheduled_job_registry.get_job_ids()
    job = queue.fetch_job(job_id)
    assert job.func_name == "workers.jobs.deliver_due_messages"
    assert job.args == ()  # it takes whatever is due: no personal data in Redis
    assert queue.scheduled_job_registry.get_scheduled_time(job_id) == datetime(
        2026, 3, 11, 7, 0, tzinfo=UTC
    )

    # The rest of the night's texts are due at the same minute: that job takes them too.
    for moment in (
        datetime(2026, 3, 10, 23, 5, tzinfo=UTC),
        datetime(2026, 3, 11, 4, 0, tzinfo=UTC),
    ):
        with freeze_time(moment):
            again = queued_app.test_client().post(
                "/api/v1/claims",
                json=claim_payload(world, category="PLB-ROBINET"),
                headers=world.headers("agent"),
            )
        assert again.status_code == 201
    assert queue.scheduled_job_registry.get_job_ids() == [job_id]
    # The next night's get a job of their own.
    with freeze_time(datetime(2026, 3, 11, 22, 0, tzinfo=UTC)):
        queued_app.test_client().post(
            "/api/v1/claims",
            json=claim_payload(world, category="PLB-ROBINET"),
            headers=world.headers("agent"),
        )
    times = [
        queue.scheduled_job_registry.get_scheduled_time(j)
        for j in queue.scheduled_job_registry.get_job_ids()
    ]
    assert sorted(times) == [
        datetime(2026, 3, 11, 7, 0, tzinfo=UTC),
        datetime(2026, 3, 12, 7, 0, tzinfo=UTC),
    ]


def test_provider_error_is_retried_by_rq(queued_app, world, workers, stub, redis_server):
    from rq import Queue

    from workers import queues

    stub.fail_next(503, provider="twilio")
    worker = workers.start()
    _create_claim(queued_app, world)
    wait_until(
        lambda: (
            _acknowledgement().attempts == 1 and _acknowledgement().status == DeliveryStatus.PENDING
        ),
        what="first attempt",
    )
    message = _acknowledgement()
    assert "503" in message.last_error
    queue = Queue(queues.NOTIFICATIONS, connection=queues.connection(redis_server.url))
    # RQ's Retry put the job back with a delay (released by a worker --with-scheduler).
    wait_until(lambda: len(queue.scheduled_job_registry.get_job_ids()) == 1, what="retry")
    workers.kill(worker)
    assert len(stub.sms) == 0


def test_logs_carry_no_personal_data(queued_app, world, workers, stub):
    tenant = world.tenants["TIL-11"]
    workers.start()
    _create_claim(queued_app, world)
    wait_until(lambda: _acknowledgement().status == DeliveryStatus.SENT, what="delivery")
    time.sleep(0.3)
    logs = "".join(p.read_text(errors="replace") for p in workers.log_dir.glob("worker-*.log"))
    assert f"message {_acknowledgement().id} sent" in logs, logs
    for secret in (
        tenant.last_name,
        tenant.first_name,
        "+33612345678",
        "0612345678",
        tenant.email,
        "Fuite",
    ):
        assert secret not in logs, secret


def test_commits_wake_one_waiting_delivery_job(queued_app, world, redis_server):
    """Every commit that queues a message needs a delivery job to come, but one job waiting
    in the queue takes all of them: a burst of claims enqueues one, not one per claim."""
    from rq import Queue

    from workers import queues
    from workers.dispatch import DELIVERY, job_started

    queue = Queue(queues.NOTIFICATIONS, connection=queues.connection(redis_server.url))
    for _ in range(3):
        _create_claim(queued_app, world)
    assert queue.count == 1
    [job] = queue.get_jobs()
    assert (job.func_name, job.args) == ("workers.jobs.deliver_due_messages", ())

    with queued_app.app_context():
        job_started(DELIVERY)  # what the job does before it looks for due messages
    _create_claim(queued_app, world)
    assert queue.count == 2  # this one may have come too late for the first job: a second


def test_a_burst_is_delivered_once_each_by_two_workers(queued_app, world, workers, stub):
    workers.start()
    workers.start()
    references = [_create_claim(queued_app, world)["reference"] for _ in range(12)]
    wait_until(lambda: len(stub.sms) >= 12, what="12 SMS at the stub")
    time.sleep(0.5)
    assert sorted(s.body.split("R-")[1][:11] for s in stub.sms) == sorted(
        r.removeprefix("R-") for r in references
    )
    db.session.expire_all()
    rows = db.session.execute(sa.select(OutboxMessage)).scalars().all()
    assert {(m.status, m.attempts) for m in rows} == {(DeliveryStatus.SENT, 1)}
