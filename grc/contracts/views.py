"""The links of a work-order e-mail, no login: a small confirmation page per one-click
action, and the page of the claim's photos.

The signed token in the address is the only credential (it names one work order and one
purpose, and expires); nothing rides on cookies, so there is no session a forged form could
borrow. GET only shows the page; the change needs the POST of its button, so a mail
scanner that follows links changes nothing.
"""

from __future__ import annotations

from http import HTTPStatus

from flask import Blueprint, Response
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from grc.claims.models import ClaimStatus
from grc.claims.photos import photo_of_claim, photo_response
from grc.contracts import lifecycle
from grc.contracts.models import WorkOrder, WorkOrderStatus
from grc.contracts.updates import ContractorUpdate, UpdateOutcome, apply_contractor_update
from grc.contracts.work_orders import (
    LinkAction,
    file_on_finished_order,
    link_confirmation_line,
    read_action_token,
    record_on_claim,
)
from grc.db import utcnow
from grc.extensions import db
from grc.web.pages import token_page

# The pages speak the language ``grc.web.application.select_locale`` chooses; a contractor
# has no account, so their switch is a ``?lang=`` link and, failing that, their browser's
# preference counts.
blp = Blueprint("work_order_links", __name__, url_prefix="/wo", template_folder="templates")

# Each confirmation's page: its title, its question and its button.
CONFIRMATIONS: dict[str, tuple[LazyString, LazyString, LazyString]] = {
    LinkAction.TAKE: (
        _l("Taking the job"),
        _l("Do you confirm you are taking this job?"),
        _l("I am taking it"),
    ),
    LinkAction.DONE: (
        _l("Job done"),
        _l("Do you confirm the job is done?"),
        _l("The job is done"),
    ),
}


def _page(
    template: str = "work_orders/action.html", status: int = 200, **context: object
) -> Response:
    return token_page(
        template, status, **{"order": None, "confirm": None, "message": None, **context}
    )


def _invalid_link() -> Response:
    return _page(
        status=HTTPStatus.NOT_FOUND,
        title=_("Invalid link"),
        message=_("This link is not valid or has expired. Simply reply to the message."),
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
    title, question, button = CONFIRMATIONS[action]
    return _page(
        title=str(title),
        order=order,
        address=order.claim.building.address,
        confirm=str(question),
        button=str(button),
    )


@blp.post("/<token>")
def apply_action(token: str) -> Response:
    loaded = _load(token)
    if loaded is None:
        return _invalid_link()
    order, action = loaded
    title = str(CONFIRMATIONS[action][0])
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
            message=_("This is already recorded. Thank you."),
            message_class="done",
        )
    now = utcnow()
    kind = "acknowledged" if action == LinkAction.TAKE else "done"
    text = (
        "Confirmé par le lien du message." if action == LinkAction.TAKE else "Confirmé par le lien."
    )
    clicked = link_confirmation_line(order, action)
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
            message=_(
                "This work order was cancelled or replaced: nothing was changed. Your click "
                "was passed on to the unit in charge of the claim."
            ),
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
            message=(
                _("This claim is closed: nothing was changed. Reply to the message if needed.")
                if closed
                else _("This claim is already resolved: nothing was changed.")
            ),
            message_class="warn",
        )
    db.session.commit()
    return _page(
        title=title,
        order=order,
        address=order.claim.building.address,
        message=_("Thank you, it is recorded."),
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
        "work_orders/photos.html",
        title=_("Photos of the claim"),
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
