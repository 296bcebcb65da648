"""The links of a work-order e-mail, no login: a small confirmation page per one-click
action, and the page of the claim's photos.

The signed token in the address is the only credential (it names one work order and one
purpose, and expires); nothing rides on cookies, so there is no session a forged form could
borrow. GET only shows the page; the change needs the POST of its button, so a mail
scanner that follows links changes nothing.
"""

from __future__ import annotations

from http import HTTPStatus

from flask import Blueprint, Response, make_response, render_template

from grc.claims.models import ClaimStatus
from grc.claims.photos import photo_of_claim, photo_response
from grc.clock import settings
from grc.contracts.models import WorkOrder, WorkOrderStatus
from grc.contracts.work_orders import (
    Action,
    ContractorUpdate,
    apply_contractor_update,
    read_action_token,
    record_on_claim,
)
from grc.db import utcnow
from grc.extensions import db

blp = Blueprint("work_order_links", __name__, url_prefix="/wo")

_WORDING = {
    Action.TAKE: (
        "Prise en charge",
        "Confirmez-vous prendre en charge cette intervention ?",
        "Je prends en charge",
    ),
    Action.DONE: (
        "Intervention terminée",
        "Confirmez-vous que l'intervention est terminée ?",
        "L'intervention est terminée",
    ),
}


def _page(status: int = 200, **context: object) -> Response:
    return _private(
        make_response(
            render_template(
                "work_order_action.html",
                landlord=settings().landlord_name,
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


def _invalid_link() -> Response:
    return _page(
        HTTPStatus.NOT_FOUND,
        title="Lien invalide",
        message="Ce lien n'est pas valide ou a expiré. Répondez simplement au message reçu.",
        message_class="warn",
    )


def _address(order: WorkOrder) -> str:
    building = order.claim.building
    return f"{building.street}, {building.postcode} {building.city}"


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
    title, question, button = _WORDING[action]
    return _page(title=title, order=order, address=_address(order), confirm=question, button=button)


@blp.post("/<token>")
def apply_action(token: str) -> Response:
    loaded = _load(token)
    if loaded is None:
        return _invalid_link()
    order, action = loaded
    title = _WORDING[action][0]
    already = (action == Action.TAKE and order.acknowledged_at is not None) or (
        action == Action.DONE and order.status == WorkOrderStatus.DONE
    )
    if already:
        return _page(
            title=title,
            order=order,
            address=_address(order),
            message="C'est déjà enregistré. Merci.",
            message_class="done",
        )
    now = utcnow()
    kind = "acknowledged" if action == Action.TAKE else "done"
    text = "Confirmé par le lien du message." if action == Action.TAKE else "Confirmé par le lien."
    record_on_claim(
        db.session,
        order.claim,
        now,
        f"{order.contractor.name} : « {title} » confirmé par le lien de l'ordre de service.",
        {"work_order_id": order.id, "action": action, "source": "link"},
    )
    if not apply_contractor_update(
        db.session, order, ContractorUpdate(kind=kind, text=text, source="link"), now
    ):
        db.session.rollback()
        closed = order.claim.status in (ClaimStatus.CLOSED, ClaimStatus.CANCELLED)
        return _page(
            HTTPStatus.CONFLICT,
            title=title,
            order=order,
            address=_address(order),
            message=(
                "Cette demande est clôturée : rien n'a été modifié. Répondez au message si besoin."
                if closed
                else "Cette demande est déjà résolue : rien n'a été modifié."
            ),
            message_class="warn",
        )
    db.session.commit()
    return _page(
        title=title,
        order=order,
        address=_address(order),
        message="Merci, c'est enregistré.",
        message_class="done",
    )


def _order_for_photos(token: str) -> WorkOrder | None:
    found = read_action_token(token, allowed=(Action.PHOTOS,))
    order = db.session.get(WorkOrder, found[0]) if found else None
    # An order taken back (the claim went to someone else) no longer shows the claim.
    if order is None or order.status == WorkOrderStatus.CANCELLED:
        return None
    return order


@blp.get("/<token>/photos")
def photos_page(token: str) -> Response:
    order = _order_for_photos(token)
    if order is None:
        return _invalid_link()
    return _private(
        make_response(
            render_template(
                "work_order_photos.html",
                landlord=settings().landlord_name,
                title="Photos de la demande",
                order=order,
                address=_address(order),
                photos=order.claim.photos,
                token=token,
            )
        )
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
