"""The treatment units' queue and the claim page: what they show, to whom, and the claim
page's actions through the same operations as the API."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from markupsafe import escape

from grc.claims.models import Claim, ClaimEvent, ClaimStatus, EventKind, Visibility
from grc.claims.photos import add_photo
from grc.claims.timeline import NewEvent, add_events
from grc.db import utcnow
from grc.extensions import db
from grc.inbound.models import InboundAttachment, InboundEmail, InboundStatus
from tests.grc.claims.helpers import claim_in_status
from tests.grc.claims.photo_files import small_png
from tests.pages import csrf_token, sign_in_as


@pytest.fixture
def unit_user(world):
    return world.users["metz_tech"]


def _page(web_client, claim):
    return f"/claims/{claim.reference}"


def _post(web_client, claim, action, data):
    token = csrf_token(web_client, _page(web_client, claim))
    return web_client.post(
        f"/claims/{claim.reference}/{action}",
        data={f"{action}-{key}": value for key, value in {**data, "csrf_token": token}.items()},
    )


# --- the queue -------------------------------------------------------------------------------


def test_a_unit_user_lands_on_their_units_queue_sorted_by_deadline(web_client, world, unit_user):
    later = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    sooner = claim_in_status(world, ClaimStatus.ASSIGNED)
    sooner.resolution_due = utcnow() - timedelta(hours=2)  # already late
    closed = claim_in_status(world, ClaimStatus.CLOSED)
    db.session.commit()
    sign_in_as(web_client, unit_user)

    home = web_client.get("/")
    assert home.headers["Location"].endswith("/unit")
    mine = web_client.get("/unit")
    assert mine.headers["Location"].endswith("/unit/METZ-technique")
    queue = web_client.get("/unit/METZ-technique")
    html = queue.get_data(as_text=True)
    assert queue.status_code == 200
    assert html.index(sooner.reference) < html.index(later.reference)
    assert closed.reference not in html  # open claims by default
    assert "En retard" in html
    assert "Ma file" in html
    assert "Demandes" in html


def test_the_queue_counts_per_status_and_keeps_its_filters_in_the_address(
    web_client, world, unit_user
):
    claim_in_status(world, ClaimStatus.IN_PROGRESS)
    claim_in_status(world, ClaimStatus.IN_PROGRESS)
    resolved = claim_in_status(world, ClaimStatus.RESOLVED)
    sign_in_as(web_client, unit_user)

    html = web_client.get("/unit/METZ-technique").get_data(as_text=True)
    assert "En cours : 2" in html
    assert "Résolue : 1" in html
    filtered = web_client.get("/unit/METZ-technique?status=resolved").get_data(as_text=True)
    assert resolved.reference in filtered
    assert "Demandes trouvées : 1" in filtered
    assert re.search(
        r'<option[^>]*selected[^>]*value="resolved"|value="resolved"[^>]*selected', filtered
    )


def test_the_queue_flags_a_claim_near_its_deadline(web_client, world, unit_user):
    claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    claim.resolution_due = utcnow() + timedelta(minutes=30)
    db.session.commit()
    sign_in_as(web_client, unit_user)
    html = web_client.get("/unit/METZ-technique").get_data(as_text=True)
    assert "&lt; 20 % du délai" in html


def test_the_queue_speaks_english_by_the_switch(web_client, world, unit_user):
    late = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    late.resolution_due = utcnow() - timedelta(hours=1)
    near = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    near.resolution_due = utcnow() + timedelta(minutes=30)
    db.session.commit()
    sign_in_as(web_client, unit_user)
    web_client.get("/language/en")
    html = web_client.get("/unit/METZ-technique").get_data(as_text=True)
    assert "Overdue" in html
    assert "&lt; 20 % of the time left" in html
    assert "My queue" in html


def test_a_bad_filter_is_named_with_422(web_client, world, unit_user):
    sign_in_as(web_client, unit_user)
    response = web_client.get("/unit/METZ-technique?residence=NOWHERE")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="residence-error"' in html
    assert "Aucune résidence n&#39;a ce code." in html


def test_a_page_beyond_any_queue_is_refused_not_a_server_error(web_client, world, unit_user):
    sign_in_as(web_client, unit_user)
    response = web_client.get("/unit/METZ-technique?page=" + "9" * 30)
    assert response.status_code == 422
    assert "Cette page de la liste n'existe pas." in response.get_data(as_text=True)
    assert web_client.get("/unit/METZ-technique?page=2").status_code == 200


def test_another_units_queue_is_not_found_for_a_unit_user(web_client, world, unit_user):
    sign_in_as(web_client, unit_user)
    assert web_client.get("/unit/WOIPPY-technique").status_code == 404
    assert web_client.get("/unit/NO-SUCH-UNIT").status_code == 404


def test_managers_see_every_claim_with_the_same_filters(web_client, world):
    claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    sign_in_as(web_client, world.users["manager"])
    html = web_client.get("/claims?q=" + claim.reference).get_data(as_text=True)
    assert claim.reference in html
    assert web_client.get("/unit/WOIPPY-technique").status_code == 200


# --- the claim page --------------------------------------------------------------------------


def test_the_claim_page_shows_the_header_timeline_and_work_order(web_client, world, unit_user):
    claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    add_photo(db.session, claim, "joint.png", small_png(), unit_user, utcnow())
    db.session.commit()
    sign_in_as(web_client, unit_user)
    response = web_client.get(_page(web_client, claim))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert claim.reference in html
    assert str(escape(claim.route_reason)) in html
    assert "Interne" in html
    assert "Ordre de service" in html or "ordre" in html.lower()
    assert f"/claims/{claim.reference}/photos/" in html
    photo_id = claim.photos[0].id
    photo = web_client.get(f"/claims/{claim.reference}/photos/{photo_id}")
    assert photo.status_code == 200
    assert photo.mimetype == "image/jpeg"
    # Only what the lifecycle allows from "in progress" for a unit.
    assert f'action="/claims/{claim.reference}/resolve"' in html
    assert f'action="/claims/{claim.reference}/close"' not in html
    assert f'action="/claims/{claim.reference}/reopen"' not in html


def test_the_work_order_box_names_the_contracts_kind(web_client, world, unit_user):
    claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)  # the multiservice contract's
    sign_in_as(web_client, unit_user)
    assert "MS-2026 (Multiservices)" in web_client.get(_page(web_client, claim)).get_data(
        as_text=True
    )
    web_client.get("/language/en")
    english = web_client.get(_page(web_client, claim)).get_data(as_text=True)
    assert "MS-2026 (Multi-service maintenance)" in english


def test_another_units_user_gets_404_on_the_claim_and_its_actions(web_client, world):
    claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    sign_in_as(web_client, world.users["woippy_tech"])
    assert web_client.get(f"/claims/{claim.reference}").status_code == 404
    token = csrf_token(web_client, "/unit/WOIPPY-technique")
    response = web_client.post(
        f"/claims/{claim.reference}/comment",
        data={"comment-body": "Hello", "comment-visibility": "internal", "csrf_token": token},
    )
    assert response.status_code == 404
    assert (
        db.session.execute(
            sa.select(sa.func.count()).where(
                ClaimEvent.claim_id == claim.id, ClaimEvent.kind == "comment"
            )
        ).scalar_one()
        == 0
    )


def test_a_post_without_the_csrf_token_is_refused(web_client, world, unit_user):
    claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    sign_in_as(web_client, unit_user)
    response = web_client.post(
        f"/claims/{claim.reference}/resolve", data={"resolve-comment": "Joint changé."}
    )
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Claim, claim.id).status == ClaimStatus.IN_PROGRESS


def test_commenting_writes_the_timeline_and_comes_back_with_a_flash(web_client, world, unit_user):
    claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    sign_in_as(web_client, unit_user)
    response = _post(
        web_client, claim, "comment", {"body": "Appelé le locataire.", "visibility": "tenant"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/claims/{claim.reference}")
    event = db.session.execute(
        sa.select(ClaimEvent).where(
            ClaimEvent.claim_id == claim.id, ClaimEvent.kind == EventKind.COMMENT
        )
    ).scalar_one()
    assert event.body == "Appelé le locataire."
    assert event.visibility == Visibility.TENANT
    assert event.actor_id == unit_user.id
    page = web_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Commentaire ajouté." in page
    assert "Appelé le locataire." in page


def test_resolving_without_the_resolution_names_the_field_with_422(web_client, world, unit_user):
    claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    sign_in_as(web_client, unit_user)
    response = _post(web_client, claim, "resolve", {"comment": "  "})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="resolve-comment-error"' in html
    # The refused form is open, the focus in its field, not in the comment box.
    assert '<details class="action" open><summary>Résoudre</summary>' in html
    [focused] = re.findall(r"<textarea[^>]*autofocus[^>]*>", html)
    assert 'id="resolve-comment"' in focused
    db.session.expire_all()
    assert db.session.get(Claim, claim.id).status == ClaimStatus.IN_PROGRESS


def test_resolving_moves_the_claim_and_tells_the_timeline(web_client, world, unit_user):
    claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    sign_in_as(web_client, unit_user)
    response = _post(web_client, claim, "resolve", {"comment": "Joint changé."})
    assert response.status_code == 302
    db.session.expire_all()
    stored = db.session.get(Claim, claim.id)
    assert stored.status == ClaimStatus.RESOLVED
    assert stored.resolution == "Joint changé."
    assert [e.body for e in stored.events if e.to_status == ClaimStatus.RESOLVED] == [
        "Joint changé."
    ]


def test_an_action_the_lifecycle_refuses_is_said_in_french_with_409(web_client, world, unit_user):
    claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    sign_in_as(web_client, unit_user)
    response = _post(web_client, claim, "close", {})
    assert response.status_code == 409
    assert "Cette demande ne peut plus être close." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Claim, claim.id).status == ClaimStatus.IN_PROGRESS


def test_a_visit_in_the_past_is_refused_on_its_field(web_client, world, unit_user):
    claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    sign_in_as(web_client, unit_user)
    yesterday = (utcnow() - timedelta(days=2)).date().isoformat()
    response = _post(web_client, claim, "appointment", {"day": yesterday, "start": "08:00"})
    assert response.status_code == 422
    assert "La visite ne peut pas être dans le passé." in response.get_data(as_text=True)


def test_planning_the_visit_and_waiting_for_the_tenant(web_client, world, unit_user):
    claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    sign_in_as(web_client, unit_user)
    tomorrow = (utcnow() + timedelta(days=2)).date().isoformat()
    planned = _post(
        web_client, claim, "appointment", {"day": tomorrow, "start": "08:00", "end": "12:00"}
    )
    assert planned.status_code == 302
    waiting = _post(web_client, claim, "wait_tenant", {"comment": "Quel est votre code ?"})
    assert waiting.status_code == 302
    db.session.expire_all()
    stored = db.session.get(Claim, claim.id)
    assert stored.appointment_end - stored.appointment_at == timedelta(hours=4)
    assert stored.status == ClaimStatus.WAITING_TENANT


def test_rerouting_to_another_unit(web_client, world, unit_user):
    claim = claim_in_status(world, ClaimStatus.ASSIGNED)
    sign_in_as(web_client, unit_user)
    target = world.units["WOIPPY-technique"]
    response = _post(web_client, claim, "reroute", {"unit": str(target.id)})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Claim, claim.id).unit_id == target.id


def test_assigning_to_a_person_of_the_unit_and_a_reroute_clears_it(web_client, world, unit_user):
    claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    sign_in_as(web_client, unit_user)
    outsider = _post(web_client, claim, "assign", {"assignee": str(world.users["woippy_tech"].id)})
    assert outsider.status_code == 422
    assert 'id="assign-assignee-error"' in outsider.get_data(as_text=True)
    response = _post(web_client, claim, "assign", {"assignee": str(unit_user.id)})
    assert response.status_code == 302
    db.session.expire_all()
    stored = db.session.get(Claim, claim.id)
    assert stored.assignee_id == unit_user.id
    assert stored.status == ClaimStatus.ASSIGNED
    assert stored.events[-1].changes == {"assignee_id": [None, unit_user.id]}
    page = web_client.get(f"/claims/{claim.reference}").get_data(as_text=True)
    assert f"suivie par {unit_user.name}" in page

    rerouted = _post(
        web_client, claim, "reroute", {"unit": str(world.units["WOIPPY-technique"].id)}
    )
    assert rerouted.status_code == 302
    db.session.expire_all()
    assert db.session.get(Claim, claim.id).assignee_id is None


def test_the_api_assigns_only_a_person_of_the_claims_unit(client, world):
    claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    url = f"/api/v1/claims/{claim.id}/transitions"
    outsider = client.post(
        url,
        json={"action": "assign", "assignee_id": world.users["woippy_tech"].id},
        headers=world.headers("metz_tech"),
    )
    assert outsider.status_code == 422
    assert "assignee_id" in outsider.get_json()["errors"]["json"]
    assigned = client.post(
        url,
        json={"action": "assign", "assignee_id": world.users["metz_tech"].id},
        headers=world.headers("metz_tech"),
    )
    assert assigned.status_code == 200
    assert assigned.get_json()["assignee_id"] == world.users["metz_tech"].id


def test_an_unknown_action_is_not_found(web_client, world, unit_user):
    claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    sign_in_as(web_client, unit_user)
    assert _post(web_client, claim, "explode", {}).status_code == 404


def test_a_received_claim_is_routed_from_its_page(web_client, world, unit_user):
    claim = claim_in_status(world, ClaimStatus.RECEIVED)
    sign_in_as(web_client, unit_user)
    html = web_client.get(f"/claims/{claim.reference}").get_data(as_text=True)
    assert f'action="/claims/{claim.reference}/route"' in html
    assert _post(web_client, claim, "route", {}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Claim, claim.id).status == ClaimStatus.ASSIGNED


def test_a_manager_reads_the_claim_page_without_actions_and_may_not_act(web_client, world):
    claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    sign_in_as(web_client, world.users["manager"])
    html = web_client.get(f"/claims/{claim.reference}").get_data(as_text=True)
    assert "/resolve" not in html
    token = csrf_token(web_client, f"/claims/{claim.reference}")
    response = web_client.post(
        f"/claims/{claim.reference}/resolve", data={"resolve-comment": "x", "csrf_token": token}
    )
    assert response.status_code == 403


def _reply_email(claim, html, n=0):
    email = InboundEmail(
        content_type="multipart/form-data",
        raw_post=b"",
        status=InboundStatus.APPLIED,
        from_address="contact@multiservices.test",
        subject=f"RE: {claim.reference}",
        claim_id=claim.id,
        html=html,
    )
    email.attachments = [
        InboundAttachment(
            filename=f"bon-{n}.pdf", content_type="application/pdf", size=2048, data=b"%PDF"
        )
    ]
    db.session.add(email)
    db.session.flush()
    return NewEvent(
        EventKind.CONTRACTOR_REPLY,
        body=f"Réponse du prestataire : <script>alert({n})</script>",
        changes={"inbound_email_id": email.id, "work_order_id": None},
    )


def test_a_contractors_reply_shows_its_sanitised_html_and_attachments(web_client, world, unit_user):
    claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    add_events(
        db.session, claim, utcnow(), [_reply_email(claim, "<p><b>Prise en charge</b> demain</p>")]
    )
    db.session.commit()
    sign_in_as(web_client, unit_user)
    html = web_client.get(f"/claims/{claim.reference}").get_data(as_text=True)
    assert "<p><b>Prise en charge</b> demain</p>" in html  # the stored, sanitised HTML
    assert "<script>alert(0)</script>" not in html  # the event's text is escaped
    assert "&lt;script&gt;alert(0)&lt;/script&gt;" in html
    assert "bon-0.pdf" in html


def test_the_claim_page_reads_a_long_timeline_in_a_bounded_number_of_statements(
    web_client, world, unit_user
):
    claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    # One of each kind of row the page reads besides the events (a message sent, a reply
    # with an attachment): then more events add no statement.
    add_events(db.session, claim, utcnow(), [_reply_email(claim, "<p>Reçu</p>")])
    db.session.commit()
    sign_in_as(web_client, unit_user)

    def statements_for_the_page() -> int:
        counted: list[str] = []

        def count(conn, cursor, statement, *args):
            counted.append(statement)

        engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            assert web_client.get(f"/claims/{claim.reference}").status_code == 200
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        return len(counted)

    few = statements_for_the_page()
    # 200 more events: comments by different users, contractors' replies with their e-mails
    # and attachments, and messages sent.
    users = list(world.users.values())
    for n in range(100):
        add_events(
            db.session,
            claim,
            utcnow(),
            [NewEvent(EventKind.COMMENT, body=f"Note {n}")],
            actor=users[n % len(users)],
        )
    add_events(
        db.session, claim, utcnow(), [_reply_email(claim, f"<p>{n}</p>", n) for n in range(50)]
    )
    outbox_ids = [
        e.changes["outbox_id"]
        for e in claim.events
        if e.kind == EventKind.MESSAGE and e.changes and "outbox_id" in e.changes
    ]
    add_events(
        db.session,
        claim,
        utcnow(),
        [
            NewEvent(
                EventKind.MESSAGE,
                Visibility.TENANT,
                body=f"Message {n}",
                changes={"outbox_id": outbox_ids[0], "channel": "sms"},
            )
            for n in range(50)
        ],
    )
    db.session.commit()
    assert len(claim.events) > 200
    many = statements_for_the_page()
    assert many == few
    assert many <= 20


def test_a_long_timeline_shows_its_newest_events_and_the_rest_on_demand(
    web_client, world, unit_user
):
    from grc.claims.views import RECENT_EVENTS

    claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    before = len(claim.events)
    add_events(
        db.session,
        claim,
        utcnow(),
        [NewEvent(EventKind.COMMENT, body=f"Note {n:03d}") for n in range(RECENT_EVENTS + 10)],
        actor=unit_user,
    )
    db.session.commit()
    total = before + RECENT_EVENTS + 10
    sign_in_as(web_client, unit_user)

    page = web_client.get(f"/claims/{claim.reference}").get_data(as_text=True)
    newest = [f"Note {n:03d}" for n in range(59, 9, -1)]
    assert all(note in page for note in newest)
    assert "Note 009" not in page
    assert f"Afficher les {total - RECENT_EVENTS} événements précédents" in page
    oldest_shown = db.session.execute(
        sa.select(ClaimEvent.id).where(ClaimEvent.body == "Note 010")
    ).scalar_one()
    link = f"/claims/{claim.reference}/events?before={oldest_shown}"
    assert link in page.replace("&amp;", "&")

    # The rest, newest first, as htmx fetches them to put in place of the link.
    rest = web_client.get(link, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in rest
    positions = [rest.index(f"Note {n:03d}") for n in range(9, -1, -1)]
    assert positions == sorted(positions)
    assert "Note 010" not in rest
    assert rest.count("<li") == total - RECENT_EVENTS
    # Without JavaScript, the link's address shows every event on the page.
    everything = web_client.get(f"/claims/{claim.reference}?all=1").get_data(as_text=True)
    assert "Note 000" in everything
    assert "événements précédents" not in everything
    # A bad or missing event id is named, never a server error.
    assert web_client.get(f"/claims/{claim.reference}/events?before=x").status_code == 422
    assert web_client.get(f"/claims/{claim.reference}/events").status_code == 422


# --- rerouting a selection from the queue ----------------------------------------------------


def _reroute_selection(web_client, references, unit_id, back="/unit/METZ-technique"):
    token = csrf_token(web_client, back)
    return web_client.post(
        "/claims/reroute",
        data={
            "csrf_token": token,
            "bulk-claims": references,
            "bulk-unit": str(unit_id),
            "next": back,
        },
    )


def test_a_selection_is_rerouted_from_the_queue(web_client, world, unit_user):
    first = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    second = claim_in_status(world, ClaimStatus.ASSIGNED)
    sign_in_as(web_client, unit_user)
    queue = web_client.get("/unit/METZ-technique").get_data(as_text=True)
    assert f'value="{first.reference}" id="select-{first.reference}"' in queue
    target = world.units["WOIPPY-technique"]
    response = _reroute_selection(web_client, [first.reference, second.reference], target.id)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/unit/METZ-technique")
    db.session.expire_all()
    assert {db.session.get(Claim, c.id).unit_id for c in (first, second)} == {target.id}
    assert "2 demandes réaffectées." in web_client.get("/claims").get_data(as_text=True)


def test_a_selection_is_rerouted_all_or_none(web_client, world, unit_user):
    movable = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    resolved = claim_in_status(world, ClaimStatus.RESOLVED)
    sign_in_as(web_client, unit_user)
    target = world.units["WOIPPY-technique"]
    response = _reroute_selection(web_client, [movable.reference, resolved.reference], target.id)
    assert response.status_code == 302
    page = web_client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Rien n&#39;a été réaffecté : la demande {resolved.reference}" in page
    db.session.expire_all()
    assert db.session.get(Claim, movable.id).unit_id != target.id


def test_a_selection_with_another_units_claim_is_not_found(web_client, world, unit_user):
    mine = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    sign_in_as(web_client, world.users["woippy_tech"])
    response = _reroute_selection(
        web_client, [mine.reference], world.units["WOIPPY-technique"].id, "/unit/WOIPPY-technique"
    )
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Claim, mine.id).unit.code == "METZ-technique"


def test_managers_see_no_selection_and_may_not_reroute(web_client, world):
    claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    sign_in_as(web_client, world.users["manager"])
    assert "select-" not in web_client.get("/claims").get_data(as_text=True)
    response = _reroute_selection(web_client, [claim.reference], 1, "/claims")
    assert response.status_code == 403
