"""The treatment units' queue and the claim page: thin views over ``claims.queries`` (read,
scoped to the user) and ``claims.operations`` (the same use cases as the API)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import PurePosixPath
from typing import Any, cast

from flask import flash, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from grc.auth import Permission, current_user
from grc.claims import catalogue_cache, forms, operations, photos, queries, sla_watch
from grc.claims.lifecycle import Action, allowed_actions
from grc.claims.models import Claim, ClaimStatus, TreatmentUnit, Visibility
from grc.clock import settings
from grc.db import utcnow
from grc.errors import Conflict, InvalidInput, NotFound, TooLarge, safe_rollback
from grc.extensions import db
from grc.people.models import Role, User
from grc.web.pages import (
    NavItem,
    add_to_navigation,
    can,
    error_page,
    page,
    page_blueprint,
    takes_files,
)
from grc.web.views import local_target

queue_blp = page_blueprint("queue", __name__)
claim_blp = page_blueprint("claim", __name__)

add_to_navigation(
    NavItem("queue.my_unit", _l("My queue"), Permission.CLAIMS_READ, roles=(Role.UNIT,))
)
add_to_navigation(NavItem("queue.index", _l("Claims"), Permission.CLAIMS_READ))


# --- the queue -------------------------------------------------------------------------------


@queue_blp.get("/claims")
@page(Permission.CLAIMS_READ)
def index() -> Any:
    """Every claim the user may see, by resolution deadline."""
    return _queue(None)


@queue_blp.get("/unit")
@page(Permission.CLAIMS_READ)
def my_unit() -> Response:
    """A unit user's home: their unit's queue (the claims list for a user of no unit)."""
    unit = current_user().unit
    if unit is None:
        return redirect(url_for("queue.index"))
    return redirect(url_for("queue.unit", code=unit.code))


@queue_blp.get("/unit/<string(maxlength=40):code>")
@page(Permission.CLAIMS_READ)
def unit(code: str) -> Any:
    return _queue(queries.get_unit_for(db.session, current_user(), code))


def _queue(unit: TreatmentUnit | None) -> Any:
    form = forms.QueueFilterForm(queries.agency_choices(db.session), formdata=request.args)
    now = utcnow()
    result = queries.QueuePage([], {}, 0)
    valid = form.validate()
    if valid:
        try:
            filters = queries.ClaimFilters(
                status=form.statuses(),
                unit_id=unit.id if unit else None,
                category=form.category.data or None,
                agency_id=form.agency.data,
                residence_id=queries.residence_id_for_code(db.session, form.residence.data),
                q=form.q.data or None,
            )
        except InvalidInput:
            form.residence.errors = [_("No residence has this code.")]
            valid = False
        else:
            result = queries.queue_page(
                db.session, current_user(), filters, now, form.page.data or 1
            )
    catalogue = catalogue_cache.catalogue(db.session)
    rows = [(claim, _deadline_state(catalogue, claim, now)) for claim in result.claims]
    bulk = (
        forms.BulkRerouteForm(queries.other_units(db.session), formdata=None, prefix="bulk")
        if can(Permission.CLAIMS_ACT)
        else None
    )
    return render_template(
        "claims/queue.html",
        bulk=bulk,
        unit=unit,
        form=form,
        rows=rows,
        counts=result.counts,
        counted=queries.COUNTED_STATUSES,
        total=result.total,
        page_number=form.page.data or 1,
        pages=max(1, math.ceil(result.total / queries.QUEUE_PAGE_SIZE)),
        statuses=list(ClaimStatus),
        page_address=_page_address,
    ), (HTTPStatus.OK if valid else HTTPStatus.UNPROCESSABLE_ENTITY)


@queue_blp.post("/claims/reroute")
@page(Permission.CLAIMS_ACT)
def reroute() -> Any:
    """The queue's selection rerouted to one unit, all or none; back to the queue."""
    back = local_target(request.form.get("next")) or url_for("queue.index")
    form = forms.BulkRerouteForm(queries.other_units(db.session), prefix="bulk")
    if not form.validate_on_submit():
        flash(_("Select claims and the unit they go to."), "error")
        return redirect(back)
    user = current_user()
    references = list(dict.fromkeys(form.claims.data))
    try:
        claims = queries.get_claims_by_reference_for(db.session, user, references, for_update=True)
        operations.reroute_claims(db.session, claims, form.unit.data, user)
    except (Conflict, InvalidInput) as error:
        safe_rollback()
        # The message names the claim refused (its reference); said again in French.
        flash(
            _("Nothing was rerouted: %(why)s", why=_refused_reference(error, references)),
            "error",
        )
        return redirect(back)
    db.session.commit()
    flash(_("%(count)d claims rerouted.", count=len(claims)), "success")
    return redirect(back)


def _refused_reference(error: Exception, references: list[str]) -> str:
    message = str(error)
    refused = next((r for r in references if message.startswith(f"{r}:")), None)
    if refused is None:
        return _("the unit cannot take these claims.")
    return _("claim %(reference)s cannot be rerouted there.", reference=refused)


def _deadline_state(catalogue: catalogue_cache.Catalogue, claim: Claim, now: Any) -> str | None:
    if claim.is_overdue(now):
        return "late"
    if sla_watch.near_breach(catalogue, claim, now):
        return "near"
    return None


def _page_address(**changes: Any) -> str:
    """This queue's address with ``changes`` to its query (another page, another status)."""
    arguments = request.args.to_dict()
    arguments.update({k: v for k, v in changes.items() if v is not None})
    for key, value in changes.items():
        if value is None:
            arguments.pop(key, None)
    values: dict[str, Any] = {**(request.view_args or {}), **arguments}
    return url_for(request.endpoint or "queue.index", **values)


# --- the claim page --------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimAction:
    form: type[FlaskForm]
    permission: Permission
    done: Any  # what the flash says (a lazy string)
    # What the claim page says when the operation refuses it as the claim now stands.
    refused: Any


ACTIONS: dict[str, ClaimAction] = {
    "comment": ClaimAction(
        forms.CommentForm,
        Permission.CLAIMS_COMMENT,
        _l("Comment added."),
        _l("The comment could not be added."),
    ),
    "assign": ClaimAction(
        forms.AssignForm,
        Permission.CLAIMS_ACT,
        _l("Claim assigned."),
        _l("This claim can no longer be assigned."),
    ),
    "route": ClaimAction(
        forms.ActionForm,
        Permission.CLAIMS_ACT,
        _l("Claim routed."),
        _l("No unit can take this claim: reroute it by hand."),
    ),
    "reroute": ClaimAction(
        forms.RerouteForm,
        Permission.CLAIMS_ACT,
        _l("Claim rerouted."),
        _l("The claim is already with this unit, or can no longer be rerouted."),
    ),
    "start": ClaimAction(
        forms.ActionForm,
        Permission.CLAIMS_ACT,
        _l("Work started."),
        _l("The work can no longer be started on this claim."),
    ),
    "appointment": ClaimAction(
        forms.AppointmentForm,
        Permission.CLAIMS_ACT,
        _l("Visit planned; the tenant is told."),
        _l("No visit can be planned on this claim any more."),
    ),
    "wait_tenant": ClaimAction(
        forms.WaitTenantForm,
        Permission.CLAIMS_ACT,
        _l("Question sent; the claim waits for the tenant."),
        _l("This claim can no longer wait for the tenant."),
    ),
    "resume": ClaimAction(
        forms.ActionForm,
        Permission.CLAIMS_ACT,
        _l("Claim resumed; its deadlines run again."),
        _l("This claim is not waiting for the tenant any more."),
    ),
    "resolve": ClaimAction(
        forms.ResolveForm,
        Permission.CLAIMS_ACT,
        _l("Claim resolved; the tenant is told."),
        _l("This claim can no longer be resolved."),
    ),
    "reopen": ClaimAction(
        forms.ReopenForm,
        Permission.CLAIMS_ACT,
        _l("Claim reopened."),
        _l("This claim can no longer be reopened."),
    ),
    "cancel": ClaimAction(
        forms.CancelForm,
        Permission.CLAIMS_ACT,
        _l("Claim cancelled."),
        _l("This claim can no longer be cancelled."),
    ),
    "close": ClaimAction(
        forms.ActionForm,
        Permission.CLAIMS_ACT,
        _l("Claim closed."),
        _l("This claim can no longer be closed."),
    ),
}

# What the operations' fields are called on the forms, and what to say of them in French.
_FIELD_WORDS: dict[str, tuple[str, Any]] = {
    "at": ("day", _l("The visit cannot be in the past.")),
    "end": ("end", _l("The visit must end after it starts, on the same day.")),
    "unit_id": ("unit", _l("Choose the unit the claim goes to.")),
    "assignee_id": ("assignee", _l("Choose a person of the claim's unit.")),
    "comment": ("comment", _l("Fill in this field.")),
}


def available_actions(claim: Claim, user: User) -> list[str]:
    """The actions the claim page offers ``user`` on ``claim``: those the lifecycle allows
    for the user's role from the claim's status, as the API lists them."""
    lifecycle_actions = set(allowed_actions(claim.status, user.role))
    offered = []
    if can(Permission.CLAIMS_COMMENT):
        offered.append("comment")
    if Action.RESOLVE in lifecycle_actions:
        offered.append("resolve")
    if Action.START in lifecycle_actions:
        offered.append("start")
    if can(Permission.CLAIMS_ACT) and operations.may_plan_visit(claim, user):
        offered.append("appointment")
    offered += [
        str(action)
        for action in (Action.WAIT_TENANT, Action.RESUME, Action.REOPEN, Action.CLOSE)
        if action in lifecycle_actions
    ]
    if Action.ASSIGN in lifecycle_actions:
        offered.append("assign")
        if operations.assigned_by_routing(claim):
            offered.append("route")
        offered.append("reroute")
    if Action.CANCEL in lifecycle_actions:
        offered.append("cancel")
    return offered


@claim_blp.get("/claims/<string(maxlength=30):reference>")
@page(Permission.CLAIMS_READ)
def show(reference: str) -> Any:
    return _claim_page(reference)


# The timeline a claim page shows at once, newest first; the earlier events are one click
# (or one htmx request) away, so a claim with hundreds of events opens as fast as any.
RECENT_EVENTS = 50


@claim_blp.get("/claims/<string(maxlength=30):reference>/events")
@page(Permission.CLAIMS_READ)
def older_events(reference: str) -> Any:
    """The claim's events before the event ``before``, newest first (the page's "earlier
    events" link, as htmx asks for them)."""
    before = request.args.get("before", type=int)
    if before is None or not 0 < before <= 2_147_483_647:
        raise InvalidInput({"before": ["An event id."]})
    case = queries.claim_case(db.session, current_user(), reference)
    events = [event for event in reversed(case.claim.events) if event.id < before]
    return render_template(
        "claims/timeline_events.html",
        events=events,
        case=case,
        downloads=can(Permission.INBOUND_READ),
    )


@claim_blp.get("/claims/<string(maxlength=30):reference>/photos/<int(max=2147483647):photo_id>")
@page(Permission.CLAIMS_READ)
def photo(reference: str, photo_id: int) -> Response:
    claim = queries.get_claim_by_reference_for(db.session, current_user(), reference)
    found = photos.photo_of_claim(db.session, claim.id, photo_id)
    if found is None:
        raise NotFound(f"No photo with id {photo_id} on this claim.")
    return photos.photo_response(found)


# Room for the multipart envelope (boundaries, part headers, the CSRF token) around photos.
_MULTIPART_ALLOWANCE = 64 * 1024


def _photos_body_limit() -> int:
    """As many photos as a claim takes, each up to the attachments' limit."""
    return photos.MAX_PHOTOS_PER_CLAIM * settings().attachment_max_bytes + _MULTIPART_ALLOWANCE


@claim_blp.post("/claims/<string(maxlength=30):reference>/photos")
@page(Permission.CLAIMS_COMMENT)
@takes_files(_photos_body_limit)
def add_photos(reference: str) -> Any:
    """Photos from the claim page, through the API's operation: all kept in one commit, or
    none and each refusal named in French on the form."""
    user = current_user()
    # Not locked here: add_photo decodes first, then locks the claim for the count.
    claim = queries.get_claim_by_reference_for(db.session, user, reference)
    form = forms.PhotosForm(prefix="photos")
    if not form.validate_on_submit():
        safe_rollback()
        return _claim_page(reference, ("photos", form), status=HTTPStatus.UNPROCESSABLE_ENTITY)
    had = len(claim.photos)
    limit = settings().attachment_max_bytes
    now = utcnow()
    refusals: list[tuple[HTTPStatus, str]] = []
    for upload in form.files.data:
        name = _sent_name(upload.filename)
        try:
            photos.add_photo(db.session, claim, name, upload.stream.read(limit + 1), user, now)
        except photos.PhotoRefused as refused:
            refusals.append((HTTPStatus.UNPROCESSABLE_ENTITY, _refused_words(name, refused)))
        except TooLarge:
            words = _("%(name)s is over %(size)s MB.", name=_quoted(name), size=_megabytes(limit))
            refusals.append((HTTPStatus.REQUEST_ENTITY_TOO_LARGE, words))
        except Conflict:
            # Closed meanwhile, or as many photos as a claim takes: no other file changes that.
            refusals.append((HTTPStatus.CONFLICT, _no_room_words(claim, had)))
            break
    if refusals:
        safe_rollback()
        form.files.errors = [*(words for _status, words in refusals), _("No photo was added.")]
        return _claim_page(reference, ("photos", form), status=refusals[0][0])
    db.session.commit()
    added = len(form.files.data)
    flash(_("Photo added.") if added == 1 else _("%(count)d photos added.", count=added), "success")
    return redirect(url_for("claim.show", reference=claim.reference))


def _sent_name(filename: str | None) -> str:
    """The file's name as the browser sent it, without any folder."""
    return PurePosixPath((filename or "").replace("\\", "/")).name


def _quoted(name: str) -> str:
    return _("“%(name)s”", name=name) if name else _("The file")


def _megabytes(size: int) -> str:
    return format_decimal(round(size / (1024 * 1024), 1))


def _refused_words(name: str, refused: photos.PhotoRefused) -> str:
    if refused.too_many_pixels:
        return _(
            "%(name)s has too many pixels (at most %(million)d million).",
            name=_quoted(name),
            million=photos.MAX_PIXELS // 1_000_000,
        )
    return _("%(name)s is not a JPEG, PNG, WebP or HEIC image.", name=_quoted(name))


def _no_room_words(claim: Claim, had: int) -> str:
    """Why the claim took no more photos (its status as add_photo just read it)."""
    if not photos.takes_photos(claim):
        return _("This claim is closed or cancelled: it takes no more photos.")
    most = photos.MAX_PHOTOS_PER_CLAIM
    if had >= most:
        return _("This claim already has %(max)d photos, the most a claim takes.", max=most)
    return _(
        "A claim takes at most %(max)d photos and this one has %(count)d: add %(left)d at most.",
        max=most,
        count=had,
        left=most - had,
    )


@claim_blp.post("/claims/<string(maxlength=30):reference>/<string(maxlength=20):action>")
@page(Permission.CLAIMS_READ)
def act(reference: str, action: str) -> Any:
    """One action of the claim page: the form parses, the operation decides; back to the
    claim page with a flash, or the page again with the refusal said in French."""
    chosen = ACTIONS.get(action)
    if chosen is None:
        return error_page(HTTPStatus.NOT_FOUND)
    if not can(chosen.permission):
        return error_page(HTTPStatus.FORBIDDEN)
    user = current_user()
    claim = queries.get_claim_by_reference_for(db.session, user, reference, for_update=True)
    form = _action_form(action, claim)
    if not form.validate_on_submit():
        safe_rollback()
        return _claim_page(reference, (action, form), status=HTTPStatus.UNPROCESSABLE_ENTITY)
    try:
        _OPERATIONS[action](claim, form, user)
    except InvalidInput as error:
        safe_rollback()
        _name_fields(form, error)
        return _claim_page(reference, (action, form), status=HTTPStatus.UNPROCESSABLE_ENTITY)
    except Conflict:
        safe_rollback()
        return _claim_page(
            reference, (action, form), refusal=str(chosen.refused), status=HTTPStatus.CONFLICT
        )
    db.session.commit()
    flash(str(chosen.done), "success")
    return redirect(url_for("claim.show", reference=claim.reference))


def _action_form(action: str, claim: Claim, formdata: Any = True) -> FlaskForm:
    form_class = ACTIONS[action].form
    options: dict[str, Any] = {"prefix": action}
    if formdata is None:
        options["formdata"] = None
    if form_class is forms.RerouteForm:
        return forms.RerouteForm(queries.other_units(db.session, claim), **options)
    if form_class is forms.AssignForm:
        people = [(p.id, p.name) for p in queries.assignable_people(db.session, claim)]
        return forms.AssignForm(people, **options)
    return form_class(**options)


def _name_fields(form: FlaskForm, error: InvalidInput) -> None:
    """The operation's refusal on the form's own fields, in French."""
    for name in (error.errors or {}).get("json", {}):
        field_name, words = _FIELD_WORDS.get(name, ("", _l("Check this field.")))
        field = getattr(form, field_name, None) or next(
            (f for f in form if f.type != "CSRFTokenField"), None
        )
        if field is not None:
            field.errors = [*field.errors, str(words)]


def _claim_page(
    reference: str,
    failed: tuple[str, FlaskForm] | None = None,
    *,
    refusal: str | None = None,
    status: HTTPStatus = HTTPStatus.OK,
) -> Any:
    user = current_user()
    case = queries.claim_case(db.session, user, reference)
    claim = case.claim
    offered = available_actions(claim, user)
    action_forms = {name: _action_form(name, claim, formdata=None) for name in offered}
    photo_form: FlaskForm | None = None
    if failed is not None and failed[0] == "photos":
        photo_form = failed[1]
    elif failed is not None:
        action_forms[failed[0]] = failed[1]
    newest_first = list(reversed(claim.events))
    shown = len(newest_first) if request.args.get("all") else RECENT_EVENTS
    room = photos.room_for_photos(claim)
    if photo_form is None and room and can(Permission.CLAIMS_COMMENT):
        photo_form = forms.PhotosForm(prefix="photos", formdata=None)
    return render_template(
        "claims/claim.html",
        case=case,
        claim=claim,
        forms=action_forms,
        photo_form=photo_form,
        photo_room=room,
        photo_limit=_megabytes(settings().attachment_max_bytes),
        max_photos=photos.MAX_PHOTOS_PER_CLAIM,
        downloads=can(Permission.INBOUND_READ),
        recent_events=newest_first[:shown],
        older_count=len(newest_first) - shown,
        failed=failed[0] if failed else None,
        refusal=refusal,
        now=utcnow(),
    ), status


# The operations behind each action: the same the API calls.
def _transition(
    action: Action, field: str | None = None, *, unit: bool = False, person: bool = False
) -> Callable[..., Any]:
    def run(claim: Claim, form: FlaskForm, user: User) -> None:
        comment = getattr(form, field).data if field else None
        operations.transition_claim(
            db.session,
            claim,
            operations.TransitionRequest(
                action,
                comment=comment,
                unit_id=form.unit.data if unit else None,
                assignee_id=form.assignee.data if person else None,
            ),
            user,
        )

    return run


def _comment(claim: Claim, form: FlaskForm, user: User) -> None:
    operations.add_comment(
        db.session,
        claim,
        form.body.data,
        Visibility(form.visibility.data),
        user,
    )


def _appointment(claim: Claim, form: FlaskForm, user: User) -> None:
    form = cast("forms.AppointmentForm", form)
    operations.schedule_appointment(
        db.session,
        claim,
        form.starts_at(),
        user,
        end=form.ends_at(),
        note=(form.note.data or "").strip() or None,
    )


_OPERATIONS: dict[str, Callable[[Claim, FlaskForm, User], None]] = {
    "comment": _comment,
    "assign": _transition(Action.ASSIGN, "comment", person=True),
    "route": _transition(Action.ASSIGN),
    "reroute": _transition(Action.ASSIGN, "comment", unit=True),
    "start": _transition(Action.START),
    "appointment": _appointment,
    "wait_tenant": _transition(Action.WAIT_TENANT, "comment"),
    "resume": _transition(Action.RESUME),
    "resolve": _transition(Action.RESOLVE, "comment"),
    "reopen": _transition(Action.REOPEN, "comment"),
    "cancel": _transition(Action.CANCEL, "comment"),
    "close": _transition(Action.CLOSE),
}
