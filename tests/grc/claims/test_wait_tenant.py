"""Waiting for the tenant: the question is required, goes out in the text, and is withdrawn
when the claim is resumed before it left."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from grc.claims.models import Claim, ClaimEvent, ClaimStatus, EventKind
from grc.extensions import db
from grc.messaging.models import DeliveryStatus, MessageChannel, OutboxMessage, Purpose
from grc.messaging.operations import NewMessage, cancel_pending, claim_due_messages, queue_message
from notifications.base import sms_segments
from tests.factories import claim_payload

WEEKDAY_MORNING = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # Tuesday 10:00 in Paris
WEEKDAY_NIGHT = datetime(2026, 3, 10, 21, 30, tzinfo=UTC)  # 22:30 in Paris: quiet hours
LATER_THAT_NIGHT = datetime(2026, 3, 10, 22, 15, tzinfo=UTC)
NEXT_MORNING = datetime(2026, 3, 11, 7, 5, tzinfo=UTC)  # 08:05 in Paris


def _create(client, world, **overrides):
    response = client.post(
        "/api/v1/claims",
        json=claim_payload(world, category="PLB-ROBINET", **overrides),  # standard priority
        headers=world.headers("agent"),
    )
    assert response.status_code == 201, response.json
    return response.json


def _transition(client, world, claim_id, action, comment=None):
    body = {"action": action} | ({"comment": comment} if comment is not None else {})
    return client.post(
        f"/api/v1/claims/{claim_id}/transitions", json=body, headers=world.headers("metz_tech")
    )


def _questions() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.purpose == Purpose.QUESTION)
            .order_by(OutboxMessage.id)
        )
    )


@pytest.mark.parametrize("comment", [None, "", "   \n "])
def test_waiting_for_the_tenant_needs_the_question(client, world, sent, comment):
    with freeze_time(WEEKDAY_MORNING):
        claim = _create(client, world)
        response = _transition(client, world, claim["id"], "wait_tenant", comment)
    assert response.status_code == 422
    assert "comment" in response.json["errors"]["json"]
    db.session.expire_all()
    assert db.session.get(Claim, claim["id"]).status == ClaimStatus.ASSIGNED
    assert _questions() == []
    statuses = db.session.scalars(
        sa.select(ClaimEvent.id).where(
            ClaimEvent.claim_id == claim["id"], ClaimEvent.kind == EventKind.STATUS_CHANGED
        )
    ).all()
    assert statuses == []


@pytest.mark.parametrize("channel", ["sms", "email"])
def test_the_question_is_in_the_tenants_message(client, world, sent, channel):
    if channel == "email":
        from grc.people.models import Channel

        world.tenants["TIL-11"].preferred_channel = Channel.EMAIL
        db.session.commit()
    with freeze_time(WEEKDAY_MORNING):
        claim = _create(client, world)
        response = _transition(
            client, world, claim["id"], "wait_tenant", "Quel jour êtes-vous disponible ?"
        )
    assert response.status_code == 200, response.json
    [question] = _questions()
    assert question.channel == channel
    assert question.status == DeliveryStatus.SENT
    assert claim["reference"] in question.body_text
    # In a text, letters outside the GSM alphabet (ê) are folded to keep 160-character parts.
    asked = "Quel jour etes-vous disponible ?" if channel == "sms" else "Quel jour êtes-vous"
    assert asked in question.body_text


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_a_long_question_is_cut_at_a_word_to_fit_two_sms(client, world, sent, locale):
    world.tenants["TIL-11"].locale = locale
    db.session.commit()
    long_question = (
        "Pourriez-vous nous préciser à quelle heure la fuite a commencé, "
        "si le voisin du dessous a été prévenu, et nous envoyer une photo du plafond ? " * 6
    )
    with freeze_time(WEEKDAY_MORNING):
        claim = _create(client, world)
        asked = _transition(client, world, claim["id"], "wait_tenant", long_question)
        assert asked.status_code == 200
    [question] = _questions()
    text = question.body_text
    assert sms_segments(text) <= 2, text
    assert claim["reference"] in text
    start = text.index("Pourriez-vous nous préciser à quelle heure")
    kept = text[start:].split("... ")[0]  # the cut is shown…
    assert len(kept) > 100
    assert long_question.startswith(kept)
    assert long_question[len(kept)] == " "  # …after a whole word


def test_a_question_held_by_quiet_hours_is_withdrawn_when_the_claim_resumes(client, world, sent):
    from workers.jobs import deliver_due_messages

    with freeze_time(WEEKDAY_MORNING):
        claim = _create(client, world)
    with freeze_time(WEEKDAY_NIGHT):
        waiting = _transition(client, world, claim["id"], "wait_tenant", "Êtes-vous là demain ?")
        assert waiting.status_code == 200, waiting.json
    [held] = _questions()
    assert held.status == DeliveryStatus.PENDING
    assert held.available_at == datetime(2026, 3, 11, 7, 0, tzinfo=UTC)
    sent.sms.clear()

    with freeze_time(LATER_THAT_NIGHT):
        resumed = _transition(client, world, claim["id"], "resume")
    assert resumed.status_code == 200, resumed.json
    [withdrawn] = _questions()
    assert withdrawn.status == DeliveryStatus.CANCELLED
    assert withdrawn.last_error
    event = db.session.scalars(
        sa.select(ClaimEvent)
        .where(ClaimEvent.claim_id == claim["id"], ClaimEvent.kind == EventKind.STATUS_CHANGED)
        .order_by(ClaimEvent.id.desc())
        .limit(1)
    ).one()
    assert event.changes["questions_withdrawn"] == [withdrawn.id]

    with freeze_time(NEXT_MORNING):
        assert deliver_due_messages() == "nothing due"
    assert sent.sms == []
    assert _questions()[0].status == DeliveryStatus.CANCELLED
    listed = client.get(
        "/api/v1/messages", query_string={"status": "cancelled"}, headers=world.headers("admin")
    )
    assert [m["id"] for m in listed.json] == [withdrawn.id]


def test_a_question_that_left_is_not_withdrawn(client, world, sent):
    with freeze_time(WEEKDAY_MORNING):
        claim = _create(client, world)
        _transition(client, world, claim["id"], "wait_tenant", "Êtes-vous là demain ?")
        resumed = _transition(client, world, claim["id"], "resume")
    assert resumed.status_code == 200
    [question] = _questions()
    assert question.status == DeliveryStatus.SENT
    assert "questions_withdrawn" not in resumed.json["events"][-1].get("changes", {})


def test_cancelling_a_waiting_claim_withdraws_its_held_question(client, world, sent):
    with freeze_time(WEEKDAY_MORNING):
        claim = _create(client, world)
    with freeze_time(WEEKDAY_NIGHT):
        _transition(client, world, claim["id"], "wait_tenant", "Êtes-vous là demain ?")
        cancelled = _transition(client, world, claim["id"], "cancel", "Demande en double.")
    assert cancelled.status_code == 200, cancelled.json
    assert [q.status for q in _questions()] == [DeliveryStatus.CANCELLED]


def test_a_delivery_job_and_a_withdrawal_never_both_take_a_message(app, app_ctx, world):
    """A worker taking due questions and a resume withdrawing them, at the same moment, in
    separate threads and transactions: each question is either taken (and leaves) or
    withdrawn, never both, never neither."""
    from tests.dispatchers import Ignoring, replaced_dispatchers

    claim = db.session.get(Claim, _claim_id(app_ctx, world))
    with replaced_dispatchers(app, delivery=Ignoring()):  # the questions wait for the race
        _race(app, claim, rounds=8)


def _race(app, claim: Claim, rounds: int) -> None:
    for round_ in range(rounds):
        for n in range(10):
            queue_message(
                db.session,
                NewMessage(
                    idempotency_key=f"race:{round_}:{n}",
                    channel=MessageChannel.SMS,
                    purpose=Purpose.QUESTION,
                    recipient="+33612345678",
                    subject=None,
                    body_text="Question",
                    claim_id=claim.id,
                    available_at=WEEKDAY_MORNING,
                ),
                WEEKDAY_MORNING,
            )
        db.session.commit()
        taken, withdrawn = _deliver_and_withdraw_at_once(app, claim.id)
        db.session.expire_all()
        round_ids = set(
            db.session.scalars(
                sa.select(OutboxMessage.id).where(
                    OutboxMessage.idempotency_key.like(f"race:{round_}:%")
                )
            )
        )
        assert not set(taken) & set(withdrawn)
        assert set(taken) | set(withdrawn) == round_ids
        statuses = {
            m.id: m.status
            for m in db.session.scalars(
                sa.select(OutboxMessage).where(OutboxMessage.id.in_(round_ids))
            )
        }
        assert all(statuses[i] == DeliveryStatus.SENDING for i in taken)
        assert all(statuses[i] == DeliveryStatus.CANCELLED for i in withdrawn)


def _deliver_and_withdraw_at_once(app, claim_id: int) -> tuple[list[int], list[int]]:
    """A delivery job's claim and a withdrawal, each in its own thread and transaction,
    started together; the ids each one got once committed."""
    taken: list[int] = []
    withdrawn: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def deliver() -> list[int]:
        due = claim_due_messages(db.session, NEXT_MORNING, 100, 6)
        return [m.id for m in due]

    def withdraw() -> list[int]:
        return cancel_pending(db.session, claim_id, Purpose.QUESTION, "race")

    def run(work, into: list[int]) -> None:
        with app.app_context():
            try:
                barrier.wait()
                ids = work()
                db.session.commit()
                into.extend(ids)
            except BaseException as exc:
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=run, args=(deliver, taken)),
        threading.Thread(target=run, args=(withdraw, withdrawn)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return taken, withdrawn


def _claim_id(app, world) -> int:
    with freeze_time(WEEKDAY_MORNING):
        response = app.test_client().post(
            "/api/v1/claims",
            json=claim_payload(world, category="PLB-ROBINET"),
            headers=world.headers("agent"),
        )
    assert response.status_code == 201, response.json
    return response.json["id"]


@pytest.mark.parametrize(
    "question",
    ["x" * 5000, "Êtes-vous là ? " * 400, "🙂 " * 300, "Photo ?"],
)
@pytest.mark.parametrize("locale", ["fr", "en"])
def test_any_question_fits_two_segments_with_the_reference(app_ctx, question, locale):
    from grc.messaging.rendering import render_sms

    text = render_sms(
        Purpose.QUESTION,
        locale,
        landlord="Office Public de l'Habitat de Moselle",
        reference="R-2026-000123",
        question=question,
    )
    assert sms_segments(text) <= 2, text
    assert "R-2026-000123" in text
    assert ("..." in text) is (question != "Photo ?")
