"""Read side of the outbox: what a person was sent."""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grc.messaging.models import OutboxMessage


def latest_sent_to(
    session: Session, claim_ids: Collection[int], recipients: Collection[str], limit: int = 5
) -> list[OutboxMessage]:
    """The newest messages about ``claim_ids`` addressed to one of ``recipients`` (a
    tenant's numbers and address): what the tenant was told about their claims, read
    through the index on the messages' claim."""
    if not claim_ids or not recipients:
        return []
    return list(
        session.execute(
            sa.select(OutboxMessage)
            .where(
                OutboxMessage.claim_id.in_(list(claim_ids)),
                OutboxMessage.recipient.in_(list(recipients)),
            )
            .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
            .limit(limit)
        ).scalars()
    )
