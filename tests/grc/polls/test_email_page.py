"""The poll's page from the e-mail's signed link: every question on one page, a forged or
expired link refused, answers recorded once."""

from __future__ import annotations

import re
from datetime import timedelta

from freezegun import freeze_time

from grc.extensions import db
from grc.messaging.models import Purpose
from grc.people.models import Channel
from grc.polls.models import RecipientChannel, RecipientStatus
from grc.polls.operations import page_token
from tests.grc.messaging.provider_apps import outbox
from tests.grc.polls.helpers import TUESDAY, answers, launched, recipients
from workers.jobs import send_polls


def _emailed(world):
    for tenant in world.tenants.values():
        tenant.preferred_channel = Channel.EMAIL
    db.session.commit()
    poll = launched(sample=1)
    with freeze_time(TUESDAY + timedelta(minutes=1)):
        assert send_polls() == "sms=0 emails=1 closed=0"
    [recipient] = recipients(poll)
    assert recipient.channel == RecipientChannel.EMAIL
    [mail] = outbox(purpose=Purpose.POLL_INVITATION)
    link = re.search(r"/sondage/[\w.\-]+", mail.body_text)
    assert link is not None
    return poll, recipient, link.group(0)


def test_the_page_records_the_answers_once(client, world):
    poll, _recipient, link = _emailed(world)
    [q1, q2] = poll.questions
    with freeze_time(TUESDAY + timedelta(hours=1)):
        page = client.get(link)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "propreté des parties communes" in html
        assert "Plutôt pas satisfait" in html
        assert page.headers["Cache-Control"] == "no-store"
        english = client.get(link + "?lang=en").get_data(as_text=True)
        assert "Not very satisfied" in english
        assert "cleanliness of your building" in english
        # Nothing chosen: the page says so.
        assert client.post(link, data={}).status_code == 400
        # One answer, then the page again with both: the first one stays.
        assert client.post(link, data={f"q{q1.id}": "2"}).status_code == 200
        assert client.post(link, data={f"q{q1.id}": "4", f"q{q2.id}": "1"}).status_code == 200
        assert client.post(link, data={f"q{q1.id}": "3", f"q{q2.id}": "3"}).status_code == 200
    assert sorted((a.question_id, a.value) for a in answers()) == [(q1.id, 2), (q2.id, 1)]
    assert recipients(poll)[0].status == RecipientStatus.ANSWERED


def test_a_forged_or_closed_link_is_refused(client, world):
    _poll, recipient, link = _emailed(world)
    token = link.rsplit("/", 1)[1]
    forged = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    with freeze_time(TUESDAY + timedelta(hours=1)):
        assert client.get(f"/sondage/{forged}").status_code == 404
        assert client.post(f"/sondage/{forged}", data={"q1": "1"}).status_code == 404
        assert client.get(f"/sondage/{page_token(recipient.id + 999)}").status_code == 404
    # After the poll's closing date.
    with freeze_time(TUESDAY + timedelta(days=22)):
        assert client.get(link).status_code == 404
    assert answers() == []


def test_a_tenant_can_decline_every_poll(client, world):
    from grc.polls.models import PollOptOut

    _poll, recipient, link = _emailed(world)
    with freeze_time(TUESDAY + timedelta(hours=1)):
        page = client.get(link).get_data(as_text=True)
        assert "Je ne souhaite pas participer aux enquêtes" in page
        response = client.post(link + "/stop")
    assert response.status_code == 200
    assert "ne vous proposerons plus" in response.get_data(as_text=True)
    [declined] = recipients()
    assert declined.status == RecipientStatus.REFUSED
    assert db.session.get(PollOptOut, recipient.tenant_id) is not None
    # The next quarter's poll does not draw them.
    later = launched(sample=8, at=TUESDAY + timedelta(days=100))
    assert recipient.tenant_id not in {r.tenant_id for r in recipients(later)}
