"""Marshmallow schemas of the people API (staff audience)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from grc.fields import Text
from grc.people.models import Channel, Lease


class TenantSearchArgsSchema(Schema):
    q = Text(
        required=True,
        validate=validate.Length(min=2, max=100),
        metadata={"description": "Phone (any format), name, address or claim reference"},
    )


def lease_dwelling(lease: Lease | None) -> dict[str, Any] | None:
    """Where a lease's tenant lives, for the search's answer."""
    if lease is None:
        return None
    dwelling = lease.dwelling
    building = dwelling.building
    return {
        "id": dwelling.id,
        "code": dwelling.code,
        "floor": dwelling.floor,
        "door": dwelling.door,
        "building_id": building.id,
        "entrance": building.entrance,
        "address": building.address,
        "residence": {"id": building.residence.id, "name": building.residence.name},
        "agency_id": building.residence.agency_id,
        "lease_reference": lease.reference,
    }


class TenantSchema(Schema):
    id = fields.Integer()
    first_name = fields.String()
    last_name = fields.String()
    email = fields.String(allow_none=True)
    phones = fields.Function(lambda t: [p.number for p in t.phones])
    preferred_channel = fields.Enum(Channel, by_value=True)


class TenantMatchSchema(Schema):
    matched_by = fields.String(metadata={"description": "reference, phone, name or address"})
    tenant = fields.Nested(TenantSchema)
    dwelling = fields.Dict(allow_none=True)
