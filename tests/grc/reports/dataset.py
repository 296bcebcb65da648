"""One week of claims, calls and survey answers (Monday 9 to Sunday 15 March 2026, CET,
UTC+1), built through the product's operations at frozen times, whose every figure the
report tests compute by hand. Read on Monday 16 March at 13:00 Paris (NOW)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from freezegun import freeze_time

from contractors.rating import Grade
from grc.claims.lifecycle import Action
from grc.claims.models import Claim, IntakeChannel
from grc.claims.operations import (
    NewClaim,
    TransitionRequest,
    attach_caller,
    create_claim,
    transition_claim,
)
from grc.extensions import db
from grc.messaging.models import MessageChannel
from grc.surveys.models import Survey, SurveyStatus
from grc.telephony.models import Call, CallStatus
from tests.factories import World, without_contracts
from tests.grc.ratings.helpers import stored

NOW = datetime(2026, 3, 16, 12, 0, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@dataclass
class Dataset:
    claims: dict[str, Claim] = field(default_factory=dict)


def _claim(
    world: World,
    when: datetime,
    category: str,
    dwelling: str,
    channel: IntakeChannel,
    agent: str = "agent",
    resolve_now: bool = False,
) -> Claim:
    with freeze_time(when):
        return create_claim(
            db.session,
            NewClaim(
                category=category,
                channel=channel,
                description="Le robinet de la cuisine goutte sans arrêt.",
                dwelling_id=world.dwellings[dwelling].id,
                resolve_now=resolve_now,
                resolution="Robinet d'arrivée de gaz fermé, GRDF prévenu." if resolve_now else None,
            ),
            world.users[agent],
        )


def _act(
    world: World,
    claim: Claim,
    when: datetime,
    action: Action,
    comment: str | None = None,
    user: str = "metz_tech",
) -> None:
    with freeze_time(when):
        transition_claim(
            db.session, claim, TransitionRequest(action, comment), world.users[user], now=when
        )


def _further_call(world: World, claim: Claim, when: datetime) -> None:
    attach_caller(
        db.session,
        claim,
        world.tenants["TIL-12"],
        IntakeChannel.PHONE,
        world.users["agent"],
        now=when,
    )


def build(world: World) -> Dataset:
    without_contracts(db.session, world)
    d = Dataset()
    phone, web = IntakeChannel.PHONE, IntakeChannel.WEB
    # C1: answered at 13:00 (3 business hours), resolved Tuesday 10:00 (7.5 + 1.5 = 9 h).
    c1 = d.claims["C1"] = _claim(world, at(9, 9), "PLB-ROBINET", "TIL-11", phone)
    _act(world, c1, at(9, 12), Action.START)
    _further_call(world, c1, at(9, 15))
    _act(world, c1, at(10, 9), Action.RESOLVE, "Joint changé.")
    # C2: answered after 1 h, paused Monday 14:00 to Wednesday 09:30 (13.5 business hours),
    # resolved Wednesday 15:00: 22 h elapsed less 13.5 paused = 8.5 h.
    c2 = d.claims["C2"] = _claim(world, at(9, 10), "PLB-ROBINET", "TIL-12", web)
    _act(world, c2, at(9, 11), Action.START)
    _act(world, c2, at(9, 13), Action.WAIT_TENANT, "Pouvez-vous envoyer une photo ?")
    _act(world, c2, at(11, 8, 30), Action.RESUME)
    _act(world, c2, at(11, 14), Action.RESOLVE, "Joint changé.")
    # C3: a gas smell settled during the call (first-contact resolution), by the on-call unit.
    d.claims["C3"] = _claim(world, at(10, 9), "CHF-ODEUR-GAZ", "TIL-11", phone, resolve_now=True)
    # C7: cancelled the same morning: received, never measured for the SLA.
    c7 = d.claims["C7"] = _claim(world, at(10, 10), "PLB-ROBINET", "TIL-12", phone)
    _act(world, c7, at(10, 11), Action.CANCEL, "Doublon.")
    # C4: never answered (response due Friday 09:00, late); called about twice more.
    c4 = d.claims["C4"] = _claim(world, at(12, 8), "PLB-ROBINET", "TIL-11", phone)
    # C8: answered after 1 h, then waiting for the tenant (paused: neither late nor overdue).
    c8 = d.claims["C8"] = _claim(world, at(13, 9), "PLB-ROBINET", "TIL-12", phone)
    _act(world, c8, at(13, 10), Action.START)
    _act(world, c8, at(13, 10, 30), Action.WAIT_TENANT, "Le robinet est-il accessible ?")
    # C5: a leak in Nancy by e-mail on Sunday 21:00, four calendar hours to resolve: overdue
    # by 12 h at NOW.
    d.claims["C5"] = _claim(
        world, at(15, 20), "PLB-FUITE", "HAUS-11", IntakeChannel.EMAIL, agent="agent2"
    )
    # C6: received before the period, open and overdue since Wednesday 11 February 17:30.
    d.claims["C6"] = _claim(world, at(1, 10, month=2), "PLB-ROBINET", "TIL-12", phone)
    # Further calls on C4 (Thursday, Friday); C1's was on Monday.
    _further_call(world, c4, at(12, 10))
    _further_call(world, c4, at(13, 9))
    _calls(world)
    _surveys(world, d)
    stored(world.contractors["MULTI"].id, "2025-Q4", 72.5, Grade.B, 12)
    stored(world.contractors["MULTI"].id, "2026-Q1", 86.0, Grade.A, 15)
    db.session.commit()
    return d


def _calls(world: World) -> None:
    agent, agent2 = world.users["agent"], world.users["agent2"]
    for i, (received, status, taker, wait, duration) in enumerate(
        (
            (at(9, 8, 55), CallStatus.ANSWERED, agent, 30, 330),  # 300 s with the agent
            (at(9, 14), CallStatus.ABANDONED, None, 60, 60),
            (at(10, 8, 58), CallStatus.ANSWERED, agent2, 20, 200),  # 180 s
            (at(12, 7, 58), CallStatus.ANSWERED, agent, 10, 130),  # 120 s
            (at(12, 9, 59), CallStatus.ANSWERED, agent2, 0, 240),  # 240 s
            (at(16, 8), CallStatus.ANSWERED, agent, 5, 65),  # after the period
        )
    ):
        db.session.add(
            Call(
                call_sid=f"CA{i:032d}",
                caller_number="+33612345678",
                called_number="+33387000000",
                received_at=received,
                status=status,
                taken_at=received if taker else None,
                taken_by=taker,
                ended_at=received.replace(minute=received.minute + 1)
                if received.minute < 59
                else received,
                wait_seconds=wait,
                duration_seconds=duration,
            )
        )


def _surveys(world: World, d: Dataset) -> None:
    multi = world.contractors["MULTI"]
    for claim, number, contractor, answered, score, not_done in (
        (d.claims["C1"], 1, multi, at(10, 12), 5, False),
        (d.claims["C2"], 1, multi, at(12, 12), 3, False),
        (d.claims["C3"], 1, None, at(10, 12), 4, False),
        (d.claims["C1"], 2, multi, at(11, 12), None, True),
        (d.claims["C2"], 2, multi, at(20, 12), 1, False),  # after the period
    ):
        # A resolution plans its survey: answer that one, write the others.
        survey = db.session.execute(
            sa.select(Survey).where(Survey.claim_id == claim.id, Survey.resolution_number == number)
        ).scalar_one_or_none()
        if survey is None:
            survey = Survey(
                claim=claim,
                resolution_number=number,
                tenant=world.tenants["TIL-11"],
                channel=MessageChannel.SMS,
                recipient="+33612345678",
                planned_for=answered,
            )
            db.session.add(survey)
        survey.contractor = contractor
        survey.status = SurveyStatus.ANSWERED
        survey.sent_at = survey.answered_at = answered
        survey.score, survey.not_done = score, not_done
