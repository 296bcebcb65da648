"""Housing use cases; they flush and never commit (the caller owns the transaction)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from grc.housing.models import Agency

CHANGEABLE_AGENCY_FIELDS = ("on_call_name", "on_call_phone")


def update_agency(session: Session, agency: Agency, change: dict[str, Any]) -> Agency:
    """Apply the given fields (a given ``None`` clears one: no on-call alert then)."""
    for name in CHANGEABLE_AGENCY_FIELDS:
        if name in change:
            setattr(agency, name, change[name])
    session.flush()
    return agency
