"""The administration screens: thin views over the domains' operations (``accounts``,
``claims``, ``housing``); each form posts, the operation checks and writes, the view
redirects with a flash, or shows the refused field with 422."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from grc.accounts import operations as accounts
from grc.administration.forms import (
    CLOCK,
    AgencyForm,
    CategoryForm,
    RatingSettingsForm,
    RoutingRuleForm,
    SlaPolicyForm,
    UnitForm,
    UserEditForm,
    UserForm,
    choice,
)
from grc.auth import Permission
from grc.claims import operations as claims
from grc.claims.models import Category, Clock, Priority, RoutingRule, SlaPolicy, TreatmentUnit
from grc.db import utcnow
from grc.errors import Conflict, InvalidInput, NotFound
from grc.extensions import db
from grc.housing import operations as housing
from grc.housing.models import Agency, Residence, Territory
from grc.people.models import Role, User
from grc.ratings import operations as ratings
from grc.web import current_language
from grc.web.pages import NavItem, add_to_navigation, page, page_blueprint

blp = page_blueprint("administration", __name__, url_prefix="/admin")
ADMIN = Permission.CATALOGUE_WRITE
add_to_navigation(NavItem("administration.index", _l("Administration"), ADMIN))

USERS_PER_PAGE = 50
# Where ``invite_user`` puts the secret in the link.
LINK_SLOT = "{token}"
# The screens built elsewhere that the home page links to when they are there.
OTHER_SECTIONS = (
    ("contracts_admin.contractors", _l("Contractors")),
    ("contracts_admin.contracts", _l("Contracts")),
    ("administration.rating_settings", _l("Supplier rating weights")),
)

# What each field an operation refuses means, in the screen's words (the operations
# speak English to the API's clients).
REFUSALS: dict[str, LazyString] = {
    "email": _l("A user with this e-mail address exists already."),
    "unit_id": _l("Choose the treatment unit of this user."),
    "code": _l("This code is used already."),
    "kind": _l("This agency has a unit of this kind already."),
    "agency_id": _l("Choose an agency from the list."),
    "territory_id": _l("Choose a territory from the list."),
    "on_call_phone": _l("Give a mobile number (06 or 07): the on-call alert is a text message."),
    "parent": _l("Choose a domain from the list."),
    "sla_policy": _l("Choose a policy from the list."),
    "response_hours": _l("At least 1 hour."),
    "resolution_hours": _l("Cannot be shorter than the response time."),
    "category": _l("Choose a category from the list."),
    "scope": _l("Choose a place from the list."),
    "residence_id": _l("Choose a place from the list."),
}
# Where the routing form shows the refusal of a scope.
SCOPE_FIELDS = {"residence_id": "scope", "agency_id": "scope", "territory_id": "scope"}


def _refused(form: FlaskForm, error: InvalidInput, aliases: dict[str, str] | None = None) -> None:
    """The refused fields shown on ``form``; nothing of the request is kept."""
    db.session.rollback()
    for name in (error.errors or {}).get("json", {}):
        target = getattr(form, (aliases or {}).get(name, name), None)
        message = REFUSALS.get(name, _l("This value is not accepted."))
        if target is not None:
            target.errors = [message]
        else:
            form.form_errors.append(message)


def _get(model: type[Any], ident: int) -> Any:
    found = db.session.get(model, ident)
    if found is None:
        raise NotFound(f"No {model.__name__} {ident}.")
    return found


def _render(template: str, status: int | None = None, **context: Any) -> Any:
    form = context.get("form")
    if status is None:
        status = 422 if form is not None and (form.errors or form.form_errors) else 200
    return render_template(f"administration/{template}", **context), status


@blp.get("")
@page(ADMIN)
def index() -> Any:
    others = [
        (endpoint, label)
        for endpoint, label in OTHER_SECTIONS
        if endpoint in current_app.view_functions
    ]
    return _render("index.html", others=others)


# --- users ---------------------------------------------------------------------------------


def _unit_choices() -> list[SelectChoice]:
    units = db.session.execute(
        sa.select(TreatmentUnit.id, TreatmentUnit.code, TreatmentUnit.name).order_by(
            TreatmentUnit.code
        )
    ).all()
    return [
        choice("", _("— none —")),
        *(choice(unit.id, f"{unit.name} ({unit.code})") for unit in units),
    ]


@blp.get("/users")
@page(ADMIN)
def users() -> Any:
    page_number = max(request.args.get("page", 1, type=int) or 1, 1)
    total = db.session.execute(sa.select(sa.func.count(User.id))).scalar_one()
    listed = db.session.execute(
        sa.select(User)
        .options(joinedload(User.unit))
        .order_by(User.active.desc(), User.name, User.id)
        .limit(USERS_PER_PAGE)
        .offset((page_number - 1) * USERS_PER_PAGE)
    ).scalars()
    pages = max((total + USERS_PER_PAGE - 1) // USERS_PER_PAGE, 1)
    return _render("users.html", users=list(listed), page_number=page_number, pages=pages)


def _user_fields(form: UserForm, email: str) -> accounts.UserFields:
    return accounts.UserFields(
        email=email, name=form.name.data, role=Role(form.role.data), unit_id=form.unit_id.data
    )


@blp.route("/users/new", methods=["GET", "POST"])
@page(ADMIN)
def new_user() -> Any:
    form = UserForm()
    form.unit_id.choices = _unit_choices()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(db.session, _user_fields(form, form.email.data))
        except InvalidInput as error:
            _refused(form, error)
        else:
            db.session.commit()
            flash(
                _(
                    "User %(name)s created. Send them an invitation to choose a password.",
                    name=user.name,
                ),
                "success",
            )
            return redirect(url_for(".edit_user", user_id=user.id))
    return _render("user_form.html", form=form, user=None)


@blp.route("/users/<int(max=2147483647):user_id>", methods=["GET", "POST"])
@page(ADMIN)
def edit_user(user_id: int) -> Any:
    user = _get(User, user_id)
    form = UserEditForm(obj=user if request.method == "GET" else None)
    form.unit_id.choices = _unit_choices()
    if form.validate_on_submit():
        try:
            accounts.change_user(db.session, user, _user_fields(form, user.email))
        except InvalidInput as error:
            _refused(form, error)
        else:
            db.session.commit()
            flash(_("Changes saved."), "success")
            return redirect(url_for(".edit_user", user_id=user.id))
    return _render("user_form.html", form=form, user=user)


def invitation_link() -> str:
    """The invitation page's address with ``{token}`` where the secret goes (``url_for``
    quotes the braces; they are put back)."""
    link = url_for("accounts.accept_invitation", token=LINK_SLOT, _external=True)
    link = link.replace(quote(LINK_SLOT), LINK_SLOT)
    if LINK_SLOT not in link:
        raise RuntimeError("the invitation route no longer takes the secret in its path")
    return link


@blp.post("/users/<int(max=2147483647):user_id>/invitation")
@page(ADMIN)
def invite(user_id: int) -> Any:
    user = _get(User, user_id)
    try:
        accounts.invite_user(
            db.session, user, g.user, invitation_link(), utcnow(), current_language()
        )
    except Conflict:
        db.session.rollback()
        return _refused_action(user, _("Reactivate this user before inviting them."))
    db.session.commit()
    flash(_("Invitation sent to %(email)s.", email=user.email), "success")
    return redirect(url_for(".edit_user", user_id=user.id))


def _refused_action(user: User, message: str) -> Any:
    form = UserEditForm(obj=user)
    form.unit_id.choices = _unit_choices()
    return _render("user_form.html", 409, form=form, user=user, refusal=message)


@blp.post("/users/<int(max=2147483647):user_id>/deactivate")
@page(ADMIN)
def deactivate_user(user_id: int) -> Any:
    user = _get(User, user_id)
    try:
        accounts.deactivate_user(db.session, user, g.user, utcnow())
    except Conflict:
        db.session.rollback()
        return _refused_action(user, _("You cannot deactivate your own account."))
    db.session.commit()
    flash(
        _(
            "%(name)s can no longer sign in; their sessions and API tokens are ended.",
            name=user.name,
        ),
        "success",
    )
    return redirect(url_for(".edit_user", user_id=user.id))


@blp.post("/users/<int(max=2147483647):user_id>/reactivate")
@page(ADMIN)
def reactivate_user(user_id: int) -> Any:
    user = _get(User, user_id)
    accounts.reactivate_user(db.session, user)
    db.session.commit()
    flash(_("%(name)s can sign in again.", name=user.name), "success")
    return redirect(url_for(".edit_user", user_id=user.id))


# --- treatment units -----------------------------------------------------------------------


def _agency_choices(empty: str | None) -> list[SelectChoice]:
    agencies = db.session.execute(sa.select(Agency.id, Agency.name).order_by(Agency.name)).all()
    listed = [choice(agency.id, agency.name) for agency in agencies]
    return [choice("", empty), *listed] if empty is not None else listed


@blp.get("/units")
@page(ADMIN)
def units() -> Any:
    listed = db.session.execute(
        sa.select(TreatmentUnit)
        .options(joinedload(TreatmentUnit.agency))
        .order_by(TreatmentUnit.agency_id.is_(None), TreatmentUnit.agency_id, TreatmentUnit.code)
    ).scalars()
    return _render("units.html", units=list(listed))


def _unit_fields(form: UnitForm) -> claims.UnitFields:
    return claims.UnitFields(
        code=form.code.data,
        name=form.name.data,
        kind=form.kind.data,
        agency_id=form.agency_id.data,
        email=form.email.data or None,
    )


@blp.route("/units/new", methods=["GET", "POST"])
@blp.route("/units/<int(max=2147483647):unit_id>", methods=["GET", "POST"])
@page(ADMIN)
def edit_unit(unit_id: int | None = None) -> Any:
    unit = _get(TreatmentUnit, unit_id) if unit_id is not None else None
    form = UnitForm(obj=unit if request.method == "GET" else None)
    form.agency_id.choices = _agency_choices(_("Company-wide (no agency)"))
    if form.validate_on_submit():
        try:
            if unit is None:
                unit = claims.create_unit(db.session, _unit_fields(form))
            else:
                claims.update_unit(db.session, unit, _unit_fields(form))
        except InvalidInput as error:
            _refused(form, error)
        else:
            db.session.commit()
            flash(_("Unit %(code)s saved.", code=unit.code), "success")
            return redirect(url_for(".units"))
    return _render("unit_form.html", form=form, unit=unit)


# --- agencies ------------------------------------------------------------------------------


@blp.get("/agencies")
@page(ADMIN)
def agencies() -> Any:
    listed = db.session.execute(
        sa.select(Agency).options(joinedload(Agency.territory)).order_by(Agency.name)
    ).scalars()
    return _render("agencies.html", agencies=list(listed))


@blp.route("/agencies/new", methods=["GET", "POST"])
@blp.route("/agencies/<int(max=2147483647):agency_id>", methods=["GET", "POST"])
@page(ADMIN)
def edit_agency(agency_id: int | None = None) -> Any:
    agency = _get(Agency, agency_id) if agency_id is not None else None
    form = AgencyForm(obj=agency if request.method == "GET" else None)
    territories = db.session.execute(
        sa.select(Territory.id, Territory.name).order_by(Territory.name)
    ).all()
    form.territory_id.choices = [choice(territory.id, territory.name) for territory in territories]
    if agency is not None:
        # The code and territory name the agency in the stock the ERP imports; they stay.
        form.code.data = agency.code
        form.territory_id.data = agency.territory_id
    if form.validate_on_submit():
        try:
            if agency is None:
                agency = housing.create_agency(
                    db.session,
                    housing.NewAgency(
                        code=form.code.data,
                        name=form.name.data,
                        territory_id=form.territory_id.data or 0,
                        on_call_name=form.on_call_name.data or None,
                        on_call_phone=form.on_call_phone.data or None,
                    ),
                )
            else:
                housing.update_agency(
                    db.session,
                    agency,
                    {
                        "name": form.name.data.strip(),
                        "on_call_name": form.on_call_name.data or None,
                        "on_call_phone": form.on_call_phone.data or None,
                    },
                )
        except InvalidInput as error:
            _refused(form, error)
        else:
            db.session.commit()
            flash(_("Agency %(name)s saved.", name=agency.name), "success")
            return redirect(url_for(".agencies"))
    return _render("agency_form.html", form=form, agency=agency)


# --- categories and SLA policies -----------------------------------------------------------


@blp.get("/categories")
@page(ADMIN)
def categories() -> Any:
    listed = list(
        db.session.execute(
            sa.select(Category).options(joinedload(Category.sla_policy)).order_by(Category.code)
        ).scalars()
    )
    domains = [category for category in listed if category.parent_id is None]
    children: dict[int, list[Category]] = {}
    for category in listed:
        if category.parent_id is not None:
            children.setdefault(category.parent_id, []).append(category)
    policies = db.session.execute(
        sa.select(SlaPolicy).order_by(SlaPolicy.response_hours, SlaPolicy.code)
    ).scalars()
    return _render(
        "categories.html",
        domains=domains,
        children=children,
        policies=list(policies),
        clocks=CLOCK,
    )


def _category_form(category: Category | None) -> CategoryForm:
    form = CategoryForm(obj=category if request.method == "GET" else None)
    if category is not None and request.method == "GET":
        form.parent.data = category.parent.code if category.parent else ""
        form.sla_policy.data = category.sla_policy.code if category.sla_policy else ""
        form.default_priority.data = category.default_priority.value
    domains = db.session.execute(
        sa.select(Category.code, Category.label_fr, Category.label_en)
        .where(Category.parent_id.is_(None))
        .order_by(Category.code)
    ).all()
    english = current_language() == "en"
    form.parent.choices = [
        choice("", _("None: this is a domain")),
        *(
            choice(row.code, f"{row.label_en if english else row.label_fr} ({row.code})")
            for row in domains
        ),
    ]
    policies = db.session.execute(
        sa.select(SlaPolicy.code, SlaPolicy.label_fr, SlaPolicy.label_en).order_by(SlaPolicy.code)
    ).all()
    form.sla_policy.choices = [
        choice("", _("The domain's policy")),
        *(
            choice(row.code, f"{row.label_en if english else row.label_fr} ({row.code})")
            for row in policies
        ),
    ]
    return form


@blp.route("/categories/new", methods=["GET", "POST"])
@page(ADMIN)
def new_category() -> Any:
    form = _category_form(None)
    if form.validate_on_submit():
        try:
            category = claims.create_category(
                db.session,
                claims.CategoryFields(
                    code=form.code.data,
                    parent=form.parent.data or None,
                    label_fr=form.label_fr.data,
                    label_en=form.label_en.data,
                    default_priority=Priority(form.default_priority.data),
                    sla_policy=form.sla_policy.data or None,
                    technical=form.technical.data,
                ),
            )
        except InvalidInput as error:
            _refused(form, error)
        else:
            db.session.commit()
            flash(_("Category %(code)s created.", code=category.code), "success")
            return redirect(url_for(".categories"))
    return _render("category_form.html", form=form, category=None)


@blp.route("/categories/<string:code>", methods=["GET", "POST"])
@page(ADMIN)
def edit_category(code: str) -> Any:
    category = db.session.execute(
        sa.select(Category)
        .options(joinedload(Category.parent))
        .where(Category.code == code.upper())
    ).scalar_one_or_none()
    if category is None:
        raise NotFound(f"No category '{code}'.")
    form = _category_form(category)
    # The code and the place in the tree name the category in reports and the catalogue file.
    form.code.data = category.code
    form.parent.data = category.parent.code if category.parent else ""
    if form.validate_on_submit():
        try:
            claims.update_category(
                db.session,
                category,
                claims.CategoryChange(
                    label_fr=form.label_fr.data.strip(),
                    label_en=form.label_en.data.strip(),
                    default_priority=Priority(form.default_priority.data),
                    sla_policy=form.sla_policy.data or claims.DOMAIN_POLICY,
                    technical=form.technical.data,
                    active=form.active.data,
                ),
            )
        except InvalidInput as error:
            _refused(form, error)
        else:
            db.session.commit()
            flash(_("Category %(code)s saved.", code=category.code), "success")
            return redirect(url_for(".categories"))
    return _render("category_form.html", form=form, category=category)


@blp.route("/sla-policies/new", methods=["GET", "POST"])
@blp.route("/sla-policies/<int(max=2147483647):policy_id>", methods=["GET", "POST"])
@page(ADMIN)
def edit_policy(policy_id: int | None = None) -> Any:
    policy = _get(SlaPolicy, policy_id) if policy_id is not None else None
    form = SlaPolicyForm(obj=policy if request.method == "GET" else None)
    if policy is not None:
        form.code.data = policy.code
    if form.validate_on_submit():
        fields = claims.SlaPolicyFields(
            code=form.code.data,
            label_fr=form.label_fr.data,
            label_en=form.label_en.data,
            response_hours=form.response_hours.data,
            resolution_hours=form.resolution_hours.data,
            clock=Clock(form.clock.data),
        )
        try:
            if policy is None:
                policy = claims.create_sla_policy(db.session, fields)
            else:
                claims.update_sla_policy(db.session, policy, fields)
        except InvalidInput as error:
            _refused(form, error)
        else:
            db.session.commit()
            flash(_("SLA policy %(code)s saved.", code=policy.code), "success")
            return redirect(url_for(".categories") + "#policies")
    return _render("policy_form.html", form=form, policy=policy)


# --- routing rules -------------------------------------------------------------------------

SCOPE_ORDER = ("residence", "agency", "territory")


def _scope_choices() -> list[SelectChoice]:
    """Every place a rule may cover, grouped from the widest to the narrowest."""

    def options(kind: str, group: str, model: Any) -> list[SelectChoice]:
        rows = db.session.execute(sa.select(model.id, model.code, model.name).order_by(model.name))
        return [choice(f"{kind}:{row.id}", f"{row.name} ({row.code})", group) for row in rows]

    return [
        choice("", _("Everywhere (any residence)")),
        *options("territory", _("Territories"), Territory),
        *options("agency", _("Agencies"), Agency),
        *options("residence", _("Residences"), Residence),
    ]


def _rule_form() -> RoutingRuleForm:
    form = RoutingRuleForm()
    english = current_language() == "en"
    rows = db.session.execute(
        sa.select(Category.code, Category.label_fr, Category.label_en, Category.parent_id)
        .where(Category.active)
        .order_by(Category.code)
    ).all()
    form.category.choices = [
        choice("", _("Choose a category")),
        *(
            choice(
                row.code,
                f"{row.code} — {row.label_en if english else row.label_fr}"
                + ("" if row.parent_id else " " + _("(whole domain)")),
            )
            for row in rows
        ),
    ]
    form.unit_id.choices = [choice("", _("Choose a unit")), *_unit_choices()[1:]]
    form.scope.choices = _scope_choices()
    return form


def _scope_of(value: str | None) -> dict[str, int]:
    kind, _separator, ident = (value or "").partition(":")
    if kind in SCOPE_ORDER and ident.isdigit():
        return {f"{kind}_id": int(ident)}
    return {}


def _listed_rules() -> list[RoutingRule]:
    rules = db.session.execute(
        sa.select(RoutingRule).options(
            joinedload(RoutingRule.category),
            joinedload(RoutingRule.unit),
            joinedload(RoutingRule.residence),
            joinedload(RoutingRule.agency),
            joinedload(RoutingRule.territory),
        )
    ).scalars()

    def precedence(rule: RoutingRule) -> tuple[int, int, str]:
        # The order routing reads them in: the most specific place, then category.
        place = 0 if rule.residence_id else 1 if rule.agency_id else 2 if rule.territory_id else 3
        return (place, 0 if rule.category.parent_id else 1, rule.category.code)

    return sorted(rules, key=precedence)


@blp.route("/routing-rules", methods=["GET", "POST"])
@page(ADMIN)
def rules() -> Any:
    form = _rule_form()
    if form.validate_on_submit():
        if form.unit_id.data is None:
            form.unit_id.errors = [REFUSALS["unit_id"]]
        else:
            try:
                claims.create_routing_rule(
                    db.session,
                    claims.NewRoutingRule(
                        category=form.category.data,
                        unit_id=form.unit_id.data,
                        **_scope_of(form.scope.data),
                    ),
                )
            except InvalidInput as error:
                _refused(form, error, SCOPE_FIELDS)
            else:
                db.session.commit()
                flash(
                    _("Routing rule added: the next claims of this category follow it."), "success"
                )
                return redirect(url_for(".rules"))
    return _render("rules.html", form=form, rules=_listed_rules())


@blp.post("/routing-rules/<int(max=2147483647):rule_id>/delete")
@page(ADMIN)
def delete_rule(rule_id: int) -> Response:
    rule = _get(RoutingRule, rule_id)
    claims.delete_routing_rule(db.session, rule)
    db.session.commit()
    flash(_("Routing rule removed; claims already routed keep their unit."), "success")
    return redirect(url_for(".rules"))


# --- supplier ratings ----------------------------------------------------------------------

WEIGHTS = ("satisfaction", "acknowledged_on_time", "completed_on_time", "not_reopened")
THRESHOLDS = ("a", "b", "c", "d")


@blp.route("/ratings", methods=["GET", "POST"])
@page(Permission.RATINGS_ADMIN)
def rating_settings() -> Any:
    """The weights the next computation of the supplier ratings uses; the periods already
    computed keep theirs."""
    form = RatingSettingsForm()
    group_errors: dict[str, LazyString] = {}
    if request.method == "GET":
        current = ratings.current_settings(db.session)
        for name in WEIGHTS:
            getattr(form, name).data = getattr(current.weights, name)
        form.min_answers.data = current.settings.min_answers
        for name in THRESHOLDS:
            value = getattr(current.settings.thresholds, name)
            getattr(form, f"threshold_{name}").data = int(value) if value == int(value) else value
    elif form.validate_on_submit():
        try:
            ratings.set_settings(
                db.session,
                weights={name: getattr(form, name).data for name in WEIGHTS},
                min_answers=form.min_answers.data,
                thresholds={name: getattr(form, f"threshold_{name}").data for name in THRESHOLDS},
                user=g.user,
            )
        except InvalidInput as error:
            db.session.rollback()
            refused = (error.errors or {}).get("json", {})
            if "weights" in refused:
                group_errors["weights"] = _l("The weights must add up to 100.")
            if "thresholds" in refused:
                group_errors["thresholds"] = _l("Each grade must start lower than the one before.")
            if "min_answers" in refused:
                form.min_answers.errors = [_l("This value is not accepted.")]
        else:
            db.session.commit()
            flash(_("Rating weights saved: the next computation uses them."), "success")
            return redirect(url_for(".rating_settings"))
    status = 422 if form.errors or group_errors else 200
    return render_template(
        "administration/rating_settings.html",
        form=form,
        group_errors=group_errors,
        weights=WEIGHTS,
        thresholds=THRESHOLDS,
    ), status
