"""Sign-in, sign-out, password change and the invitation link: thin views over
``accounts.operations``."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from grc.accounts import operations
from grc.accounts.forms import ChangePasswordForm, ChoosePasswordForm, SignInForm
from grc.clock import settings
from grc.db import utcnow
from grc.errors import InvalidInput, NotFound
from grc.extensions import db
from grc.people.models import User
from grc.web.extensions import limiter
from grc.web.pages import page, page_blueprint
from grc.web.views import local_target

blp = page_blueprint("accounts", __name__)


def _sign_in_failed(response: Response) -> bool:
    """Only failed sign-ins count against the limits (a marker the view leaves)."""
    return bool(g.get("sign_in_failed"))


def _account_key() -> str:
    # The counter is named by a digest: no address in clear in Redis.
    email = (request.form.get("email") or "").strip().lower()
    return "account:" + hashlib.sha256(email.encode()).hexdigest()


def _per_account() -> str:
    return f"{settings().sign_in_failures_per_account} per 15 minutes"


def _per_address() -> str:
    return f"{settings().sign_in_failures_per_address} per 15 minutes"


def _start_session(user: User) -> None:
    language = session.get("lang")
    session.clear()  # nothing of an earlier session carries over
    if language:
        session["lang"] = language
    session.permanent = True
    login_user(user)


@blp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(
    _per_account,
    key_func=_account_key,
    deduct_when=_sign_in_failed,
    methods=["POST"],
    scope="sign-in-account",
)
@limiter.limit(
    _per_address,
    key_func=get_remote_address,
    deduct_when=_sign_in_failed,
    methods=["POST"],
    scope="sign-in-address",
)
def sign_in() -> Any:
    form = SignInForm()
    target = local_target(request.args.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(target or url_for("web.home"))
    if form.validate_on_submit():
        user = operations.authenticate(db.session, form.email.data, form.password.data)
        if user is not None:
            db.session.commit()
            _start_session(user)
            return redirect(target or url_for("web.home"))
        g.sign_in_failed = True
        form.password.errors = [_("Unknown e-mail address or wrong password.")]
        return render_template("accounts/sign_in.html", form=form), 401
    return render_template("accounts/sign_in.html", form=form)


@blp.post("/sign-out")
@page()
def sign_out() -> Response:
    operations.end_sessions(db.session, current_user._get_current_object())
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You are signed out."), "success")
    return redirect(url_for("accounts.sign_in"))


@blp.route("/account/password", methods=["GET", "POST"])
@page()
def change_password() -> Any:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            operations.change_password(
                db.session, user, form.current_password.data, form.password.data
            )
        except InvalidInput:
            db.session.rollback()
            form.current_password.errors = [_("Wrong password.")]
            return render_template("accounts/password.html", form=form), 422
        db.session.commit()
        _start_session(user)  # this session goes on with the new key; the others end
        flash(_("Your password is changed. Your other sessions are closed."), "success")
        return redirect(url_for("web.home"))
    status = 422 if form.errors else 200
    return render_template("accounts/password.html", form=form), status


@blp.route("/invitation/<token>", methods=["GET", "POST"])
@limiter.limit("30 per 15 minutes", methods=["POST"], scope="invitation")
def accept_invitation(token: str) -> Any:
    now = utcnow()
    try:
        invitation = operations.invitation_for(db.session, token, now)
    except NotFound:
        return render_template("accounts/invitation_invalid.html"), 404
    form = ChoosePasswordForm()
    if form.validate_on_submit():
        try:
            user = operations.accept_invitation(db.session, token, form.password.data, now)
        except NotFound:
            db.session.rollback()
            return render_template("accounts/invitation_invalid.html"), 404
        db.session.commit()
        _start_session(user)
        flash(_("Your password is saved. Welcome!"), "success")
        return redirect(url_for("web.home"))
    status = 422 if form.errors else 200
    return render_template("accounts/invitation.html", form=form, user=invitation.user), status
