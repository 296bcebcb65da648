"""The links of a work-order e-mail, no login: a small confirmation page per one-click
action, and the page of the claim's photos.

The signed token in the address is the only credential (it names one work order and one
purpose, and expires); nothing rides on cookies, so there is no session a forged form could
borrow. GET only shows the page; the change needs the POST of its button, so a mail
scanner that follows links changes nothing.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import Blueprint, Response, make_response, render_template

from grc.claims.models import ClaimStatus
from grc.claims.photos import photo_of_claim, photo_response
from grc.clock import settings
from grc.contracts import lifecycle
from grc.contracts.models import WorkOrder, WorkOrderStatus
from grc.contracts.updates import ContractorUpdate, UpdateOutcome, apply_contractor_update
from grc.contracts.work_orders import (
    LinkAction,
    file_on_finished_order,
    read_action_token,
    record_on_claim,
)
from grc.db import utcnow
from grc.extensions import db
from grc.pages import page_language

blp = Blueprint("work_order_links", __name__, url_prefix="/wo")

WORDS = {
    "fr": {
        LinkAction.TAKE: (
            "Prise en charge",
            "Confirmez-vous prendre en charge cette intervention ?",
            "Je prends en charge",
        ),
        LinkAction.DONE: (
            "Intervention terminée",
            "Confirmez-vous que l'intervention est terminée ?",
            "L'intervention est terminée",
        ),
        "invalid_title": "Lien invalide",
        "invalid": "Ce lien n'est pas valide ou a expiré. Répondez simplement au message reçu.",
        "already": "C'est déjà enregistré. Merci.",
        "closed": "Cette demande est clôturée : rien n'a été modifié. Répondez au message si "
        "besoin.",
        "resolved": "Cette demande est déjà résolue : rien n'a été modifié.",
        "order_finished": "Cet ordre de service est annulé ou remplacé : rien n'a été "
        "modifié. Votre clic a été transmis à l'unité qui suit la demande.",
        "thanks": "Merci, c'est enregistré.",
        "photos_title": "Photos de la demande",
        "claim": "Demande",
        "contractor": "Prestataire",
        "no_photos": "Aucune photo pour le moment.",
        "open_photo": "Touchez une photo pour l'ouvrir en grand.",
        "photo_of": "Photo {n} sur {total}",
        "photo_alt": "Photo {n} : {name}",
        "other_language": "English",
    },
    "en": {
        LinkAction.TAKE: (
            "Taking the job",
            "Do you confirm you are taking this job?",
            "I am taking it",
        ),
        LinkAction.DONE: (
            "Job done",
            "Do you confirm the job is done?",
            "The job is done",
        ),
        "invalid_title": "Invalid link",
        "invalid": "This link is not valid or has expired. Simply reply to the message.",
        "already": "This is already recorded. Thank you.",
        "closed": "This claim is closed: nothing was changed. Reply to the message if needed.",
        "resolved": "This claim is already resolved: nothing was changed.",
        "order_finished": "This work order was cancelled or replaced: nothing was changed. "
        "Your click was passed on to the unit in charge of the claim.",
        "thanks": "Thank you, it is recorded.",
        "photos_title": "Photos of the claim",
        "claim": "Claim",
        "contractor": "Contractor",
        "no_photos": "No photos yet.",
        "open_photo": "Tap a photo to open it full size.",
        "photo_of": "Photo {n} of {total}",
        "photo_alt": "Photo {n}: {name}",
        "other_language": "Français",
    },
}


def _page(
    template: str = "work_order_action.html", status: int = 200, **context: object
) -> Response:
    lang = page_language()
    return _private(
        make_response(
            render_template(
                template,
                landlord=settings().landlord_name,
                lang=lang,
                t=WORDS[lang],
                **{"order": None, "confirm": None, "message": None, **context},
            ),
            status,
        )
    )


def _private(response: Response) -> Response:
    # The token in the address is a credential: kept out of caches, referrers and indexes.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _words() -> dict[str, Any]:
    return WORDS[page_language()]


def _invalid_link() -> Response:
    words = _words()
    return _page(
        status=HTTPStatus.NOT_FOUND,
        title=words["invalid_title"],
        message=words["invalid"],
        message_class="warn",
    )


def _load(token: str) -> tuple[WorkOrder, str] | None:
    found = read_action_token(token)
    if found is None:
        return None
    order = db.session.get(WorkOrder, found[0])
    return (order, found[1]) if order is not None else None


@blp.get("/<token>")
def confirm_page(token: str) -> Response:
    loaded = _load(token)
    if loaded is None:
        return _invalid_link()
    order, action = loaded
    title, question, button = _words()[action]
    return _page(
        title=title,
        order=order,
        address=order.claim.building.address,
        confirm=question,
        button=button,
    )


@blp.post("/<token>")
def apply_action(token: str) -> Response:
    loaded = _load(token)
    if loaded is None:
        return _invalid_link()
    order, action = loaded
    words = _words()
    title = words[action][0]
    # A second click on the same button (or "taking" a job already done) is a repeat.
    already = order.status not in (WorkOrderStatus.CANCELLED, WorkOrderStatus.SUPERSEDED) and (
        (action == LinkAction.TAKE and order.acknowledged_at is not None)
        or order.status == WorkOrderStatus.DONE
    )
    if already:
        return _page(
            title=title,
            order=order,
            address=order.claim.building.address,
            message=words["already"],
            message_class="done",
        )
    now = utcnow()
    kind = "acknowledged" if action == LinkAction.TAKE else "done"
    text = (
        "Confirmé par le lien du message." if action == LinkAction.TAKE else "Confirmé par le lien."
    )
    # The timeline is read by the landlord's staff: in French, whatever the page spoke.
    clicked = (
        f"{order.contractor.name} : « {WORDS['fr'][action][0]} » confirmé par le lien de "
        "l'ordre de service"
    )
    changes = {"work_order_id": order.id, "action": action, "source": "link"}
    if lifecycle.is_final(order):
        # Cancelled or superseded (a finished order was answered "already" above): nothing
        # moves, the unit is shown the click.
        file_on_finished_order(db.session, order, now, clicked, changes)
        db.session.commit()
        return _page(
            status=HTTPStatus.CONFLICT,
            title=title,
            order=order,
            address=order.claim.building.address,
            message=words["order_finished"],
            message_class="warn",
        )
    record_on_claim(db.session, order.claim, now, f"{clicked}.", changes)
    outcome = apply_contractor_update(
        db.session, order, ContractorUpdate(kind=kind, text=text, source="link"), now
    )
    if outcome != UpdateOutcome.APPLIED:
        db.session.rollback()
        closed = order.claim.status in (ClaimStatus.CLOSED, ClaimStatus.CANCELLED)
        return _page(
            status=HTTPStatus.CONFLICT,
            title=title,
            order=order,
            address=order.claim.building.address,
            message=words["closed"] if closed else words["resolved"],
            message_class="warn",
        )
    db.session.commit()
    return _page(
        title=title,
        order=order,
        address=order.claim.building.address,
        message=words["thanks"],
        message_class="done",
    )


def _order_for_photos(token: str) -> WorkOrder | None:
    found = read_action_token(token, allowed=(LinkAction.PHOTOS,))
    order = db.session.get(WorkOrder, found[0]) if found else None
    # An order taken back (the claim went to someone else) no longer shows the claim.
    if order is None or order.status in (WorkOrderStatus.CANCELLED, WorkOrderStatus.SUPERSEDED):
        return None
    return order


@blp.get("/<token>/photos")
def photos_page(token: str) -> Response:
    order = _order_for_photos(token)
    if order is None:
        return _invalid_link()
    return _page(
        "work_order_photos.html",
        title=_words()["photos_title"],
        order=order,
        address=order.claim.building.address,
        photos=order.claim.photos,
        token=token,
    )


@blp.get("/<token>/photos/<int(max=2147483647):photo_id>")
def photo_image(token: str, photo_id: int) -> Response:
    order = _order_for_photos(token)
    photo = photo_of_claim(db.session, order.claim_id, photo_id) if order else None
    if photo is None:
        return _invalid_link()
    response = photo_response(photo)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
