"""The polls' screens: the call list (two agents never take the same tenant, the answers
typed in, the outcomes), the launch form and the results page, who may see them."""

from __future__ import annotations

import re

import sqlalchemy as sa

from grc.db import utcnow
from grc.extensions import db
from grc.people.models import PhoneKind
from grc.polls.models import (
    AnswerSource,
    CallOutcome,
    Poll,
    PollRecipient,
    RecipientChannel,
    RecipientStatus,
)
from tests.grc.polls.helpers import answers, launched, recipients
from tests.pages import PageClient, csrf_token, sign_in_as


def _to_call(world) -> PollRecipient:
    tenant = world.tenants["PARC-11"]
    tenant.phones[0].kind = PhoneKind.LANDLINE
    tenant.email = None
    db.session.commit()
    launched(sample=8, at=utcnow())
    [recipient] = [r for r in recipients() if r.channel == RecipientChannel.CALL]
    return recipient


def _client(app) -> PageClient:
    return PageClient(app, app.response_class, use_cookies=True)


def test_two_agents_never_take_the_same_tenant(app_ctx, world):
    recipient = _to_call(world)
    first = sign_in_as(_client(app_ctx), world.users["agent"])
    second = sign_in_as(_client(app_ctx), world.users["agent2"])
    listing = first.get("/polls/calls")
    assert listing.status_code == 200
    assert "Karim Benali" in listing.get_data(as_text=True)
    take = f"/polls/calls/{recipient.id}/take"
    token1, token2 = csrf_token(first, "/polls/calls"), csrf_token(second, "/polls/calls")
    taken = first.post(take, data={"csrf_token": token1})
    assert taken.status_code == 303
    assert taken.headers["Location"].endswith(f"/polls/calls/{recipient.id}")
    refused = second.post(take, data={"csrf_token": token2})
    assert refused.status_code == 303
    assert refused.headers["Location"].endswith("/polls/calls")
    assert "un autre chargé de clientèle" in second.get("/polls/calls").get_data(as_text=True)
    assert second.get(f"/polls/calls/{recipient.id}").status_code == 404

    page = first.get(f"/polls/calls/{recipient.id}").get_data(as_text=True)
    assert "propreté des parties communes" in page
    assert "Plutôt pas satisfait" in page
    poll = db.session.get(Poll, recipient.poll_id)
    assert poll is not None
    q1, q2 = poll.questions
    # No answer: back on the list, for anyone.
    first.post(f"/polls/calls/{recipient.id}", data={"csrf_token": token1, "outcome": "no_answer"})
    db.session.expire_all()
    again = db.session.get(PollRecipient, recipient.id)
    assert again is not None
    assert (again.taken_by_id, again.call_attempts) == (None, 1)
    assert again.last_call_outcome == CallOutcome.NO_ANSWER
    # The second agent calls and types the answers in.
    assert second.post(take, data={"csrf_token": token2}).status_code == 303
    done = second.post(
        f"/polls/calls/{recipient.id}",
        data={"csrf_token": token2, "outcome": "answered", f"q{q1.id}": "3", f"q{q2.id}": "2"},
    )
    assert done.status_code == 303
    assert [(a.question_id, a.value, a.source) for a in answers()] == [
        (q1.id, 3, AnswerSource.CALL),
        (q2.id, 2, AnswerSource.CALL),
    ]
    assert answers()[0].agent_id == world.users["agent2"].id
    [called] = [r for r in recipients() if r.id == recipient.id]
    assert called.status == RecipientStatus.ANSWERED
    assert "Karim Benali" not in first.get("/polls/calls").get_data(as_text=True)


def test_a_refusal_takes_the_tenant_off_the_list(app_ctx, world):
    recipient = _to_call(world)
    agent = sign_in_as(_client(app_ctx), world.users["agent"])
    token = csrf_token(agent, "/polls/calls")
    agent.post(f"/polls/calls/{recipient.id}/take", data={"csrf_token": token})
    agent.post(f"/polls/calls/{recipient.id}", data={"csrf_token": token, "outcome": "refused"})
    db.session.expire_all()
    refused = db.session.get(PollRecipient, recipient.id)
    assert refused is not None
    assert refused.status == RecipientStatus.REFUSED
    assert answers() == []


def test_who_sees_what(app_ctx, world):
    launched(sample=2, at=utcnow())
    for role, calls, polls, launch in (
        ("agent", 200, 403, 403),
        ("metz_tech", 403, 403, 403),
        ("manager", 403, 200, 200),
        ("admin", 403, 200, 403),
    ):
        client = sign_in_as(_client(app_ctx), world.users[role])
        assert client.get("/polls/calls").status_code == calls, role
        assert client.get("/polls").status_code == polls, role
        assert client.get("/polls/new").status_code == launch, role


def test_a_manager_launches_a_poll_and_reads_its_results(app_ctx, world):
    manager = sign_in_as(_client(app_ctx), world.users["manager"])
    token = csrf_token(manager, "/polls/new")
    refused = manager.post(
        "/polls/new", data={"csrf_token": token, "title": "", "sample_size": "x", "theme1": "other"}
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'id="title-error"' in html
    assert 'id="sample_size-error"' in html
    assert 'id="questions-1-text_fr-error"' in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Poll)) == 0

    response = manager.post(
        "/polls/new",
        data={
            "csrf_token": token,
            "title": "Enquête annuelle 2026",
            "sample_size": "6",
            "theme1": "cleanliness",
            "theme2": "other",
            "text_fr2": "Le gardien est-il disponible ?",
            "theme3": "",
        },
    )
    assert response.status_code == 302
    poll_id = int(re.search(r"/polls/(\d+)$", response.headers["Location"]).group(1))
    poll = db.session.get(Poll, poll_id)
    assert poll is not None
    assert [q.theme for q in poll.questions] == ["cleanliness", "other"]
    assert poll.questions[1].text_en == "Le gardien est-il disponible ?"
    assert len(recipients(poll)) == 6
    page = manager.get(response.headers["Location"]).get_data(as_text=True)
    assert "Pas assez de réponses" in page
    assert "Le gardien est-il disponible ?" in page
    listing = manager.get("/polls").get_data(as_text=True)
    assert "Enquête annuelle 2026" in listing
