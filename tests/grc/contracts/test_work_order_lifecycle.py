"""Work orders have a lifecycle of their own: a reply or a click about an order that was
cancelled, replaced or finished changes nothing, and is put in front of the supervising
unit. Through the real webhook, one-click page and API, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from grc.claims.lifecycle import Action as ClaimAction
from grc.claims.models import Claim, ClaimEvent, ClaimStatus, EventKind
from grc.claims.operations import TransitionRequest, schedule_appointment, transition_claim
from grc.contracts import lifecycle
from grc.contracts.lifecycle import OrderEvent
from grc.contracts.models import WorkOrder, WorkOrderStatus
from grc.contracts.work_orders import LinkAction, action_token, reply_address
from grc.errors import Conflict, Forbidden
from grc.extensions import db
from grc.inbound.models import InboundEmail, InboundStatus
from tests.grc.inbound.inbound_posts import INBOUND_AUTH, post_raw_email, reply
from tests.grc.messaging.provider_apps import Site, provider_site
from tests.stubs.providers import ProviderStub

INBOUND_DOMAIN = "inbound.bailleur.test"
CONTRACTOR = "ordres@multiservices.test"  # the multiservice contract's contractor (factories)


@pytest.fixture
def site(app: Flask, app_ctx: Flask, provider_stub: ProviderStub, tmp_path) -> Iterator[Site]:
    with provider_site(
        app,
        provider_stub,
        str(tmp_path),
        contracts=True,
        inbound_domain=INBOUND_DOMAIN,
        inbound_basic_auth=INBOUND_AUTH,
    ) as opened:
        yield opened


def _order(claim_id: int) -> WorkOrder:
    db.session.expire_all()
    return (
        db.session.execute(
            sa.select(WorkOrder).where(WorkOrder.claim_id == claim_id).order_by(WorkOrder.id)
        )
        .scalars()
        .first()
    )


def _claim(claim_id: int) -> Claim:
    db.session.expire_all()
    return db.session.get(Claim, claim_id)


def _events(claim_id: int) -> list[ClaimEvent]:
    db.session.expire_all()
    return list(
        db.session.execute(
            sa.select(ClaimEvent).where(ClaimEvent.claim_id == claim_id).order_by(ClaimEvent.id)
        ).scalars()
    )


def _reroute_to_the_unit(site: Site, claim: dict) -> None:
    unit = site.world.units["METZ-technique"]
    response = site.client.post(
        f"/api/v1/claims/{claim['id']}/transitions",
        json={"action": "assign", "unit_id": unit.id},
        headers=site.world.headers("agent"),
    )
    assert response.status_code == 200, response.json


def _attention_list(site: Site, user: str = "metz_tech") -> list[int]:
    response = site.client.get(
        "/api/v1/work-orders?needs_attention=true", headers=site.world.headers(user)
    )
    assert response.status_code == 200, response.json
    return [order["id"] for order in response.json]


def test_the_old_contractors_done_mail_changes_nothing_after_a_reroute(site):
    claim = site.create_claim()  # a leak at TIL-11: the multiservice contract covers it
    order = _order(claim["id"])
    _reroute_to_the_unit(site, claim)
    assert _order(claim["id"]).status == WorkOrderStatus.CANCELLED

    done = reply(
        to=reply_address(order),
        sender=f"Multiservices Lorraine <{CONTRACTOR}>",
        subject=f"RE: [{claim['reference']}] Ordre de service",
        text="Travaux terminés, fuite réparée.",
        date=datetime.now(UTC),
    )
    assert post_raw_email(site.client, done, reply_address(order)).status_code == 200

    current = _claim(claim["id"])
    assert current.status == ClaimStatus.ASSIGNED  # not resolved by a contractor it left
    assert current.resolved_at is None
    cancelled = _order(claim["id"])
    assert cancelled.status == WorkOrderStatus.CANCELLED
    assert cancelled.completed_at is None
    assert cancelled.needs_attention
    [stored] = db.session.execute(sa.select(InboundEmail)).scalars().all()
    assert stored.status == InboundStatus.REVIEW
    filed = _events(claim["id"])[-1]
    assert filed.kind == EventKind.CONTRACTOR_REPLY
    assert f"l'ordre de service n° {order.id}" in filed.body
    assert "annulé : rien n'a été modifié" in filed.body
    assert "fuite réparée" in filed.body
    # The supervising unit sees it in its attention list; another unit does not.
    assert _attention_list(site) == [order.id]
    assert _attention_list(site, "woippy_tech") == []


def test_the_done_button_of_a_cancelled_order_changes_nothing(site):
    claim = site.create_claim()
    order = _order(claim["id"])
    _reroute_to_the_unit(site, claim)
    path = f"/wo/{action_token(order, LinkAction.DONE)}"

    page = site.client.post(path)
    assert page.status_code == 409
    assert "annulé ou remplacé : rien n&#39;a été modifié" in page.get_data(as_text=True)
    current = _claim(claim["id"])
    assert (current.status, current.resolved_at) == (ClaimStatus.ASSIGNED, None)
    cancelled = _order(claim["id"])
    assert (cancelled.status, cancelled.completed_at) == (WorkOrderStatus.CANCELLED, None)
    assert cancelled.needs_attention
    filed = _events(claim["id"])[-1]
    assert "« Intervention terminée » confirmé par le lien" in filed.body
    assert "annulé : rien n'a été modifié" in filed.body
    assert _attention_list(site) == [order.id]

    # "Je prends en charge" on it neither moves the claim nor says "already recorded".
    take = site.client.post(f"/wo/{action_token(order, LinkAction.TAKE)}")
    assert take.status_code == 409
    assert _claim(claim["id"]).status == ClaimStatus.ASSIGNED


def test_a_reply_on_a_finished_order_changes_nothing(site):
    claim = site.create_claim()
    order = _order(claim["id"])
    assert site.client.post(f"/wo/{action_token(order, LinkAction.DONE)}").status_code == 200
    assert _order(claim["id"]).status == WorkOrderStatus.DONE
    reopened = site.client.post(
        f"/api/v1/claims/{claim['id']}/transitions",
        json={"action": "reopen"},
        headers=site.world.headers("agent"),
    )
    assert reopened.status_code == 200, reopened.json

    # A late "passage prévu" for the finished order: the reopened claim does not move.
    late = reply(
        to=reply_address(order),
        sender=CONTRACTOR,
        subject=f"RE: [{claim['reference']}] Ordre de service",
        text="Bonjour, nous passerons demain à 14h.",
        date=datetime.now(UTC),
    )
    assert post_raw_email(site.client, late, reply_address(order)).status_code == 200
    finished = _order(claim["id"])
    assert (finished.status, finished.appointment_at) == (WorkOrderStatus.DONE, None)
    assert finished.needs_attention
    assert _claim(claim["id"]).appointment_at is None
    [stored] = db.session.execute(sa.select(InboundEmail)).scalars().all()
    assert stored.status == InboundStatus.REVIEW
    assert "terminé : rien n'a été modifié" in _events(claim["id"])[-1].body


def test_cancelling_the_claim_cancels_its_order(site):
    claim = site.create_claim()
    response = site.client.post(
        f"/api/v1/claims/{claim['id']}/transitions",
        json={"action": "cancel", "comment": "Doublon de la demande de la veille."},
        headers=site.world.headers("agent"),
    )
    assert response.status_code == 200, response.json
    order = _order(claim["id"])
    assert order.status == WorkOrderStatus.CANCELLED
    assert order.cancelled_at is not None
    api = site.client.get(
        f"/api/v1/work-orders?claim_id={claim['id']}", headers=site.world.headers("agent")
    ).json
    assert api[0]["status"] == "cancelled"
    assert api[0]["cancelled_at"] is not None


def test_a_claim_changes_without_a_user_only_through_an_open_order_of_it(site):
    claim = _claim(site.create_claim()["id"])
    other = _claim(site.create_claim("TIL-12")["id"])
    order = _order(claim.id)
    start = TransitionRequest(ClaimAction.START)
    now = datetime.now(UTC)
    with pytest.raises(Forbidden):  # nobody: not "the contractor"
        transition_claim(db.session, claim, start, None, now)
    with pytest.raises(Conflict):  # the order of another claim
        transition_claim(db.session, other, start, None, now, work_order=order)
    lifecycle.move(order, OrderEvent.CANCEL, now)
    with pytest.raises(Conflict):  # an order that was cancelled
        transition_claim(db.session, claim, start, None, now, work_order=order)
    db.session.rollback()
    fresh = _order(claim.id)
    transition_claim(db.session, _claim(claim.id), start, None, now, work_order=fresh)
    assert _claim(claim.id).status == ClaimStatus.IN_PROGRESS


def test_a_visit_is_planned_without_a_user_only_through_an_open_order_of_the_claim(site):
    claim = _claim(site.create_claim()["id"])
    other = _claim(site.create_claim("TIL-12")["id"])
    order = _order(claim.id)
    now = datetime.now(UTC)
    visit = now + timedelta(days=1)
    with pytest.raises(Forbidden):  # nobody: not "the contractor"
        schedule_appointment(db.session, claim, visit, None, now)
    with pytest.raises(Conflict):  # the order of another claim
        schedule_appointment(db.session, other, visit, None, now, work_order=order)
    lifecycle.move(order, OrderEvent.CANCEL, now)
    with pytest.raises(Conflict):  # an order that was cancelled
        schedule_appointment(db.session, claim, visit, None, now, work_order=order)
    db.session.rollback()
    assert _claim(claim.id).appointment_at is None
    fresh = _order(claim.id)
    schedule_appointment(db.session, _claim(claim.id), visit, None, now, work_order=fresh)
    assert _order(claim.id).status == WorkOrderStatus.SCHEDULED


# --- the table and the database rules ---------------------------------------------------------


def test_final_orders_never_move():
    for event, moves in lifecycle.TRANSITIONS.items():
        for final in lifecycle.FINAL_STATUSES:
            assert final not in moves, (event, final)
    order = WorkOrder(status=WorkOrderStatus.CANCELLED)
    with pytest.raises(lifecycle.OrderFinished):
        lifecycle.move(order, OrderEvent.COMPLETE, datetime.now(UTC))
    assert order.status == WorkOrderStatus.CANCELLED


@pytest.mark.parametrize(
    ("status", "columns"),
    [
        ("acknowledged", {}),  # no acknowledged_at
        ("done", {"acknowledged_at": True}),  # no completed_at
        ("sent", {"completed_at": True}),  # completed but not done
        ("cancelled", {}),  # no cancelled_at
        ("superseded", {}),
        ("sent", {"cancelled_at": True}),
        ("scheduled", {"acknowledged_at": True}),  # no visit
        ("finished", {}),  # not a status
    ],
)
def test_the_database_refuses_a_status_its_timestamps_contradict(site, status, columns):
    order = _order(site.create_claim()["id"])
    # Plain SQL, as a script or another program would write it: the database itself refuses.
    assignments = ", ".join(["status = :status", *(f"{name} = :now" for name in columns)])
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(
            sa.text(f"UPDATE work_orders SET {assignments} WHERE id = :id"),  # noqa: S608
            {"status": status, "now": datetime.now(UTC), "id": order.id},
        )
    db.session.rollback()


@pytest.mark.parametrize(("column", "value"), [("reply_kind", "finished"), ("matched_by", "guess")])
def test_the_database_refuses_an_unknown_reply_kind_or_match(site, column, value):
    db.session.execute(
        sa.insert(InboundEmail.__table__),
        {
            "received_at": datetime.now(UTC),
            "content_type": "multipart/form-data",
            "raw_post": b"",
            "status": "received",
            "attempts": 0,
        },
    )
    db.session.commit()
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(
            sa.text(f"UPDATE inbound_emails SET {column} = :value"),  # noqa: S608
            {"value": value},
        )
    db.session.rollback()


def test_a_reroute_to_another_contract_supersedes_the_order(site):
    from grc.claims.operations import _reassign
    from grc.contracts.models import Contract, Contractor
    from tests.factories import _categories_handled_by

    claim = _claim(site.create_claim()["id"])
    first = _order(claim.id)
    # A newer contract, with another contractor, takes over the residence.
    newcomer = Contractor(code="NEW", name="Nouveau Multiservices", email="new@multi.test")
    contract = Contract(
        reference="MS-NEW",
        contractor=newcomer,
        kind="multiservice",
        starts_on=(datetime.now(UTC) - timedelta(days=1)).date(),
    )
    contract.residences = [site.world.residences["TIL"]]
    contract.categories = _categories_handled_by(db.session, "multiservice")
    db.session.add(contract)
    claim.status = ClaimStatus.RECEIVED  # triage again: routing chooses afresh
    db.session.flush()
    now = datetime.now(UTC)
    _reassign(db.session, claim, TransitionRequest(ClaimAction.ASSIGN), None, now)
    db.session.commit()
    orders = list(
        db.session.execute(
            sa.select(WorkOrder).where(WorkOrder.claim_id == claim.id).order_by(WorkOrder.id)
        ).scalars()
    )
    assert [o.status for o in orders] == [WorkOrderStatus.SUPERSEDED, WorkOrderStatus.SENT]
    assert orders[0].id == first.id
    assert orders[1].contractor_id == newcomer.id
    # The superseded order's button changes nothing.
    assert site.client.post(f"/wo/{action_token(first, LinkAction.DONE)}").status_code == 409
    assert _order(claim.id).status == WorkOrderStatus.SUPERSEDED


def test_a_reply_found_by_its_subject_after_a_reroute_changes_nothing(site):
    claim = site.create_claim()
    order = _order(claim["id"])
    _reroute_to_the_unit(site, claim)
    # No signed address this time: the claim reference in the subject finds the claim, whose
    # only order is the cancelled one.
    to = f"ordres@{INBOUND_DOMAIN}"
    done = reply(
        to=to,
        sender=CONTRACTOR,
        subject=f"Intervention {claim['reference']} terminée",
        text="Travaux terminés ce matin.",
        date=datetime.now(UTC),
    )
    assert post_raw_email(site.client, done, to).status_code == 200
    [stored] = db.session.execute(sa.select(InboundEmail)).scalars().all()
    assert (stored.status, stored.matched_by) == (InboundStatus.REVIEW, "subject")
    assert _claim(claim["id"]).status == ClaimStatus.ASSIGNED
    assert _order(claim["id"]).status == WorkOrderStatus.CANCELLED
    assert _attention_list(site) == [order.id]
