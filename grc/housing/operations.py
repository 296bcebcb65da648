"""Housing use cases; they flush and never commit (the caller owns the transaction)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import phonenumbers
import sqlalchemy as sa
from sqlalchemy.orm import Session

from grc.errors import InvalidInput
from grc.housing.models import Agency, Territory
from grc.people.search import normalise_phone

CHANGEABLE_AGENCY_FIELDS = ("name", "on_call_name", "on_call_phone")


def takes_texts(number: str) -> bool:
    """Whether an E.164 number can receive a text message (the on-call alert is one)."""
    parsed = phonenumbers.parse(number)
    if phonenumbers.is_valid_number(parsed):
        return phonenumbers.number_type(parsed) in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        )
    # French mobiles are 06 and 07 numbers, including the ones not yet allocated to an
    # operator in the library's tables and the range kept for fiction (the demo's).
    return len(number) == 12 and number.startswith(("+336", "+337"))


def on_call_number(raw: str) -> str:
    """The on-call mobile number in E.164, from any French or international format."""
    number = normalise_phone(raw)
    if number is None:
        raise InvalidInput({"on_call_phone": ["Not a phone number (for example 06 12 34 56 78)."]})
    if not takes_texts(number):
        raise InvalidInput(
            {"on_call_phone": ["Must be a mobile number: the on-call alert is a text message."]}
        )
    return number


def update_agency(session: Session, agency: Agency, change: dict[str, Any]) -> Agency:
    """Apply the given fields (a given ``None`` clears one: no on-call alert then); the
    on-call number is stored in E.164 whatever the format it was given in."""
    if change.get("on_call_phone"):
        change = {**change, "on_call_phone": on_call_number(change["on_call_phone"])}
    for name in CHANGEABLE_AGENCY_FIELDS:
        if name in change:
            setattr(agency, name, change[name])
    session.flush()
    return agency


@dataclass(frozen=True)
class NewAgency:
    code: str
    name: str
    territory_id: int
    on_call_name: str | None = None
    on_call_phone: str | None = None


def create_agency(session: Session, command: NewAgency) -> Agency:
    code = command.code.strip().upper()
    errors: dict[str, list[str]] = {}
    if session.execute(sa.select(Agency.id).where(Agency.code == code)).first():
        errors["code"] = [f"An agency '{code}' exists already."]
    if session.get(Territory, command.territory_id) is None:
        errors["territory_id"] = [f"No territory with id {command.territory_id}."]
    if errors:
        raise InvalidInput(errors)
    agency = Agency(
        code=code,
        name=command.name.strip(),
        territory_id=command.territory_id,
        on_call_name=command.on_call_name,
        on_call_phone=on_call_number(command.on_call_phone) if command.on_call_phone else None,
    )
    session.add(agency)
    session.flush()
    return agency
