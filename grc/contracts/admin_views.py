"""Administration of contractors and contracts: thin views over ``grc.contracts.operations``
(administrators only: ``Permission.CATALOGUE_WRITE``)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from grc.auth import Permission
from grc.clock import local_today
from grc.contracts import operations
from grc.contracts.admin_forms import (
    ContractFilterForm,
    ContractForm,
    ContractorForm,
    RetireForm,
    field_error,
)
from grc.contracts.kinds import kind_label
from grc.contracts.models import CONTRACT_PRIORITIES, Contract, Contractor
from grc.errors import InvalidInput
from grc.extensions import db
from grc.web.pages import NavItem, add_to_navigation, page, page_blueprint

blp = page_blueprint("contracts_admin", __name__, url_prefix="/admin")

add_to_navigation(
    NavItem("contracts_admin.contracts", lazy_gettext("Contracts"), Permission.CATALOGUE_WRITE)
)


# Beyond any real list: a page number past it is the last one's neighbour, never an offset
# the database refuses.
LAST_PAGE = 100_000


def _page_number() -> int:
    return min(max(request.args.get("page", 1, type=int) or 1, 1), LAST_PAGE)


def _show_refusal(form: Any, error: InvalidInput) -> None:
    """The operation's refusal on the fields it names, in the screen's words; nothing of the
    request is kept."""
    db.session.rollback()
    for name in (error.errors or {}).get("json", {}):
        if name in form:
            form[name].errors = [field_error(name)]


# --- contractors ----------------------------------------------------------------------------


@blp.get("/contractors")
@page(Permission.CATALOGUE_WRITE)
def contractors() -> str:
    page_number = _page_number()
    rows, total = operations.contractors_page(db.session, page_number)
    return render_template(
        "contracts/contractors.html",
        rows=rows,
        total=total,
        page_number=page_number,
        page_size=operations.PAGE_SIZE,
        retire_form=RetireForm(),
    )


@blp.route("/contractors/new", methods=["GET", "POST"])
@page(Permission.CATALOGUE_WRITE)
def new_contractor() -> Any:
    form = ContractorForm()
    if form.validate_on_submit():
        try:
            contractor = operations.create_contractor(db.session, _contractor_details(form))
        except InvalidInput as error:
            _show_refusal(form, error)
            return render_template("contracts/contractor_form.html", form=form), 422
        db.session.commit()
        flash(_("Contractor %(name)s saved.", name=contractor.name), "success")
        return redirect(url_for(".contractors"))
    status = 422 if form.errors else 200
    return render_template("contracts/contractor_form.html", form=form), status


@blp.route("/contractors/<int(max=2147483647):contractor_id>", methods=["GET", "POST"])
@page(Permission.CATALOGUE_WRITE)
def edit_contractor(contractor_id: int) -> Any:
    contractor = db.session.get(Contractor, contractor_id) or abort(404)
    form = ContractorForm(obj=contractor)
    if form.validate_on_submit():
        try:
            operations.update_contractor(db.session, contractor, _contractor_details(form))
        except InvalidInput as error:
            _show_refusal(form, error)
            return _contractor_page(form, contractor), 422
        db.session.commit()
        flash(_("Contractor %(name)s saved.", name=contractor.name), "success")
        return redirect(url_for(".contractors"))
    return _contractor_page(form, contractor), 422 if form.errors else 200


@blp.post("/contractors/<int(max=2147483647):contractor_id>/retire")
@page(Permission.CATALOGUE_WRITE)
def retire_contractor(contractor_id: int) -> Response:
    contractor = db.session.get(Contractor, contractor_id) or abort(404)
    if not RetireForm().validate_on_submit():
        abort(400)
    # A refusal (retired already, a contract starting later) is a 409 page, nothing written.
    operations.retire_contractor(db.session, contractor, local_today())
    db.session.commit()
    flash(
        _("Contractor %(name)s retired; its contracts end today.", name=contractor.name),
        "success",
    )
    return redirect(url_for(".contractors"))


def _contractor_details(form: ContractorForm) -> operations.ContractorDetails:
    return operations.ContractorDetails(
        code=form.code.data or "",
        name=form.name.data or "",
        email=form.email.data or "",
        phone=form.phone.data,
    )


def _contractor_page(form: ContractorForm, contractor: Contractor) -> str:
    return render_template(
        "contracts/contractor_form.html",
        form=form,
        contractor=contractor,
        retire_form=RetireForm(),
    )


# --- contracts ------------------------------------------------------------------------------


@blp.get("/contracts")
@page(Permission.CATALOGUE_WRITE)
def contracts() -> Any:
    form = ContractFilterForm(request.args)
    all_contractors = _contractors()
    form.contractor.choices = [SelectChoice("", _("All contractors"))] + [
        SelectChoice(str(c.id), c.name) for c in all_contractors
    ]
    groups = operations.residences_by_agency(db.session)
    form.residence.choices = [SelectChoice("", _("All residences"))] + [
        SelectChoice(str(r.id), r.name, optgroup=agency)
        for agency, residences in groups
        for r in residences
    ]
    if not form.validate():
        return render_template("contracts/contracts.html", form=form, contracts=[], total=0), 422
    filters = operations.ContractFilters(
        q=(form.q.data or "").strip(),
        contractor_id=int(form.contractor.data) if form.contractor.data else None,
        residence_id=int(form.residence.data) if form.residence.data else None,
        state=form.state.data or "",
    )
    today = local_today()
    page_number = _page_number()
    found, total = operations.contracts_page(db.session, filters, today, page_number)
    return render_template(
        "contracts/contracts.html",
        form=form,
        contracts=found,
        total=total,
        today=today,
        page_number=page_number,
        page_size=operations.PAGE_SIZE,
    )


@blp.route("/contracts/new", methods=["GET", "POST"])
@page(Permission.CATALOGUE_WRITE)
def new_contract() -> Any:
    form = ContractForm()
    if request.method == "GET":
        for priority in CONTRACT_PRIORITIES:
            acknowledge, complete = operations.contract_default(priority)
            form[f"{priority}_acknowledge_hours"].data = acknowledge
            form[f"{priority}_complete_hours"].data = complete
        form.contractor_id.data = request.args.get("contractor", type=int)
    groups = _contract_choices(form, None)
    if form.validate_on_submit():
        try:
            contract = operations.create_contract(db.session, _terms(form))
        except InvalidInput as error:
            _show_refusal(form, error)
            return _contract_page(form, None, groups), 422
        db.session.commit()
        flash(_("Contract %(reference)s saved.", reference=contract.reference), "success")
        return redirect(url_for(".contracts"))
    return _contract_page(form, None, groups), 422 if form.errors else 200


@blp.route("/contracts/<int(max=2147483647):contract_id>", methods=["GET", "POST"])
@page(Permission.CATALOGUE_WRITE)
def edit_contract(contract_id: int) -> Any:
    contract = db.session.get(Contract, contract_id) or abort(404)
    form = ContractForm(obj=contract)
    if request.method == "GET":
        form.residence_ids.data = [r.id for r in contract.residences]
        form.category_ids.data = [c.id for c in contract.categories]
    groups = _contract_choices(form, contract)
    if form.validate_on_submit():
        try:
            operations.update_contract(db.session, contract, _terms(form))
        except InvalidInput as error:
            _show_refusal(form, error)
            return _contract_page(form, contract, groups), 422
        db.session.commit()
        flash(_("Contract %(reference)s saved.", reference=contract.reference), "success")
        return redirect(url_for(".contracts"))
    return _contract_page(form, contract, groups), 422 if form.errors else 200


def _contractors() -> list[Contractor]:
    return list(db.session.scalars(db.select(Contractor).order_by(Contractor.name)))


def _contract_choices(form: ContractForm, contract: Contract | None) -> dict[str, Any]:
    # A retired contractor stays offered only on the contract it already holds.
    form.contractor_id.choices = [
        SelectChoice(c.id, c.name)
        for c in _contractors()
        if c.retired_on is None or (contract is not None and c.id == contract.contractor_id)
    ]
    labelled = [(kind, kind_label(kind)) for kind in operations.contract_kinds(db.session)]
    form.kind.choices = [
        SelectChoice(kind, label) for kind, label in sorted(labelled, key=lambda k: k[1].lower())
    ]
    residence_groups = operations.residences_by_agency(db.session)
    category_groups = operations.categories_by_domain(db.session)
    form.residence_ids.choices = [
        SelectChoice(r.id, r.name) for _agency, residences in residence_groups for r in residences
    ]
    form.category_ids.choices = [
        SelectChoice(c.id, c.label_fr) for _domain, leaves in category_groups for c in leaves
    ]
    return {"residence_groups": residence_groups, "category_groups": category_groups}


def _terms(form: ContractForm) -> operations.ContractTerms:
    return operations.ContractTerms(
        contractor_id=form.contractor_id.data,
        reference=form.reference.data or "",
        kind=form.kind.data or "",
        starts_on=form.starts_on.data,
        ends_on=form.ends_on.data,
        residence_ids=tuple(form.residence_ids.data or ()),
        category_ids=tuple(form.category_ids.data or ()),
        deadlines=form.deadlines(),
    )


def _contract_page(form: ContractForm, contract: Contract | None, groups: dict[str, Any]) -> str:
    return render_template(
        "contracts/contract_form.html",
        form=form,
        contract=contract,
        priorities=CONTRACT_PRIORITIES,
        **groups,
    )
