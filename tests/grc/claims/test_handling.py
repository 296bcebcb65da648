"""Handling time kept on each claim: measured by its operations when it is responded to and
resolved (business hours of its calendar, pauses out), and measured afterwards, in batches,
for claims written without it."""

from __future__ import annotations

import sqlalchemy as sa
from freezegun import freeze_time

from grc.claims.handling import measure_unmeasured
from grc.claims.lifecycle import Action
from grc.claims.models import Claim, IntakeChannel
from grc.extensions import db
from tests.grc.reports.dataset import _act, _claim, at, build
from workers.jobs import measure_handling

HOUR = 3600


def _figures() -> dict[str, tuple[int | None, int | None]]:
    rows = db.session.execute(
        sa.select(Claim.reference, Claim.response_seconds, Claim.resolution_seconds)
    )
    return {reference: (response, resolution) for reference, response, resolution in rows}


def test_operations_measure_response_and_resolution(world):
    d = build(world)
    db.session.expire_all()
    c = {name: db.session.get(Claim, claim.id) for name, claim in d.claims.items()}
    # C1: started after 3 business hours, resolved after 9.
    assert (c["C1"].response_seconds, c["C1"].resolution_seconds) == (3 * HOUR, 9 * HOUR)
    # C2: 22 business hours to the resolution, 13.5 of them waiting for the tenant.
    assert (c["C2"].response_seconds, c["C2"].resolution_seconds) == (HOUR, int(8.5 * HOUR))
    # C3: resolved while being received.
    assert (c["C3"].response_seconds, c["C3"].resolution_seconds) == (0, 0)
    # C4 never answered; C8 answered, then paused: no resolution yet.
    assert (c["C4"].response_seconds, c["C4"].resolution_seconds) == (None, None)
    assert (c["C8"].response_seconds, c["C8"].resolution_seconds) == (HOUR, None)


def test_a_resolution_with_no_response_before_is_the_response_too(world):
    build(world)
    claim = _claim(world, at(12, 9), "PLB-ROBINET", "TIL-11", IntakeChannel.PHONE)
    _act(world, claim, at(12, 14), Action.RESOLVE, "Joint changé.")
    db.session.commit()
    db.session.expire_all()
    resolved = db.session.get(Claim, claim.id)
    assert resolved.responded_at == resolved.resolved_at
    # Thursday 10:00 to 15:00 Paris: five business hours, to the response and the resolution.
    assert (resolved.response_seconds, resolved.resolution_seconds) == (5 * HOUR, 5 * HOUR)


def test_a_reopened_claim_is_measured_from_its_receipt_again(world):
    d = build(world)
    c1 = d.claims["C1"]
    _act(world, c1, at(10, 11), Action.REOPEN, "Fuit encore.", user="agent")
    assert c1.resolution_seconds is None
    assert c1.resolved_at is None
    assert c1.response_seconds == 3 * HOUR  # the first response stays
    _act(world, c1, at(11, 9), Action.RESOLVE, "Robinet changé.")
    db.session.commit()
    db.session.expire_all()
    # Monday 10:00 to Wednesday 10:00 Paris: 7.5 + 9 + 1.5 business hours.
    assert db.session.get(Claim, c1.id).resolution_seconds == 18 * HOUR


def test_claims_written_without_their_measure_get_the_same_one_afterwards(world):
    build(world)
    expected = _figures()
    claims = sa.update(Claim).values(response_seconds=None, resolution_seconds=None)
    db.session.execute(claims.execution_options(synchronize_session=False))
    db.session.commit()
    assert all(figures == (None, None) for figures in _figures().values())

    # Two at a time, oldest first, each batch committed by its caller.
    assert measure_unmeasured(db.session, 2) == 2
    db.session.commit()
    total = 2
    while measured := measure_unmeasured(db.session, 2):
        db.session.commit()
        total += measured
    # Those responded to or resolved: C1, C2, C3, C8 (C4, C5, C6 unanswered, C7 cancelled).
    assert total == 4
    assert _figures() == expected
    assert measure_unmeasured(db.session, 2) == 0


def test_a_figure_already_there_is_kept(world):
    d = build(world)
    c2 = d.claims["C2"]
    db.session.execute(
        sa.update(Claim)
        .where(Claim.id == c2.id)
        .values(response_seconds=None, resolution_seconds=7)
    )
    db.session.commit()
    assert measure_unmeasured(db.session, 100) == 1
    db.session.commit()
    assert _figures()[c2.reference] == (HOUR, 7)


def test_the_job_and_the_command_measure_until_none_is_left(app, world):
    build(world)
    expected = _figures()
    db.session.execute(sa.update(Claim).values(response_seconds=None, resolution_seconds=None))
    db.session.commit()
    with freeze_time(at(16, 12)):
        assert measure_handling() == "measured=4"
        assert measure_handling() == "measured=0"
    db.session.expire_all()
    assert _figures() == expected
    db.session.execute(sa.update(Claim).values(resolution_seconds=None))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["grc", "measure-handling"])
    assert result.exit_code == 0, result.output
    assert "measured=3" in result.output
    db.session.expire_all()
    assert _figures() == expected
