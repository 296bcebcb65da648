"""Claims for the export tests, written straight into the table (the export reads columns,
whatever the path that set them), and a runner that records the jobs handed over."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask

from grc.claims.models import Claim, ClaimStatus
from grc.exports.operations import _RUNNER, set_runner
from grc.extensions import db
from tests.factories import World
from tests.grc.claims.helpers import claim_in_status

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def claims(world: World, count: int, dwelling: str = "TIL-11", **values: Any) -> list[Claim]:
    """``count`` claims at ``dwelling``, created an hour apart from T0 (the first is the
    oldest), each with ``values`` set."""
    made = []
    for n in range(count):
        claim = claim_in_status(world, ClaimStatus.ASSIGNED, dwelling=dwelling)
        db.session.execute(
            sa.update(Claim)
            .where(Claim.id == claim.id)
            .values(created_at=T0 + timedelta(hours=n), **values)
        )
        made.append(claim)
    db.session.commit()
    return made


@contextmanager
def recorded_hand_overs(app: Flask) -> Iterator[list[int]]:
    """The jobs handed over while in the block, none of them run."""
    handed: list[int] = []
    previous = app.extensions.get(_RUNNER)
    set_runner(app, handed.append)
    try:
        yield handed
    finally:
        app.extensions[_RUNNER] = previous
