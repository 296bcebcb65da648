"""The role's home page and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from grc.web import LOCALES
from grc.web.pages import home_endpoint, page, page_blueprint

blp = page_blueprint("web", __name__)


@blp.get("/")
@page()
def home() -> Response | str:
    endpoint = home_endpoint(current_app, current_user.role)
    if endpoint is not None:
        return redirect(url_for(endpoint))
    return render_template("web/home.html")


@blp.get("/language/<code>")
def switch_language(code: str) -> Response:
    """Only a preference kept in the session: a link, so that it works with no form."""
    if code in LOCALES:
        session["lang"] = code
    return redirect(local_target(request.args.get("next")) or url_for("web.home"))


def local_target(target: str | None) -> str | None:
    """``target`` if it is a path on this site (never another site: no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target
