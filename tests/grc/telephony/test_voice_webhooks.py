"""Twilio's voice webhooks through the real endpoints, signed as Twilio signs them: the call
recorded once and queued, its end (answered or abandoned, with its times) from the two
callbacks in any order, repeated or at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from xml.etree import ElementTree as ET

import pytest
import sqlalchemy as sa

from grc.extensions import db
from grc.telephony.models import Call, CallStatus
from tests.grc.messaging.provider_apps import PUBLIC_URL, Site
from tests.grc.telephony.conftest import (
    CALL_CENTRE_NUMBER,
    QUEUE,
    QUEUE_PATH,
    TENANT_NUMBER,
    incoming,
    left_queue,
    new_sid,
    status_callback,
)


def _calls() -> list[Call]:
    db.session.expire_all()
    return list(db.session.execute(sa.select(Call).order_by(Call.id)).scalars())


def _call(sid: str) -> Call:
    db.session.expire_all()
    return db.session.execute(sa.select(Call).where(Call.call_sid == sid)).scalar_one()


def _twiml(response) -> ET.Element:
    return ET.fromstring(response.get_data())  # noqa: S314 - our own answer, not foreign input


def _enqueue(response) -> ET.Element:
    """The <Enqueue> of a TwiML answer, parsed as XML."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/xml"
    root = _twiml(response)
    assert root.tag == "Response"
    [enqueue] = list(root)
    assert enqueue.tag == "Enqueue"
    return enqueue


def test_a_signed_call_is_recorded_and_queued_with_an_action_back_to_us(site):
    sid = new_sid()

    enqueue = _enqueue(incoming(site, sid, caller="+33 6 12 34 56 78"))

    # The queue name holds <, > & and quotes: escaped by the serialiser, read back whole.
    assert enqueue.text == QUEUE
    assert enqueue.attrib == {"action": f"{PUBLIC_URL}{QUEUE_PATH}", "method": "POST"}
    [call] = _calls()
    assert call.call_sid == sid
    assert call.caller_number == TENANT_NUMBER  # E.164, like tenant phones
    assert call.called_number == CALL_CENTRE_NUMBER
    assert call.status == CallStatus.WAITING
    assert call.received_at is not None
    assert (call.taken_at, call.ended_at) == (None, None)


def test_a_withheld_number_is_recorded_without_a_caller_number(site):
    sid = new_sid()
    _enqueue(incoming(site, sid, caller="anonymous"))
    assert _call(sid).caller_number is None


def test_a_repeated_webhook_is_queued_again_and_recorded_once(site):
    sid = new_sid()
    answers = [_enqueue(incoming(site, sid)).text for _ in range(3)]
    assert answers == [QUEUE] * 3
    assert [c.call_sid for c in _calls()] == [sid]


@pytest.mark.parametrize(
    ("post", "recorded_first"),
    [
        (lambda site, sid: incoming(site, sid, sign=False), False),
        (lambda site, sid: incoming(site, sid, token="not-the-token"), False),
        (lambda site, sid: left_queue(site, sid, "hangup", "12", sign=False), True),
        (lambda site, sid: status_callback(site, sid, "completed", "40", token="forged"), True),
    ],
    ids=["unsigned call", "forged call", "unsigned queue result", "forged status"],
)
def test_unsigned_or_forged_callbacks_are_refused_and_change_nothing(site, post, recorded_first):
    sid = new_sid()
    if recorded_first:
        _enqueue(incoming(site, sid))
    before = [(c.call_sid, c.status, c.ended_at) for c in _calls()]

    response = post(site, sid)

    assert response.status_code == 403
    assert [(c.call_sid, c.status, c.ended_at) for c in _calls()] == before


def test_without_twilio_credentials_every_voice_callback_is_refused(make_site):
    site = make_site(twilio_account_sid=None, twilio_auth_token=None, twilio_from_number=None)
    assert incoming(site, new_sid()).status_code == 403
    assert _calls() == []


@pytest.mark.parametrize(
    ("post", "field"),
    [
        (lambda site: incoming(site, ""), "CallSid"),
        (lambda site: incoming(site, "CA" + "9" * 80), "CallSid"),
        (lambda site: left_queue(site, new_sid(), "", "3"), "QueueResult"),
        (lambda site: left_queue(site, new_sid(), "hangup", "-3"), "QueueTime"),
        (lambda site: left_queue(site, new_sid(), "hangup", "soon"), "QueueTime"),
        (lambda site: status_callback(site, new_sid(), ""), "CallStatus"),
        (lambda site: status_callback(site, new_sid(), "completed", "1e9"), "CallDuration"),
    ],
)
def test_a_signed_callback_missing_a_field_gets_400_naming_it(site, post, field):
    response = post(site)
    assert response.status_code == 400
    assert list(response.json["errors"]["form"]) == [field]
    assert field in response.json["message"]
    assert _calls() == []


def _answered_in_order(site: Site, sid: str, order: str) -> None:
    callbacks: dict[str, Callable[[], object]] = {
        "queue": lambda: left_queue(site, sid, "bridged", "30"),
        "status": lambda: status_callback(site, sid, "completed", "200"),
    }
    for name in order.split(","):
        response = callbacks[name]()
        assert response.status_code in (200, 204)


@pytest.mark.parametrize("order", ["queue,status", "status,queue"])
def test_an_answered_call_has_its_waiting_and_handling_times_whatever_the_order(site, order):
    sid = new_sid()
    _enqueue(incoming(site, sid))
    site.client.post(f"/api/v1/calls/{_call(sid).id}/take", headers=site.world.headers("agent"))

    _answered_in_order(site, sid, order)

    call = _call(sid)
    assert call.status == CallStatus.ANSWERED
    assert (call.queue_result, call.provider_status) == ("bridged", "completed")
    assert (call.wait_seconds, call.duration_seconds) == (30, 200)
    assert call.handling_seconds == 170  # the call's duration includes its wait
    assert call.ended_at is not None
    assert call.ended_at >= call.received_at


@pytest.mark.parametrize("order", ["queue,status", "status,queue"])
def test_a_caller_who_hangs_up_in_the_queue_is_abandoned_whatever_the_order(site, order):
    sid = new_sid()
    _enqueue(incoming(site, sid))
    for name in order.split(","):
        if name == "queue":
            hangup = left_queue(site, sid, "hangup", "45")
            assert hangup.status_code == 200
            assert [e.tag for e in _twiml(hangup)] == ["Hangup"]
        else:
            assert status_callback(site, sid, "completed", "45").status_code == 204

    call = _call(sid)
    assert call.status == CallStatus.ABANDONED
    assert (call.wait_seconds, call.duration_seconds) == (45, 45)
    assert call.handling_seconds is None
    assert call.ended_at is not None


def test_a_taken_call_that_twilio_reports_hung_up_in_the_queue_is_abandoned(site):
    """The agent clicked as the caller hung up: <Enqueue>'s report has the last word."""
    sid = new_sid()
    _enqueue(incoming(site, sid))
    site.client.post(f"/api/v1/calls/{_call(sid).id}/take", headers=site.world.headers("agent"))
    assert status_callback(site, sid, "completed", "20").status_code == 204
    assert _call(sid).status == CallStatus.ANSWERED  # taken, and over: presumed answered
    assert left_queue(site, sid, "hangup", "20").status_code == 200
    assert _call(sid).status == CallStatus.ABANDONED


@pytest.mark.parametrize("status", ["busy", "failed", "no-answer", "canceled"])
def test_a_call_that_ends_unanswered_by_its_status_is_abandoned(site, status):
    sid = new_sid()
    _enqueue(incoming(site, sid))
    assert status_callback(site, sid, status, "0").status_code == 204
    assert _call(sid).status == CallStatus.ABANDONED


def test_repeated_and_late_callbacks_never_undo_the_end(site):
    sid = new_sid()
    _enqueue(incoming(site, sid))
    status_callback(site, sid, "completed", "200")
    left_queue(site, sid, "bridged", "30")
    ended = _call(sid)
    first = (ended.status, ended.ended_at, ended.wait_seconds, ended.duration_seconds)

    # Repeats with other figures, and news of earlier moments arriving late.
    for late in ("ringing", "in-progress", "queued"):
        assert status_callback(site, sid, late).status_code == 204
    assert status_callback(site, sid, "completed", "999").status_code == 204
    assert status_callback(site, sid, "failed", "0").status_code == 204
    assert left_queue(site, sid, "hangup", "999").status_code == 200

    again = _call(sid)
    assert (again.status, again.ended_at, again.wait_seconds, again.duration_seconds) == first
    assert (again.queue_result, again.provider_status) == ("bridged", "completed")


def test_callbacks_about_an_unknown_call_change_nothing(site):
    assert status_callback(site, new_sid(), "completed", "10").status_code == 204
    assert left_queue(site, new_sid(), "hangup", "10").status_code == 200
    assert _calls() == []


def _at_once(count: int, post: Callable[[], int]) -> list[int]:
    barrier = threading.Barrier(count)
    statuses: list[int] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        status = post()
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


def test_the_same_callbacks_at_once_on_postgresql_record_one_call_and_one_end(site, backend):
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers; concurrency is a PostgreSQL matter")
    sid = new_sid()
    # Each thread its own client: each request with its own application context and session.
    calls = _at_once(4, lambda: incoming(site, sid, client=site.app.test_client()).status_code)
    assert calls == [200] * 4
    assert [c.call_sid for c in _calls()] == [sid]

    # Three copies of each ending callback, all at once.
    posts = iter(
        [lambda c: left_queue(site, sid, "bridged", "30", client=c).status_code] * 3
        + [lambda c: status_callback(site, sid, "completed", "200", client=c).status_code] * 3
    )
    lock = threading.Lock()

    def one_of_them() -> int:
        with lock:
            post = next(posts)
        return post(site.app.test_client())

    assert sorted(_at_once(6, one_of_them)) == [200, 200, 200, 204, 204, 204]
    call = _call(sid)
    assert call.status == CallStatus.ANSWERED
    assert (call.queue_result, call.provider_status) == ("bridged", "completed")
    assert (call.wait_seconds, call.duration_seconds, call.handling_seconds) == (30, 200, 170)
    assert call.ended_at is not None
