"""Marshmallow schemas of the claims API (staff audience); they also drive the OpenAPI doc."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from grc.auth import current_user
from grc.claims.lifecycle import Action, allowed_actions
from grc.claims.models import (
    MAX_DESCRIPTION,
    ClaimStatus,
    Clock,
    IntakeChannel,
    Priority,
    RouteKind,
    RouteReason,
    Visibility,
)
from grc.fields import Text, id_field


class SlaPolicySchema(Schema):
    code = fields.String()
    label_fr = fields.String()
    label_en = fields.String()
    response_hours = fields.Integer()
    resolution_hours = fields.Integer()
    clock = fields.Enum(Clock, by_value=True)


class CategorySchema(Schema):
    id = fields.Integer()
    code = fields.String()
    parent = fields.Function(lambda c: c.parent.code if c.parent else None)
    label_fr = fields.String()
    label_en = fields.String()
    technical = fields.Boolean()
    location = fields.Function(
        lambda c: (
            f"equipment:{c.equipment_kind}"
            if c.equipment_kind
            else str(c.location_kind)
            if c.location_kind
            else None
        )
    )
    default_priority = fields.Enum(Priority, by_value=True)
    sla_policy = fields.Nested(SlaPolicySchema, allow_none=True)
    handled_by = fields.Function(
        lambda c: (
            f"{c.default_route_kind}:{c.default_route_target}" if c.default_route_kind else None
        )
    )
    responsibility = fields.String()
    fcr_possible = fields.Boolean()


class ClaimCreateSchema(Schema):
    category = Text(
        required=True,
        validate=validate.Length(min=1, max=30),
        metadata={"description": "Category code, e.g. PLB-FUITE"},
    )
    channel = fields.Enum(IntakeChannel, by_value=True, required=True)
    description = Text(required=True, validate=validate.Length(min=3, max=MAX_DESCRIPTION))
    dwelling_id = id_field(allow_none=True)
    building_id = id_field(allow_none=True)
    equipment_id = id_field(allow_none=True)
    tenant_id = id_field(allow_none=True)
    priority = fields.Enum(Priority, by_value=True, allow_none=True)
    resolve_now = fields.Boolean(
        load_default=False,
        metadata={"description": "The agent answered during the call: first-contact resolution."},
    )
    resolution = Text(validate=validate.Length(max=MAX_DESCRIPTION), allow_none=True)

    @validates_schema(skip_on_field_errors=False)
    def one_location(self, data: dict[str, Any], **kwargs: Any) -> None:
        given = [k for k in ("dwelling_id", "building_id", "equipment_id") if data.get(k)]
        if len(given) != 1:
            raise ValidationError(
                "Give exactly one of dwelling_id, building_id, equipment_id.", "location"
            )


class UnitRefSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class ContractorRefSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class ContractRefSchema(Schema):
    id = fields.Integer()
    reference = fields.String()
    kind = fields.String()


class RouteSchema(Schema):
    kind = fields.Enum(RouteKind, by_value=True)
    unit = fields.Nested(UnitRefSchema)
    contractor = fields.Nested(ContractorRefSchema, allow_none=True)
    contract = fields.Nested(ContractRefSchema, allow_none=True)
    reason_code = fields.Enum(RouteReason, by_value=True)
    reason = fields.String(metadata={"description": "Why this route was chosen, in French"})


class EventSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    action = fields.String(allow_none=True)
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True)
    visibility = fields.Enum(Visibility, by_value=True)
    body = fields.String(allow_none=True)
    changes = fields.Dict(allow_none=True)
    actor = fields.Function(lambda e: {"id": e.actor.id, "name": e.actor.name} if e.actor else None)
    created_at = fields.AwareDateTime()


class ClaimSchema(Schema):
    id = fields.Integer()
    reference = fields.String()
    status = fields.Enum(ClaimStatus, by_value=True)
    channel = fields.Enum(IntakeChannel, by_value=True)
    priority = fields.Enum(Priority, by_value=True)
    category = fields.Function(
        lambda c: {
            "code": c.category.code,
            "label_fr": c.category.label_fr,
            "label_en": c.category.label_en,
        }
    )
    description = fields.String()
    tenant_id = fields.Integer(allow_none=True)
    assignee_id = fields.Integer(allow_none=True)
    location = fields.Function(
        lambda c: {
            "kind": str(c.location_kind),
            "dwelling_id": c.dwelling_id,
            "building_id": c.building_id,
            "equipment_id": c.equipment_id,
            "residence_id": c.residence_id,
            "agency_id": c.agency_id,
        }
    )
    route = fields.Nested(RouteSchema)
    sla_clock = fields.String()
    response_due = fields.AwareDateTime()
    resolution_due = fields.AwareDateTime()
    responded_at = fields.AwareDateTime(allow_none=True)
    resolved_at = fields.AwareDateTime(allow_none=True)
    closed_at = fields.AwareDateTime(allow_none=True)
    cancelled_at = fields.AwareDateTime(allow_none=True)
    appointment_at = fields.AwareDateTime(allow_none=True)
    appointment_end = fields.AwareDateTime(
        allow_none=True,
        metadata={"description": "End of the visit's window; null when an exact time was given"},
    )
    first_contact_resolution = fields.Boolean()
    resolution = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class PhotoSchema(Schema):
    id = fields.Integer()
    filename = fields.String()
    content_type = fields.String(metadata={"description": "Always image/jpeg once normalised"})
    size = fields.Integer(metadata={"description": "Bytes of the stored JPEG"})
    width = fields.Integer()
    height = fields.Integer()
    source = fields.String(metadata={"description": "upload (staff) or email (the tenant's)"})
    created_at = fields.AwareDateTime()
    url = fields.Function(
        lambda p: url_for("claims.ClaimPhotoItem", claim_id=p.claim_id, photo_id=p.id),
        metadata={"description": "Where the image itself is served"},
    )


class PhotoUploadSchema(Schema):
    file = Upload(
        required=True,
        metadata={"description": "A JPEG, PNG, WebP or HEIC photo, up to GRC_ATTACHMENT_MAX_BYTES"},
    )


class ClaimCallSchema(Schema):
    id = fields.Integer()
    received_at = fields.AwareDateTime()
    caller_number = fields.String(allow_none=True)


class ClaimDetailSchema(ClaimSchema):
    events = fields.List(fields.Nested(EventSchema))
    calls = fields.List(
        fields.Nested(ClaimCallSchema),
        metadata={"description": "The calls during which the claim was registered"},
    )
    photos = fields.List(
        fields.Nested(PhotoSchema),
        metadata={"description": "The claim's photos (their details; each image at its url)"},
    )
    allowed_actions = fields.Function(
        lambda c: [str(a) for a in allowed_actions(c.status, current_user().role)],
        metadata={"description": "What the caller may do next"},
    )


class ClaimListArgsSchema(Schema):
    status = fields.List(fields.Enum(ClaimStatus, by_value=True))
    unit_id = id_field()
    category = Text(validate=validate.Length(max=30))
    agency_id = id_field()
    tenant_id = id_field()
    overdue = fields.Boolean()
    q = Text(validate=validate.Length(min=2, max=100))
    residence_id = id_field()


class TransitionSchema(Schema):
    action = fields.Enum(Action, by_value=True, required=True)
    comment = Text(validate=validate.Length(max=MAX_DESCRIPTION), allow_none=True)
    unit_id = id_field(allow_none=True)
    # With assign and no unit_id: the person of the claim's unit who follows it.
    assignee_id = id_field(allow_none=True)


class CommentSchema(Schema):
    body = Text(required=True, validate=validate.Length(min=1, max=MAX_DESCRIPTION))
    visibility = fields.Enum(Visibility, by_value=True, load_default=Visibility.INTERNAL)


class UnitSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    kind = fields.String()
    agency_id = fields.Integer(allow_none=True)


class RoutingRuleSchema(Schema):
    id = fields.Integer()
    category = fields.Function(lambda r: r.category.code)
    unit = fields.Nested(UnitRefSchema)
    residence_id = fields.Integer(allow_none=True)
    agency_id = fields.Integer(allow_none=True)
    territory_id = fields.Integer(allow_none=True)


class RoutingRuleCreateSchema(Schema):
    category = Text(required=True, validate=validate.Length(min=1, max=30))
    unit_id = id_field(required=True)
    residence_id = id_field(allow_none=True)
    agency_id = id_field(allow_none=True)
    territory_id = id_field(allow_none=True)


class CategoryChangeSchema(Schema):
    label_fr = Text(validate=validate.Length(min=1, max=160))
    label_en = Text(validate=validate.Length(min=1, max=160))
    default_priority = fields.Enum(Priority, by_value=True)
    sla_policy = Text(validate=validate.Length(min=1, max=20))
    active = fields.Boolean()


class AppointmentSchema(Schema):
    at = fields.AwareDateTime(required=True, metadata={"description": "ISO 8601 with offset"})
    end = fields.AwareDateTime(
        allow_none=True,
        metadata={"description": 'End of a window ("entre 8h et 12h"), after `at`, same day'},
    )
    note = Text(validate=validate.Length(max=MAX_DESCRIPTION), allow_none=True)


class SimilarClaimsArgsSchema(Schema):
    equipment_id = id_field()
    building_id = id_field()
    dwelling_id = id_field()
    category_id = id_field(
        metadata={"description": "The new claim's category (its id in GET /api/v1/categories)"}
    )


class CallerCreateSchema(Schema):
    tenant_id = id_field(required=True, metadata={"description": "Who called"})
    channel = fields.Enum(
        IntakeChannel,
        by_value=True,
        load_default=IntakeChannel.PHONE,
        metadata={"description": "How they got in touch (phone unless said)"},
    )
    note = Text(validate=validate.Length(max=MAX_DESCRIPTION), allow_none=True)


def _person(person: Any) -> dict[str, Any]:
    return {"id": person.id, "name": person.name}


class ClaimCallerSchema(Schema):
    id = fields.Integer()
    claim_reference = fields.Function(lambda c: c.claim.reference)
    tenant = fields.Function(lambda c: {"id": c.tenant.id, "name": c.tenant.full_name})
    channel = fields.Enum(IntakeChannel, by_value=True)
    note = fields.String(allow_none=True)
    called_at = fields.AwareDateTime()
    recorded_by = fields.Function(lambda c: _person(c.recorded_by))


class TenantClaimSchema(Schema):
    relation = fields.String(
        metadata={
            "description": "tenant: the claim is theirs; caller: they called about another "
            "tenant's (or the building's) claim and are told of its resolution"
        }
    )
    claim = fields.Nested(ClaimSchema)
