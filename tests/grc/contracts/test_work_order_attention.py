"""A person clears a work order's needs_attention with a comment: scoped to who asks,
written on the claim's timeline, once even when two people clear it at the same moment."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from grc.claims.models import ClaimEvent, EventKind
from grc.contracts.models import WorkOrder
from grc.extensions import db
from tests.grc.inbound.inbound_posts import claim_with_work_order


def _flagged(app, world) -> WorkOrder:
    order = claim_with_work_order(app, world)
    order.needs_attention = True  # as a reply to read or a missed deadline leaves it
    db.session.commit()
    return order


def _clear(client, order_id: int, user: str, world, comment: object = "Rappelé le prestataire."):
    return client.post(
        f"/api/v1/work-orders/{order_id}/attention",
        json={"comment": comment},
        headers=world.headers(user),
    )


def _notes(claim_id: int) -> list[ClaimEvent]:
    db.session.expire_all()
    return [
        e
        for e in db.session.execute(
            sa.select(ClaimEvent).where(
                ClaimEvent.claim_id == claim_id, ClaimEvent.kind == EventKind.WORK_ORDER
            )
        ).scalars()
        if "vu :" in (e.body or "")
    ]


def test_the_unit_clears_the_flag_with_a_comment(client, world, app_ctx):
    order = _flagged(app_ctx, world)
    response = _clear(client, order.id, "metz_tech", world, "Passage confirmé par téléphone.")
    assert response.status_code == 200, response.json
    assert response.json["needs_attention"] is False
    attention = client.get(
        "/api/v1/work-orders?needs_attention=true", headers=world.headers("metz_tech")
    ).json
    assert attention == []
    [note] = _notes(order.claim_id)
    assert "Passage confirmé par téléphone." in note.body
    assert note.actor_id == world.users["metz_tech"].id
    assert note.changes == {"work_order_id": order.id, "needs_attention": [True, False]}
    # Nothing left to clear: said so, and nothing written.
    again = _clear(client, order.id, "metz_tech", world)
    assert again.status_code == 409
    assert len(_notes(order.claim_id)) == 1


def test_a_comment_is_required(client, world, app_ctx):
    order = _flagged(app_ctx, world)
    for comment in ("", "   ", None):
        response = _clear(client, order.id, "agent", world, comment)
        assert response.status_code == 422, (comment, response.json)
        assert "comment" in response.json["errors"]["json"]
    missing = client.post(
        f"/api/v1/work-orders/{order.id}/attention", json={}, headers=world.headers("agent")
    )
    assert missing.status_code == 422
    assert "comment" in missing.json["errors"]["json"]
    db.session.expire_all()
    assert db.session.get(WorkOrder, order.id).needs_attention


def test_who_may_clear_it(client, world, app_ctx):
    order = _flagged(app_ctx, world)
    assert _clear(client, order.id, "woippy_tech", world).status_code == 404  # not their claim
    assert _clear(client, order.id, "manager", world).status_code == 403  # reads only
    assert _clear(client, order.id + 1000, "agent", world).status_code == 404
    db.session.expire_all()
    assert db.session.get(WorkOrder, order.id).needs_attention
    assert _clear(client, order.id, "admin", world).status_code == 200


def test_two_people_clearing_at_once_clear_it_once(app_ctx, world):
    order = _flagged(app_ctx, world)
    barrier = threading.Barrier(6)
    statuses: list[int] = []
    lock = threading.Lock()

    def clear(user: str) -> None:
        client = app_ctx.test_client()  # each request gets its own application context
        barrier.wait()
        response = _clear(client, order.id, user, world)
        with lock:
            statuses.append(response.status_code)

    threads = [
        threading.Thread(target=clear, args=(user,))
        for user in ("metz_tech", "agent", "agent2", "admin", "metz_tech", "agent")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [200, 409, 409, 409, 409, 409]
    assert len(_notes(order.claim_id)) == 1
