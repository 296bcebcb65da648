"""The fixed data set of the CUS tests, written through the real operations (intake,
transitions, attached calls) at given moments. The expected figures are in the tests,
computed by hand from the comments here.

Year 2025 in Europe/Paris runs from 2024-12-31 23:00 UTC to 2025-12-31 23:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

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
from grc.housing.models import Equipment, EquipmentKind
from tests.factories import World


def utc(text: str) -> datetime:
    """``2025-12-31 20:00`` in UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def act(world: World, claim: Claim, action: Action, at: str, comment: str = "") -> None:
    transition_claim(
        db.session,
        claim,
        TransitionRequest(action, comment or "Fait."),
        world.users["metz_tech"],
        utc(at),
    )


def lift_claim(
    world: World, lift: str, created: str, resolved: str | None = None, *, callers: int = 0
) -> Claim:
    """A claim "person trapped in the lift" on ``lift``, with ``callers`` further calls
    attached to it, resolved at ``resolved`` (or left open)."""
    claim = create_claim(
        db.session,
        NewClaim(
            category="ASC-BLOQUE",
            channel=IntakeChannel.PHONE,
            description="Ascenseur bloqué.",
            equipment_id=world.equipment[lift].id,
        ),
        world.users["agent"],
        utc(created),
    )
    for number in range(callers):
        attach_caller(
            db.session,
            claim,
            world.tenants["TIL-12" if number % 2 else "TIL-11"],
            IntakeChannel.PHONE,
            world.users["agent"],
            now=utc(created),
        )
    if resolved is not None:
        act(world, claim, Action.RESOLVE, resolved, "Ascenseur remis en service.")
    return claim


def leak(world: World, dwelling: str, created: str) -> Claim:
    """A water leak (emergency policy: response within 1 hour, calendar time)."""
    return create_claim(
        db.session,
        NewClaim(
            category="PLB-FUITE",
            channel=IntakeChannel.PHONE,
            description="Fuite sous l'évier.",
            dwelling_id=world.dwellings[dwelling].id,
        ),
        world.users["agent"],
        utc(created),
    )


def second_lift(world: World) -> None:
    """A second lift in Les Tilleuls (Metz): Metz has two lifts, Woippy one, Nancy none."""
    world.equipment["TIL-ELEV2"] = lift = Equipment(
        code="TIL-A-ASC2",
        building=world.buildings["TIL"],
        kind=EquipmentKind.ELEVATOR,
        label="Ascenseur B",
    )
    db.session.add(lift)
    db.session.flush()


def lift_breakdowns(world: World) -> dict[str, Claim]:
    """Metz (lifts L1 TIL-ELEV, L2 TIL-ELEV2) and Woippy (L3 PARC-ELEV) in 2025:

    - L1, 2024 breakdown: A 2024-12-31 22:00 UTC (23:00 in Paris, 2024) to 2025-01-01
      02:00; B at 00:30 UTC (2025 in Paris) comes while A is open: no 2025 breakdown.
    - L1, F 2025-03-10 08:00 to 10:00: 2 h, not long.
    - L1, D 2025-12-31 20:00 UTC (21:00 Paris) with 2 calls attached to it, and E a
      duplicate claim at 21:00 resolved 22:00: one breakdown ending with D on 2026-01-02
      08:00; M, 2026-01-01 12:00 to 2026-01-03 08:00, comes before it ended and prolongs
      it: 60 h, long, counted in 2025 (not in 2026), 5 calls.
    - L2, G 2025-06-01 06:00 to 10:30: 4 h 30, long.
    - L2, K 2025-09-01 08:00 to 2025-09-02 08:00: 24 h, long.
    - L2, C 2025-12-31 23:30 UTC: 1 January 2026 in Paris, not 2025.
    - L3, I 2025-05-05 08:00 cancelled: no breakdown.
    - L3, J 2025-05-06 08:00 to 12:00: exactly 4 h, not long.
    - L3, H 2025-11-20 08:00, unresolved: long once it has lasted 4 hours.

    2025: Metz 4 breakdowns (F, D, G, K), 3 long, 2 lifts: 1.5 per lift, 8 calls;
    Woippy 2 (J, H), 1 long (H, open since November) per lift, 2 calls; Nancy no lift;
    the landlord 6 breakdowns, 4 long, 3 lifts: 1.33 per lift."""
    second_lift(world)
    claims = {
        "A": lift_claim(world, "TIL-ELEV", "2024-12-31 22:00", "2025-01-01 02:00"),
        "B": lift_claim(world, "TIL-ELEV", "2025-01-01 00:30", "2025-01-01 01:00"),
        "F": lift_claim(world, "TIL-ELEV", "2025-03-10 08:00", "2025-03-10 10:00"),
        "D": lift_claim(world, "TIL-ELEV", "2025-12-31 20:00", "2026-01-02 08:00", callers=2),
        "E": lift_claim(world, "TIL-ELEV", "2025-12-31 21:00", "2025-12-31 22:00"),
        "M": lift_claim(world, "TIL-ELEV", "2026-01-01 12:00", "2026-01-03 08:00"),
        "G": lift_claim(world, "TIL-ELEV2", "2025-06-01 06:00", "2025-06-01 10:30"),
        "K": lift_claim(world, "TIL-ELEV2", "2025-09-01 08:00", "2025-09-02 08:00"),
        "C": lift_claim(world, "TIL-ELEV2", "2025-12-31 23:30", "2026-01-01 06:00"),
        "I": lift_claim(world, "PARC-ELEV", "2025-05-05 08:00"),
        "J": lift_claim(world, "PARC-ELEV", "2025-05-06 08:00", "2025-05-06 12:00"),
        "H": lift_claim(world, "PARC-ELEV", "2025-11-20 08:00"),
    }
    act(world, claims["I"], Action.CANCEL, "2025-05-05 08:10", "Appel en double.")
    db.session.commit()
    return claims


def responses(world: World) -> dict[str, Claim]:
    """Water leaks (response within 1 calendar hour) in 2025:

    - Metz: R1 08:00 started 08:30, on time; R2 09:00, the tenant asked a question at
      09:40 (the clock paused: the question is the answer), resumed 15:00, resolved 16:00,
      on time; R3 started two hours late, late; R4 cancelled, not counted.
    - Woippy: R5 never answered, late once its deadline passed; R6 started exactly at its
      deadline, on time.
    - Nancy: R7 2024-12-31 23:30 UTC (2025 in Paris) started 23:45, on time; R8
      2025-12-31 23:30 UTC is 2026 in Paris, not counted.

    2025: Metz 3 claims, 2 on time, 1 late; Woippy 2, 1, 1; Nancy 1, 1, 0; the landlord 6,
    4 on time, 2 late: two thirds."""
    claims = {
        "R1": leak(world, "TIL-11", "2025-03-10 08:00"),
        "R2": leak(world, "TIL-12", "2025-03-10 09:00"),
        "R3": leak(world, "TIL-11", "2025-03-11 08:00"),
        "R4": leak(world, "TIL-12", "2025-04-01 08:00"),
        "R5": leak(world, "PARC-11", "2025-05-01 08:00"),
        "R6": leak(world, "PARC-12", "2025-05-01 08:00"),
        "R7": leak(world, "HAUS-11", "2024-12-31 23:30"),
        "R8": leak(world, "HAUS-12", "2025-12-31 23:30"),
    }
    act(world, claims["R1"], Action.START, "2025-03-10 08:30")
    act(world, claims["R2"], Action.WAIT_TENANT, "2025-03-10 09:40", "Quand êtes-vous là ?")
    act(world, claims["R2"], Action.RESUME, "2025-03-10 15:00")
    act(world, claims["R2"], Action.RESOLVE, "2025-03-10 16:00", "Joint changé.")
    act(world, claims["R3"], Action.START, "2025-03-11 10:00")
    act(world, claims["R4"], Action.CANCEL, "2025-04-01 08:10", "Erreur de saisie.")
    act(world, claims["R6"], Action.START, "2025-05-01 09:00")
    act(world, claims["R7"], Action.START, "2024-12-31 23:45")
    act(world, claims["R8"], Action.START, "2025-12-31 23:45")
    db.session.commit()
    return claims
