"""The development outbox as a page for staff: what would have been sent, newest first.

The page itself holds nothing: it asks for the user's API token and reads
``GET /api/v1/dev-outbox`` with it (managers and admins), so it has the API's access rules
and, with no cookie involved, nothing a forged request could borrow.
"""

from __future__ import annotations

import json
import secrets

from flask import Blueprint, Response, make_response, render_template

from grc.pages import page_language

blp = Blueprint("dev_outbox_page", __name__, url_prefix="/admin")

WORDS = {
    "fr": {
        "title": "Boîte d'envoi de développement",
        "intro": "Sans identifiants SendGrid ni Twilio, les e-mails et SMS sont gardés ici au "
        "lieu d'être envoyés. Réservé aux responsables et administrateurs.",
        "other_language": "English",
        "token": "Jeton d'API",
        "show": "Afficher",
        "when": "Envoyé le",
        "kind": "Canal",
        "to": "Destinataire",
        "message": "Message",
        "email": "E-mail",
        "count": "message(s), du plus récent au plus ancien",
        "refused": "Jeton refusé : il faut celui d'un responsable ou d'un administrateur.",
        "failed": "La liste n'a pas pu être lue",
    },
    "en": {
        "title": "Development outbox",
        "intro": "Without SendGrid or Twilio credentials, e-mails and SMS are kept here instead "
        "of being sent. For managers and administrators.",
        "other_language": "Français",
        "token": "API token",
        "show": "Show",
        "when": "Sent at",
        "kind": "Channel",
        "to": "Recipient",
        "message": "Message",
        "email": "E-mail",
        "count": "message(s), newest first",
        "refused": "Token refused: a manager's or administrator's is needed.",
        "failed": "The list could not be read",
    },
}


@blp.get("/dev-outbox")
def dev_outbox_page() -> Response:
    lang = page_language()
    nonce = secrets.token_urlsafe(16)
    response = make_response(
        render_template(
            "dev_outbox.html",
            lang=lang,
            t=WORDS[lang],
            t_json=json.dumps(WORDS[lang], ensure_ascii=False),
            locale_json=json.dumps("fr-FR" if lang == "fr" else "en-GB"),
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
