"""Claims and catalogue endpoints: parse, authorise, call one operation, commit, serialise."""

from __future__ import annotations

import functools
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import sqlalchemy as sa
from flask import Response, request
from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters
from sqlalchemy.orm import joinedload

from grc.arguments import Blueprint
from grc.auth import Permission, current_user, require
from grc.claims import operations, photos, queries
from grc.claims.models import Category, Claim, ClaimCaller, ClaimPhoto
from grc.claims.schemas import (
    AppointmentSchema,
    CallerCreateSchema,
    CategorySchema,
    ClaimCallerSchema,
    ClaimCreateSchema,
    ClaimDetailSchema,
    ClaimListArgsSchema,
    ClaimSchema,
    CommentSchema,
    EventSchema,
    PhotoSchema,
    PhotoUploadSchema,
    SimilarClaimsArgsSchema,
    TenantClaimSchema,
    TransitionSchema,
)
from grc.clock import settings
from grc.db import utcnow
from grc.errors import InvalidInput, NotFound, error_response
from grc.extensions import db
from grc.people.models import Tenant

catalogue_blp = Blueprint(
    "catalogue", __name__, url_prefix="/api/v1/categories", description="The claim catalogue"
)
blp = Blueprint("claims", __name__, url_prefix="/api/v1/claims", description="Claims")
# A tenant's claims are claims: listed here, under the tenant's address.
tenant_claims_blp = Blueprint(
    "tenant_claims", __name__, url_prefix="/api/v1/tenants", description="A tenant's claims"
)


@catalogue_blp.route("")
class CategoryList(MethodView):
    @require(Permission.CATALOGUE_READ)
    @catalogue_blp.response(200, CategorySchema(many=True))
    def get(self) -> list[Category]:
        """The active catalogue: domains first, each followed by its categories."""
        categories = (
            db.session.execute(
                sa.select(Category)
                .where(Category.active)
                .options(joinedload(Category.parent), joinedload(Category.sla_policy))
            )
            .scalars()
            .all()
        )
        return sorted(
            categories,
            key=lambda c: ((c.parent.code if c.parent else c.code), c.parent is not None, c.code),
        )


@blp.route("")
class ClaimCollection(MethodView):
    @require(Permission.CLAIMS_READ)
    @blp.arguments(ClaimListArgsSchema(), location="query")
    @blp.response(200, ClaimSchema(many=True))
    @blp.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Claim]:
        """Claims visible to the caller, newest first, filtered; paging in X-Pagination."""
        stmt = queries.list_claims(
            db.session, current_user(), queries.ClaimFilters(**args), utcnow()
        )
        page = _one_page(stmt, pagination_parameters)
        return list(db.session.execute(page).unique().scalars())

    @require(Permission.CLAIMS_CREATE)
    @blp.arguments(ClaimCreateSchema())
    @blp.response(201, ClaimDetailSchema)
    def post(self, payload: dict[str, Any]) -> Claim:
        """Register a claim: located, routed, with its SLA deadlines (or resolved at once)."""
        claim = operations.create_claim(db.session, operations.NewClaim(**payload), current_user())
        db.session.commit()
        return claim


@blp.route("/similar")
class SimilarClaims(MethodView):
    @require(Permission.CLAIMS_READ)
    @blp.arguments(SimilarClaimsArgsSchema(), location="query")
    @blp.response(200, ClaimSchema(many=True))
    def get(self, args: dict[str, Any]) -> list[Claim]:
        """Before saving a new claim: the open claims that may be the same breakdown (same
        equipment; same building and category, or same dwelling and category for a claim
        about a dwelling), newest first, at most 10. A further caller is then recorded on
        one of them (``POST /api/v1/claims/<reference>/callers``) rather than a duplicate."""
        return queries.similar_open_claims(
            db.session, current_user(), queries.SimilarClaimsQuery(**args)
        )


@blp.route("/<string(maxlength=30):reference>/callers")
class ClaimCallers(MethodView):
    # Whoever may write on a claim's timeline records a call on it: the call centre, and a
    # unit taking a call at its agency's desk.
    @require(Permission.CLAIMS_COMMENT)
    @blp.arguments(CallerCreateSchema())
    @blp.response(201, ClaimCallerSchema)
    @blp.alt_response(404, description="No such claim among those the caller may see")
    @blp.alt_response(409, description="The claim is resolved, closed or cancelled")
    def post(self, payload: dict[str, Any], reference: str) -> ClaimCaller:
        """Record a further call about this claim's problem (one more call on one
        breakdown) instead of a duplicate claim; the caller will be told of its resolution.
        The same tenant calling again is recorded again."""
        user = current_user()
        claim = queries.get_claim_by_reference_for(db.session, user, reference, for_update=True)
        tenant = db.session.get(Tenant, payload["tenant_id"])
        if tenant is None:
            raise InvalidInput({"tenant_id": [f"No tenant with id {payload['tenant_id']}."]})
        call = operations.attach_caller(
            db.session, claim, tenant, payload["channel"], user, payload.get("note")
        )
        db.session.commit()
        return call


@tenant_claims_blp.route("/<int(max=2147483647):tenant_id>/claims")
class TenantClaims(MethodView):
    @require(Permission.CLAIMS_READ)
    @tenant_claims_blp.response(200, TenantClaimSchema(many=True))
    @tenant_claims_blp.paginate()
    def get(
        self, tenant_id: int, pagination_parameters: PaginationParameters
    ) -> list[dict[str, Any]]:
        """The tenant's claims the caller may see, newest first: theirs, and those they
        called about (``relation``: tenant or caller); paging in X-Pagination."""
        if db.session.get(Tenant, tenant_id) is None:
            raise NotFound(f"No tenant with id {tenant_id}.")
        stmt = queries.tenant_claims(current_user(), tenant_id)
        page = _one_page(stmt, pagination_parameters)
        return [
            {"claim": claim, "relation": relation}
            for claim, relation in db.session.execute(page).unique()
        ]


@blp.route("/<int(max=2147483647):claim_id>")
class ClaimItem(MethodView):
    @require(Permission.CLAIMS_READ)
    @blp.response(200, ClaimDetailSchema)
    def get(self, claim_id: int) -> Claim:
        """One claim with its timeline."""
        return queries.get_claim_for(db.session, current_user(), claim_id, with_events=True)


@blp.route("/<int(max=2147483647):claim_id>/transitions")
class ClaimTransitions(MethodView):
    @require(Permission.CLAIMS_ACT)
    @blp.arguments(TransitionSchema())
    @blp.response(200, ClaimDetailSchema)
    @blp.alt_response(409, description="The lifecycle refuses this action from the current status")
    def post(self, payload: dict[str, Any], claim_id: int) -> Claim:
        """Move a claim along its lifecycle (assign, start, wait_tenant, resume, resolve…)."""
        user = current_user()
        claim = queries.get_claim_for(db.session, user, claim_id, for_update=True)
        operations.transition_claim(
            db.session, claim, operations.TransitionRequest(**payload), user
        )
        db.session.commit()
        return claim


@blp.route("/<int(max=2147483647):claim_id>/comments")
class ClaimComments(MethodView):
    @require(Permission.CLAIMS_COMMENT)
    @blp.arguments(CommentSchema())
    @blp.response(201, EventSchema)
    def post(self, payload: dict[str, Any], claim_id: int) -> Any:
        """Add a comment, internal or visible to the tenant."""
        user = current_user()
        claim = queries.get_claim_for(db.session, user, claim_id, for_update=True)
        event = operations.add_comment(
            db.session, claim, payload["body"], payload["visibility"], user
        )
        db.session.commit()
        return event


@blp.route("/<int(max=2147483647):claim_id>/appointment")
class ClaimAppointment(MethodView):
    @require(Permission.CLAIMS_ACT)
    @blp.arguments(AppointmentSchema())
    @blp.response(200, ClaimDetailSchema)
    def post(self, payload: dict[str, Any], claim_id: int) -> Claim:
        """Record the visit planned with the tenant (a time, or a window with ``end``); the tenant
        is told (SMS or e-mail) and the claim's open work order is scheduled for it."""
        user = current_user()
        claim = queries.get_claim_for(db.session, user, claim_id, for_update=True)
        operations.schedule_appointment(
            db.session,
            claim,
            payload["at"],
            user,
            end=payload.get("end"),
            note=payload.get("note"),
        )
        db.session.commit()
        return claim


# Room for the multipart envelope (boundary, part headers) around the photo itself.
_MULTIPART_ALLOWANCE = 64 * 1024


def _upload_within_limit(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse an oversized upload from its Content-Length, before the body is read."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        photo_limit = settings().attachment_max_bytes
        if (request.content_length or 0) > photo_limit + _MULTIPART_ALLOWANCE:
            return error_response(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"The photo is over the {photo_limit}-byte limit.",
            )
        # A body without Content-Length is cut there by Werkzeug (a JSON 413 as well).
        request.max_content_length = photo_limit + _MULTIPART_ALLOWANCE
        return view(*args, **kwargs)

    return wrapper


@blp.route("/<int(max=2147483647):claim_id>/photos")
class ClaimPhotos(MethodView):
    @require(Permission.CLAIMS_COMMENT)
    @_upload_within_limit
    @blp.arguments(PhotoUploadSchema(), location="files")
    @blp.response(201, PhotoSchema)
    @blp.alt_response(409, description="The claim is closed or cancelled, or has 10 photos")
    @blp.alt_response(413, description="The photo is over GRC_ATTACHMENT_MAX_BYTES")
    def post(self, files: dict[str, Any], claim_id: int) -> ClaimPhoto:
        """Add a photo (multipart ``file``: JPEG, PNG, WebP or HEIC). It is kept upright, at most
        2048 px, re-encoded as JPEG without any metadata (no GPS position)."""
        user = current_user()
        claim = queries.get_claim_for(db.session, user, claim_id)
        upload = files["file"]
        data = upload.stream.read(settings().attachment_max_bytes + 1)
        photo = photos.add_photo(db.session, claim, upload.filename or "", data, user, utcnow())
        db.session.commit()
        return photo


@blp.route("/<int(max=2147483647):claim_id>/photos/<int(max=2147483647):photo_id>")
class ClaimPhotoItem(MethodView):
    @require(Permission.CLAIMS_READ)
    @blp.response(
        200, {"type": "string", "format": "binary"}, content_type="image/jpeg", description="JPEG"
    )
    def get(self, claim_id: int, photo_id: int) -> Response:
        """The photo itself (image/jpeg)."""
        claim = queries.get_claim_for(db.session, current_user(), claim_id)
        photo = photos.photo_of_claim(db.session, claim.id, photo_id)
        if photo is None:
            raise NotFound(f"No photo with id {photo_id} on this claim.")
        return photos.photo_response(photo)


def _one_page(stmt: Any, pagination_parameters: PaginationParameters) -> Any:
    """The page of a claims listing that ``pagination_parameters`` asks for, with what each
    claim's answer shows; the listing's total goes to X-Pagination."""
    pagination_parameters.item_count = db.session.execute(
        sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
    ).scalar_one()
    return (
        stmt.options(
            joinedload(Claim.category),
            joinedload(Claim.unit),
            joinedload(Claim.contractor),
            joinedload(Claim.contract),
        )
        .limit(pagination_parameters.page_size)
        .offset(pagination_parameters.first_item)
    )
