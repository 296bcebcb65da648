"""The console: thin views over the tenant search, the claims' queries and operations (the
same functions the API calls)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from http import HTTPStatus
from typing import Any

import phonenumbers
from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy.orm import selectinload
from werkzeug.routing import BuildError
from wtforms.fields.choices import SelectChoice

from grc.auth import Permission, current_user
from grc.claims import catalogue_cache, operations, queries
from grc.claims.catalogue_cache import CategoryValue
from grc.claims.models import Claim, IntakeChannel, LocationKind
from grc.clock import local_today
from grc.console.forms import (
    AttachCallForm,
    ClaimForm,
    TakeCallForm,
    category_code,
    leaf_categories,
)
from grc.db import utcnow
from grc.errors import Conflict, InvalidInput, NotFound
from grc.extensions import db
from grc.housing.models import Building
from grc.messaging.models import DeliveryStatus, MessageChannel
from grc.messaging.queries import latest_sent_to
from grc.people.models import Channel
from grc.people.search import TenantMatch, search_tenants, tenant_with_home
from grc.telephony import operations as telephony
from grc.telephony.models import Call, CallStatus
from grc.web.formatting import duration
from grc.web.pages import NavItem, add_to_navigation, can, page, page_blueprint

blp = page_blueprint("console", __name__, url_prefix="/console")
add_to_navigation(NavItem("console.index", lazy_gettext("Console"), Permission.CLAIMS_CREATE))

MAX_QUERY = 200
# The card shows the newest claims; older ones are a search of the claims list away.
CARD_CLAIMS = 20
CARD_MESSAGES = 5


MATCHED_BY = {
    "phone": lazy_gettext("phone"),
    "name": lazy_gettext("name"),
    "address": lazy_gettext("address"),
    "reference": lazy_gettext("claim reference"),
}
TENANT_CHANNEL = {Channel.SMS: lazy_gettext("Text message"), Channel.EMAIL: lazy_gettext("E-mail")}
MESSAGE_CHANNEL = {
    MessageChannel.SMS: lazy_gettext("Text message"),
    MessageChannel.EMAIL: lazy_gettext("E-mail"),
}
MESSAGE_STATUS = {
    DeliveryStatus.PENDING: lazy_gettext("waiting"),
    DeliveryStatus.SENDING: lazy_gettext("being sent"),
    DeliveryStatus.SENT: lazy_gettext("sent"),
    DeliveryStatus.DELIVERED: lazy_gettext("delivered"),
    DeliveryStatus.FAILED: lazy_gettext("failed"),
    DeliveryStatus.NEEDS_CHECK: lazy_gettext("to be checked"),
    DeliveryStatus.CANCELLED: lazy_gettext("withdrawn"),
}


@blp.context_processor
def console_words() -> dict[str, Any]:
    return {
        "matched_by_words": MATCHED_BY,
        "channel_words": TENANT_CHANNEL,
        "message_channel_words": MESSAGE_CHANNEL,
        "message_status_words": MESSAGE_STATUS,
        "now": utcnow(),
        "calls_panel": can(Permission.CALLS_READ),
    }


@blp.app_template_filter("console_phone")
def console_phone(number: str | None) -> str:
    """A stored number as an agent reads it aloud: "06 12 34 56 78" (abroad: "+44 …")."""
    if not number:
        return ""
    try:
        parsed = phonenumbers.parse(number, "FR")
    except phonenumbers.NumberParseException:
        return number
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if parsed.country_code == 33
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(parsed, style)


@blp.app_template_filter("console_seconds")
def console_seconds(seconds: int) -> str:
    """A wait as the panel says it: "45 s", "2 min", "1 h"."""
    return duration(timedelta(seconds=seconds))


def _htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def claim_url(claim: Claim) -> str | None:
    """The claim page, when the application has one."""
    if "claim.show" not in current_app.view_functions:
        return None
    for values in ({"claim_id": claim.id}, {"reference": claim.reference}):
        try:
            return url_for("claim.show", **values)
        except BuildError:
            continue
    return None


@blp.app_template_global()
def console_claim_url(claim: Claim) -> str | None:
    return claim_url(claim)


@blp.get("")
@page(Permission.CLAIMS_CREATE)
def index() -> Any:
    q = (request.args.get("q") or "").strip()[:MAX_QUERY]
    found = search_tenants(db.session, q, local_today()) if q else None
    if (
        found
        and not _htmx()
        and len(found.matches) == 1
        and found.matches[0].matched_by == "reference"
    ):
        # A claim reference names its tenant: the card, at once.
        return redirect(url_for("console.tenant", tenant_id=found.matches[0].tenant.id))
    template = "console/_results.html" if _htmx() else "console/index.html"
    return render_template(template, q=q, found=found, error=None), HTTPStatus.OK


# The call an agent took from the console, kept in their session: the claims they register
# while it goes on are linked to it.
_CURRENT_CALL = "console_call_id"


def _current_call() -> Call | None:
    """The call this agent took and is still on, if any."""
    call_id = session.get(_CURRENT_CALL)
    if not call_id or not can(Permission.CALLS_HANDLE):
        return None
    call = db.session.get(Call, call_id)
    if call is None or call.status != CallStatus.IN_PROGRESS:
        return None
    return call if call.taken_by_id == current_user().id else None


def _link_to_current_call(claim: Claim) -> None:
    call = _current_call()
    if call is not None:
        telephony.link_claim(db.session, call, claim, current_user(), utcnow())


@blp.get("/calls")
@page(Permission.CALLS_READ)
def calls() -> Any:
    """The calls waiting or being handled, for the console's panel (polled every 5 s)."""
    return render_template(
        "console/_calls.html",
        calls=telephony.calls_in_progress(db.session, utcnow()),
        me=current_user(),
    )


@blp.post("/calls/<int(max=2147483647):call_id>/take")
@page(Permission.CALLS_HANDLE)
def take_call(call_id: int) -> Any:
    """Pick up a call and open the caller's card (the tenant chosen among those holding the
    number), or the search box with the number when none does."""
    form = TakeCallForm()
    if not form.validate_on_submit():
        abort(HTTPStatus.UNPROCESSABLE_ENTITY)
    call = db.session.get(Call, call_id)
    if call is None:
        abort(HTTPStatus.NOT_FOUND)
    try:
        telephony.take_call(db.session, call, current_user(), utcnow())
    except Conflict:
        db.session.rollback()
        message = _("Another agent took this call, or it is over.")
        return render_template("console/index.html", q="", found=None, error=message), 409
    db.session.commit()
    session[_CURRENT_CALL] = call.id
    if form.tenant_id.data:
        return redirect(url_for("console.tenant", tenant_id=form.tenant_id.data))
    return redirect(url_for("console.index", q=console_phone(call.caller_number) or None))


@dataclass(frozen=True)
class _Place:
    """Where a claim of the card's form would be: the building, and the dwelling the tenant
    lives in (None without a current lease)."""

    building: Building | None
    dwelling_id: int | None


def _tenant_or_404(tenant_id: int) -> TenantMatch:
    found = tenant_with_home(db.session, tenant_id, local_today())
    if found is None:
        abort(HTTPStatus.NOT_FOUND)
    return found


def _place(found: TenantMatch) -> _Place:
    if found.lease is None:
        return _Place(None, None)
    return _Place(found.lease.dwelling.building, found.lease.dwelling_id)


def _claim_form(found: TenantMatch) -> ClaimForm:
    form = ClaimForm()
    place = _place(found)
    equipment = place.building.equipment if place.building else []
    form.equipment_id.choices = [SelectChoice("0", _("— choose —"))] + [
        SelectChoice(str(e.id), e.label) for e in equipment
    ]
    return form


def _render_card(
    found: TenantMatch,
    form: ClaimForm,
    status: int = HTTPStatus.OK,
    saved: Claim | None = None,
    error: str | None = None,
    attached: bool = False,
) -> tuple[str, int]:
    user = current_user()
    today = local_today()
    catalogue = catalogue_cache.catalogue(db.session)
    claims = db.session.execute(
        queries.tenant_claims(user, found.tenant.id, newest=CARD_CLAIMS)
        .options(
            selectinload(Claim.category),
            selectinload(Claim.unit),
            selectinload(Claim.contractor),
        )
        .limit(CARD_CLAIMS)
    ).all()
    recipients = [phone.number for phone in found.tenant.phones]
    if found.tenant.email:
        recipients.append(found.tenant.email)
    messages = latest_sent_to(
        db.session, [claim.id for claim, _relation in claims], recipients, CARD_MESSAGES
    )
    place = _place(found)
    contracts = (
        catalogue.contracts_for(place.building.residence_id, today) if place.building else []
    )
    context = {
        "found": found,
        "tenant": found.tenant,
        "lease": found.lease,
        "claims": claims,
        "messages": messages,
        "contracts": [
            (contract, _category_labels(catalogue, contract.category_ids)) for contract in contracts
        ],
        "categories": leaf_categories(catalogue),
        "form": form,
        "attach_form": AttachCallForm(),
        "saved": saved,
        "attached": attached,
        "current_call": _current_call(),
        "saved_deadline": _deadline_reason(catalogue, saved) if saved else None,
        "error": error,
    }
    return render_template("console/tenant.html", **context), status


def _category_labels(catalogue: catalogue_cache.Catalogue, ids: frozenset[int]) -> list[str]:
    categories = [catalogue.category_by_id(i) for i in ids]
    return sorted(category.label_fr for category in categories if category.location_kind)


def _deadline_reason(catalogue: catalogue_cache.Catalogue, claim: Claim) -> dict[str, Any] | None:
    """What the deadlines are computed from: the category's policy and its clock."""
    policy = catalogue.category_by_id(claim.category_id).effective_policy
    if policy is None:
        return None
    return {
        "policy": policy,
        "department": claim.residence.department_code if claim.residence else None,
    }


@blp.get("/tenants/<int(max=2147483647):tenant_id>")
@page(Permission.CLAIMS_CREATE)
def tenant(tenant_id: int) -> Any:
    found = _tenant_or_404(tenant_id)
    saved = None
    attached = request.args.get("attached", type=int)
    saved_id = request.args.get("saved", type=int) or attached
    if saved_id:
        saved = queries.get_claim_for(db.session, current_user(), saved_id)
    return _render_card(found, _claim_form(found), saved=saved, attached=bool(attached))


# What an operation names in English → the form's field and the words it shows.
_FIELD_OF_ERROR = {
    "category": "category",
    "description": "description",
    "resolution": "resolution",
    "dwelling_id": "location",
    "building_id": "location",
    "equipment_id": "location",
    "location": "location",
    "tenant_id": "location",
}


def _error_words(field: str) -> str:
    return {
        "category": _("Unknown category: pick one from the list."),
        "description": _("Describe the problem."),
        "resolution": _("Say what answer was given to resolve it during the call."),
        "location": _("This place does not fit the category: choose where the problem is."),
    }[field]


@dataclass(frozen=True)
class _Location:
    """The form's place as the operation takes it: one of dwelling, building, equipment."""

    dwelling_id: int | None = None
    building_id: int | None = None
    equipment_id: int | None = None


def _location_ids(form: ClaimForm, place: _Place) -> _Location:
    kind = form.location.data
    if kind == LocationKind.EQUIPMENT.value:
        return _Location(equipment_id=form.equipment_id.data or None)
    if kind == LocationKind.BUILDING.value and place.building is not None:
        return _Location(building_id=place.building.id)
    return _Location(dwelling_id=place.dwelling_id)


@blp.post("/tenants/<int(max=2147483647):tenant_id>/claims")
@page(Permission.CLAIMS_CREATE)
def create_claim(tenant_id: int) -> Any:
    found = _tenant_or_404(tenant_id)
    form = _claim_form(found)
    place = _place(found)
    if not form.validate_on_submit():
        return _render_card(found, form, HTTPStatus.UNPROCESSABLE_ENTITY)
    catalogue = catalogue_cache.catalogue(db.session)
    code = category_code(form.category.data, catalogue)
    location = _location_ids(form, place)
    if code is None:
        form.category.errors = [_error_words("category")]
        return _render_card(found, form, HTTPStatus.UNPROCESSABLE_ENTITY)
    if place.building is None or not any(
        (location.dwelling_id, location.building_id, location.equipment_id)
    ):
        form.location.errors = [_error_words("location")]
        return _render_card(found, form, HTTPStatus.UNPROCESSABLE_ENTITY)
    command = operations.NewClaim(
        category=code,
        channel=IntakeChannel(form.channel.data),
        description=form.description.data,
        tenant_id=found.tenant.id,
        resolve_now=form.resolve_now.data,
        resolution=form.resolution.data,
        dwelling_id=location.dwelling_id,
        building_id=location.building_id,
        equipment_id=location.equipment_id,
    )
    try:
        claim = operations.create_claim(db.session, command, current_user())
    except InvalidInput as error:
        db.session.rollback()
        for name in (error.errors or {}).get("json", {}):
            field = _FIELD_OF_ERROR.get(name, "category")
            getattr(form, field).errors = [_error_words(field)]
        return _render_card(found, form, HTTPStatus.UNPROCESSABLE_ENTITY)
    except Conflict:
        db.session.rollback()
        if form.resolve_now.data:
            message = _(
                "This category cannot be resolved during the call: it needs a unit or a "
                "contractor. Untick “Resolved during the call” to register it."
            )
            form.resolve_now.errors = [message]
        else:
            message = _("No treatment unit can take this claim; nothing was saved.")
        return _render_card(found, form, HTTPStatus.CONFLICT, error=message)
    _link_to_current_call(claim)
    db.session.commit()
    flash(_("Claim %(reference)s is registered.", reference=claim.reference), "success")
    return redirect(url_for("console.tenant", tenant_id=found.tenant.id, saved=claim.id))


@blp.get("/tenants/<int(max=2147483647):tenant_id>/similar")
@page(Permission.CLAIMS_CREATE)
def similar(tenant_id: int) -> Any:
    """The live part of the form: the category's priority and place, and the open claims
    the new one may duplicate."""
    found = _tenant_or_404(tenant_id)
    place = _place(found)
    catalogue = catalogue_cache.catalogue(db.session)
    code = category_code(request.args.get("category", ""), catalogue)
    category: CategoryValue | None = catalogue.category(code) if code else None
    claims: list[Claim] = []
    if category is not None and place.building is not None:
        location = request.args.get("location")
        equipment_id = request.args.get("equipment_id", type=int) or None
        where = {"dwelling_id": place.dwelling_id}
        if location == LocationKind.EQUIPMENT.value and equipment_id:
            where = {"equipment_id": equipment_id}
        elif location in (LocationKind.EQUIPMENT.value, LocationKind.BUILDING.value):
            where = {"building_id": place.building.id}
        try:
            claims = queries.similar_open_claims(
                db.session,
                current_user(),
                queries.SimilarClaimsQuery(category_id=category.id, **where),
            )
        except InvalidInput:
            claims = []  # a place not in this building: nothing to compare with
    return render_template(
        "console/_similar.html",
        tenant=found.tenant,
        category=category,
        similar=claims,
        attach_form=AttachCallForm(),
    )


@blp.post("/tenants/<int(max=2147483647):tenant_id>/calls/<string(maxlength=30):reference>")
@page(Permission.CLAIMS_CREATE)
def attach_call(tenant_id: int, reference: str) -> Any:
    found = _tenant_or_404(tenant_id)
    form = AttachCallForm()
    if not form.validate_on_submit():
        return _render_card(found, _claim_form(found), HTTPStatus.UNPROCESSABLE_ENTITY)
    user = current_user()
    try:
        claim = queries.get_claim_by_reference_for(db.session, user, reference, for_update=True)
        operations.attach_caller(
            db.session, claim, found.tenant, IntakeChannel.PHONE, user, form.description.data
        )
    except NotFound:
        db.session.rollback()
        abort(HTTPStatus.NOT_FOUND)
    except Conflict:
        db.session.rollback()
        message = _("This claim is no longer open: register a new claim for this call.")
        return _render_card(found, _claim_form(found), HTTPStatus.CONFLICT, error=message)
    _link_to_current_call(claim)
    db.session.commit()
    flash(_("The call is attached to claim %(reference)s.", reference=claim.reference), "success")
    target = claim_url(claim)
    if target:
        return redirect(target)
    return redirect(url_for("console.tenant", tenant_id=found.tenant.id, attached=claim.id))
