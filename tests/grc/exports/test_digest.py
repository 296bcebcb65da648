"""The managers' weekly digest: figures of a fixed week computed by hand, the boundaries of
the week in Paris time, the e-mail's content, and one message per manager and week however
many times the job runs."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Flask

from grc.claims.models import Claim
from grc.exports.digest import digest_week, week_figures
from grc.extensions import db
from grc.messaging.models import MessageChannel, OutboxMessage, Purpose
from grc.people.models import Role
from grc.surveys.models import Survey, SurveyStatus
from grc.telephony.models import Call, CallStatus
from tests.factories import World
from tests.grc.exports.helpers import claims
from workers.jobs import send_weekly_digest

PARIS = ZoneInfo("Europe/Paris")
# Monday 16 November 2026, 07:30 in Paris (UTC+1): the week of 9 to 15 November is over.
MONDAY = datetime(2026, 11, 16, 6, 30, tzinfo=UTC)


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def _claim(world: World, created: datetime, due: datetime, **values: object) -> Claim:
    claim = claims(world, 1)[0]
    db.session.execute(
        sa.update(Claim)
        .where(Claim.id == claim.id)
        .values(created_at=created, resolution_due=due, **values)
    )
    return claim


def _resolved(at: datetime) -> dict[str, object]:
    return {"status": "resolved", "resolved_at": at}


def _call(n: int, at: datetime, status: CallStatus, agent: int) -> Call:
    taken = status in (CallStatus.ANSWERED, CallStatus.IN_PROGRESS)
    ended = status in (CallStatus.ANSWERED, CallStatus.ABANDONED)
    return Call(
        call_sid=f"CA{n:032d}",
        called_number="+33387000000",
        received_at=at,
        status=status,
        taken_at=at if taken else None,
        taken_by_id=agent if taken else None,
        ended_at=at if ended else None,
    )


def _survey(claim: Claim, tenant_id: int, score: int, answered: datetime) -> Survey:
    return Survey(
        claim_id=claim.id,
        resolution_number=1,
        tenant_id=tenant_id,
        channel=MessageChannel.SMS,
        recipient="+33600000000",
        status=SurveyStatus.ANSWERED,
        planned_for=answered,
        sent_at=answered,
        answered_at=answered,
        score=score,
    )


def _a_fortnight(world: World) -> None:
    """Two weeks of claims, calls and answers; the figures below are counted by hand."""
    # The week before (2 to 8 November, Paris).
    a = _claim(world, _at(3, 10), _at(5, 10), **_resolved(_at(4, 10)))  # on time
    _claim(world, _at(3, 11), _at(6, 10))  # open, overdue since the 6th
    # Sunday 8th, 23:30 in Paris: still the week before; open, due later.
    _claim(world, _at(8, 22, 30), _at(20, 10))
    # The week (9 to 15 November, Paris).
    c = _claim(world, _at(10, 10), _at(10, 20), **_resolved(_at(11, 10)))  # late
    d = _claim(world, _at(10, 11), _at(13, 10), **_resolved(_at(12, 10)))  # on time
    _claim(world, _at(12, 10), _at(20, 10))  # open, not due yet
    _claim(world, _at(13, 10), _at(20, 10), status="cancelled", cancelled_at=_at(14, 10))
    # Monday 16th, 00:30 in Paris: the week after.
    _claim(world, _at(15, 23, 30), _at(20, 10))
    agent = world.users["agent"].id
    db.session.add_all(
        [
            _call(1, _at(4, 9), CallStatus.ANSWERED, agent),
            _call(2, _at(10, 9), CallStatus.ANSWERED, agent),
            _call(3, _at(11, 9), CallStatus.ANSWERED, agent),
            _call(4, _at(12, 9), CallStatus.ABANDONED, agent),
            _call(5, _at(15, 22, 59), CallStatus.WAITING, agent),  # not over: not in the rate
        ]
    )
    tenant = world.tenants["TIL-11"].id
    db.session.add_all(
        [
            _survey(a, tenant, 3, _at(5, 9)),
            _survey(c, tenant, 4, _at(12, 9)),
            _survey(d, tenant, 5, _at(13, 9)),
        ]
    )
    db.session.commit()


def test_the_week_is_mondays_in_paris() -> None:
    week = digest_week(MONDAY, PARIS)
    assert week is not None
    assert (week.start, week.end, week.previous_start) == (_at(8, 23), _at(15, 23), _at(1, 23))
    assert (week.label, week.first_day, week.last_day) == ("2026-W46", "09/11/2026", "15/11/2026")
    assert digest_week(_at(16, 5, 59), PARIS) is None  # 06:59 in Paris: not yet
    assert digest_week(_at(18, 12), PARIS) == week  # a missed Monday: sent on Wednesday
    # Summer time: 07:00 in Paris is 05:00 UTC.
    assert digest_week(datetime(2026, 7, 6, 5, 0, tzinfo=UTC), PARIS) is not None
    assert digest_week(datetime(2026, 7, 6, 4, 59, tzinfo=UTC), PARIS) is None


def test_week_figures_counted_by_hand(world: World) -> None:
    _a_fortnight(world)
    this = week_figures(db.session, _at(8, 23), _at(15, 23))
    assert (this.received, this.resolved, this.resolved_on_time) == (4, 2, 1)
    assert (this.backlog, this.overdue) == (3, 1)  # B, H and E open; B late
    assert (this.calls, this.calls_answered, this.calls_ended) == (4, 2, 3)
    assert (this.satisfaction, this.answers) == (4.5, 2)
    assert this.on_time_share == 0.5
    assert this.answer_rate == 2 / 3
    before = week_figures(db.session, _at(1, 23), _at(8, 23))
    assert (before.received, before.resolved, before.resolved_on_time) == (3, 1, 1)
    assert (before.backlog, before.overdue) == (2, 1)
    assert (before.calls, before.answer_rate, before.satisfaction) == (1, 1.0, 3.0)


def test_each_manager_gets_the_digest_once(app_ctx: Flask, world: World, monkeypatch) -> None:
    _a_fortnight(world)
    world.add_user("manager2", Role.MANAGER)
    retired = world.add_user("retired_manager", Role.MANAGER)
    retired.active = False
    db.session.commit()
    monkeypatch.setattr("workers.jobs.utcnow", lambda: MONDAY)

    assert send_weekly_digest() == "queued=2"
    assert send_weekly_digest() == "queued=0"  # the second cron run sends nothing again

    digests = (
        db.session.execute(
            sa.select(OutboxMessage)
            .where(OutboxMessage.purpose == Purpose.WEEKLY_DIGEST)
            .order_by(OutboxMessage.recipient)
        )
        .scalars()
        .all()
    )
    assert [m.recipient for m in digests] == [
        "manager2@bailleur.test",
        "manager@bailleur.test",
    ]
    message = digests[0]
    assert message.subject == "GRC · la semaine du 09/11/2026 au 15/11/2026 en chiffres"
    text = message.body_text
    assert "Demandes reçues : 4 (semaine précédente : 3, +1)" in text
    assert "Demandes résolues : 2 (semaine précédente : 1, +1)" in text
    assert "Résolues dans les délais : 50 % (semaine précédente : 100 %, −50 pt)" in text
    assert "Demandes ouvertes en fin de semaine : 3 (semaine précédente : 2, +1)" in text
    assert "dont en retard : 1 (semaine précédente : 1, =)" in text
    assert "Appels reçus : 4 (semaine précédente : 1, +3)" in text
    assert "Taux de décroché : 67 % (semaine précédente : 100 %, −33 pt)" in text
    assert "Satisfaction moyenne (sur 5) : 4,5 (semaine précédente : 3,0, +1,5)" in text
    assert "2 réponses aux enquêtes à chaud" in text
    assert "/reports" in text
    assert message.body_html is not None
    assert "Demandes reçues" in message.body_html


def test_nothing_before_monday_morning(app_ctx: Flask, world: World, monkeypatch) -> None:
    monkeypatch.setattr("workers.jobs.utcnow", lambda: _at(16, 5, 30))
    assert send_weekly_digest() == "not yet"
