"""The development outbox as a page for staff: what would have been sent, newest first.

The page itself holds nothing: it asks for the user's API token and reads
``GET /api/v1/dev-outbox`` with it (managers and admins), so it has the API's access rules
and, with no cookie involved, nothing a forged request could borrow. It speaks the language
``grc.web.application.select_locale`` chooses; with no one signed in, its switch is a
``?lang=`` link.
"""

from __future__ import annotations

import secrets

from flask import Blueprint, Response, make_response, render_template
from flask_babel import gettext as _

from grc.web import current_language

blp = Blueprint("dev_outbox_page", __name__, url_prefix="/admin", template_folder="templates")


@blp.get("/dev-outbox")
def dev_outbox_page() -> Response:
    nonce = secrets.token_urlsafe(16)
    response = make_response(
        render_template(
            "messaging/dev_outbox.html",
            # What the page's script writes itself, once the list is read.
            script_words={
                "email": _("E-mail"),
                "count": _("message(s), newest first"),
                "refused": _("Token refused: a manager's or administrator's is needed."),
                "failed": _("The list could not be read"),
            },
            script_locale="fr-FR" if current_language() == "fr" else "en-GB",
            api_url="/api/v1/dev-outbox",
            nonce=nonce,
        )
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; "
        "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
    )
    return response
