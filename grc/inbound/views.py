"""Mail to handle: e-mails nothing matched (file them on a claim), tenants' e-mails (register
them as claims) and contractors' replies a person must read (confirm or correct the reading,
or file them). Thin views over the operations the inbound API uses, scoped like it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from grc.auth import Permission, current_user
from grc.claims import catalogue_cache
from grc.claims.models import IntakeChannel
from grc.claims.operations import NewClaim
from grc.claims.queries import get_claim_by_reference_for
from grc.clock import local_today, settings
from grc.db import utcnow
from grc.errors import InvalidInput, NotFound
from grc.extensions import db
from grc.housing.models import Dwelling
from grc.inbound import operations
from grc.inbound.downloads import download
from grc.inbound.forms import AttachForm, CorrectForm, DecideForm, RegisterForm
from grc.inbound.models import InboundEmail, InboundStatus
from grc.inbound.operations import ReplyDecision
from grc.web import current_language
from grc.web.pages import NavItem, add_to_navigation, can, page, page_blueprint

blp = page_blueprint("mail", __name__)

add_to_navigation(NavItem("mail.index", lazy_gettext("Mail to handle"), Permission.INBOUND_TRIAGE))

# The tabs: what a person does with the mail in each, and the statuses it holds.
TABS: dict[str, tuple[InboundStatus, ...]] = {
    "file": operations.TO_FILE,
    "register": operations.TO_REGISTER,
    "replies": operations.TO_READ,
}
# The oldest first: more than this is worked off a page at a time.
SHOWN = 50


@blp.get("/mail")
@page(Permission.INBOUND_TRIAGE)
def index() -> Any:
    counts = operations.mail_counts(db.session, current_user())
    tab = request.args.get("tab")
    if tab not in TABS:
        # The first tab with mail waiting, so that the usual case needs no click.
        tab = next((name for name, s in TABS.items() if _count(counts, s)), "file")
    emails = operations.mail_to_handle(db.session, current_user(), TABS[tab], SHOWN)
    return render_template(
        "inbound/index.html",
        tab=tab,
        tabs={name: _count(counts, statuses) for name, statuses in TABS.items()},
        emails=emails,
        shown=SHOWN,
        visit_of=operations.reading_visit,
    )


@blp.get("/mail/<int(max=2147483647):email_id>")
@page(Permission.INBOUND_TRIAGE)
def email(email_id: int) -> Any:
    inbound = operations.inbound_for(db.session, current_user(), email_id)
    return _email_page(inbound)


@blp.get("/mail/<int(max=2147483647):email_id>/attachments/<int(max=2147483647):attachment_id>")
@page(Permission.INBOUND_READ)
def attachment(email_id: int, attachment_id: int) -> Response:
    """A kept attachment, for whoever may see the e-mail: the mail to handle's pages and the
    timeline of the e-mail's claim both link here (404 for a claim the user may not see)."""
    kept = operations.attachment_for(db.session, current_user(), email_id, attachment_id)
    return download(kept.filename, kept.content_type, kept.data or b"")


@blp.post("/mail/<int(max=2147483647):email_id>/attach")
@page(Permission.INBOUND_TRIAGE)
def attach(email_id: int) -> Any:
    inbound = operations.inbound_for(db.session, current_user(), email_id)
    form = AttachForm()
    if not form.validate_on_submit():
        return _email_page(inbound, attach_form=form, status=422)
    try:
        claim = get_claim_by_reference_for(db.session, current_user(), form.reference.data or "")
    except NotFound:
        form.reference.errors = [_("No claim of yours has this reference.")]
        return _email_page(inbound, attach_form=form, status=422)
    # A refusal (the e-mail was handled meanwhile, its original deleted) is a 409 page.
    operations.attach_to_claim(db.session, inbound, claim)
    db.session.commit()
    flash(_("The e-mail is filed on claim %(reference)s.", reference=claim.reference), "success")
    return redirect(url_for(".index", tab=_tab_of(inbound, "file")))


@blp.post("/mail/<int(max=2147483647):email_id>/register")
@page(Permission.CLAIMS_CREATE)
def register(email_id: int) -> Any:
    inbound = operations.inbound_for(db.session, current_user(), email_id)
    form = RegisterForm()
    dwellings = _register_choices(form, inbound)
    if not form.validate_on_submit():
        return _email_page(inbound, register_form=form, dwellings=dwellings, status=422)
    dwelling_id = form.dwelling_id.data if dwellings else _dwelling_id(form)
    if dwelling_id is None:
        return _email_page(inbound, register_form=form, dwellings=dwellings, status=422)
    command = NewClaim(
        category=form.category.data or "",
        channel=IntakeChannel.EMAIL,
        description=form.description.data or "",
        dwelling_id=dwelling_id,
    )
    try:
        claim = operations.register_intake(db.session, inbound, command, current_user(), utcnow())
    except InvalidInput as error:
        db.session.rollback()
        fields = (error.errors or {}).get("json", {})
        target = form.category if "category" in fields or not dwellings else form.dwelling_id
        if "description" in fields:
            target = form.description
        target.errors = [_("This claim cannot be registered so: check the category and place.")]
        inbound = operations.inbound_for(db.session, current_user(), email_id)
        return _email_page(inbound, register_form=form, dwellings=dwellings, status=422)
    db.session.commit()
    flash(_("Claim %(reference)s is registered.", reference=claim.reference), "success")
    return redirect(url_for(".index", tab="register"))


@blp.post("/mail/<int(max=2147483647):email_id>/confirm")
@page(Permission.INBOUND_TRIAGE)
def confirm(email_id: int) -> Response:
    inbound = operations.inbound_for(db.session, current_user(), email_id)
    if not DecideForm().validate_on_submit():
        abort(400)
    # Nothing to confirm (a question, unclear), or decided meanwhile: a 409 page.
    operations.decide_contractor_reply(
        db.session, inbound, ReplyDecision.CONFIRM, current_user(), utcnow()
    )
    db.session.commit()
    flash(_("The reading is confirmed and applied."), "success")
    return redirect(url_for(".index", tab="replies"))


@blp.post("/mail/<int(max=2147483647):email_id>/correct")
@page(Permission.INBOUND_TRIAGE)
def correct(email_id: int) -> Any:
    inbound = operations.inbound_for(db.session, current_user(), email_id)
    form = CorrectForm()
    if not form.validate_on_submit():
        return _email_page(inbound, correct_form=form, status=422)
    try:
        operations.decide_contractor_reply(
            db.session,
            inbound,
            ReplyDecision.APPLY,
            current_user(),
            utcnow(),
            kind=form.kind.data,
            appointment_at=_local(form.appointment_at.data),
        )
    except InvalidInput:
        # The one field a choice among three can get wrong: the visit's time.
        db.session.rollback()
        form.appointment_at.errors = [_("Give the visit's day and time, not already past.")]
        inbound = operations.inbound_for(db.session, current_user(), email_id)
        return _email_page(inbound, correct_form=form, status=422)
    db.session.commit()
    flash(_("The corrected reading is applied."), "success")
    return redirect(url_for(".index", tab="replies"))


@blp.post("/mail/<int(max=2147483647):email_id>/file")
@page(Permission.INBOUND_TRIAGE)
def file(email_id: int) -> Response:
    inbound = operations.inbound_for(db.session, current_user(), email_id)
    if not DecideForm().validate_on_submit():
        abort(400)
    operations.decide_contractor_reply(
        db.session, inbound, ReplyDecision.FILE, current_user(), utcnow()
    )
    db.session.commit()
    flash(_("The e-mail is filed without change."), "success")
    return redirect(url_for(".index", tab="replies"))


def _count(counts: dict[InboundStatus, int], statuses: tuple[InboundStatus, ...]) -> int:
    return sum(counts.get(status, 0) for status in statuses)


def _tab_of(inbound: InboundEmail, default: str) -> str:
    return next((name for name, s in TABS.items() if inbound.status in s), default)


def _local(value: datetime | None) -> datetime | None:
    """A time typed on the screen is the landlord's local time."""
    return value.replace(tzinfo=settings().tz) if value is not None else None


def _register_choices(form: RegisterForm, inbound: InboundEmail) -> list[Dwelling]:
    catalogue = catalogue_cache.catalogue(db.session)
    language = current_language()
    leaves = [
        (category.ancestors[-1].label(language), category.label(language), category.code)
        for category in catalogue.categories()
        if category.active and category.ancestors
    ]
    form.category.choices = [
        SelectChoice(code, label, optgroup=domain) for domain, label, code in sorted(leaves)
    ]
    dwellings = operations.sender_dwellings(db.session, inbound, local_today())
    form.dwelling_id.choices = [SelectChoice(d.id, d.code) for d in dwellings]
    return dwellings


def _dwelling_id(form: RegisterForm) -> int | None:
    code = (form.dwelling_code.data or "").strip().upper()
    found = db.session.scalar(db.select(Dwelling.id).where(Dwelling.code == code)) if code else None
    if found is None:
        form.dwelling_code.errors = [_("No dwelling has this code.")]
    return found


def _email_page(
    inbound: InboundEmail,
    *,
    attach_form: AttachForm | None = None,
    register_form: RegisterForm | None = None,
    correct_form: CorrectForm | None = None,
    dwellings: list[Dwelling] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    if register_form is None:
        register_form = RegisterForm(formdata=None)
        dwellings = _register_choices(register_form, inbound)
        register_form.description.data = (inbound.new_text or "").strip() or inbound.subject
    if correct_form is None:
        correct_form = CorrectForm(formdata=None)
        reading = inbound.reading or {}
        if reading.get("kind") in ("acknowledged", "scheduled", "done"):
            correct_form.kind.data = reading["kind"]
    return (
        render_template(
            "inbound/email.html",
            email=inbound,
            attach_form=attach_form or AttachForm(formdata=None),
            register_form=register_form,
            correct_form=correct_form,
            decide_form=DecideForm(formdata=None),
            dwellings=dwellings or [],
            confirmable=operations.reading_as_update(inbound),
            may_register=can(Permission.CLAIMS_CREATE),
            tab=_tab_of(inbound, "file"),
            visit_of=operations.reading_visit,
        ),
        status,
    )
