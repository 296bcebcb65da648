"""The work order's pages in a real browser (Debian's Chromium driven by Playwright): the
contractor opens the link from the e-mail, reads the page and presses the button, or looks
at the claim's photos."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from grc.claims.models import Claim, ClaimStatus
from grc.claims.photos import add_photo
from grc.contracts import work_orders
from grc.contracts.models import WorkOrder, WorkOrderStatus
from grc.db import utcnow
from grc.extensions import db
from notifications.memory import MemorySender
from tests.browser import axe_violations, needs_chromium, save_screenshots, serving
from tests.factories import build_world
from tests.grc.claims.photo_files import phone_jpeg
from tests.grc.inbound.inbound_posts import claim_with_work_order
from tests.grc.messaging.provider_apps import configured_app
from workers.senders import set_senders

pytestmark = needs_chromium


@pytest.fixture
def served(app: Flask, app_ctx: Flask, tmp_path) -> Iterator[tuple[str, Flask, object]]:
    """The application on a loopback port, as the contractor's browser reaches it."""
    with configured_app(app, instance_path=str(tmp_path)) as application:
        set_senders(application, MemorySender(), MemorySender())
        world = build_world(db.session)
        db.session.commit()
        with serving(application) as base:
            yield base, application, world


@pytest.fixture
def page(chromium_browser) -> object:
    return chromium_browser.new_page(locale="fr-FR", timezone_id="Europe/Paris")


def test_contractor_confirms_from_the_link_in_a_browser(served, page):
    base, application, world = served
    order = claim_with_work_order(application, world)
    token = work_orders.action_token(order, work_orders.LinkAction.TAKE)

    page.goto(f"{base}/wo/{token}")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_role("heading", name="Prise en charge").is_visible()
    assert page.get_by_text(f"Demande {order.claim.reference}").is_visible()
    assert page.get_by_text("Confirmez-vous prendre en charge cette intervention ?").is_visible()
    db.session.expire_all()
    assert db.session.get(WorkOrder, order.id).status == WorkOrderStatus.SENT  # just looking

    page.get_by_role("button", name="Je prends en charge").click()
    page.get_by_role("status").wait_for()
    assert page.get_by_role("status").inner_text() == "Merci, c'est enregistré."
    assert page.get_by_role("button").count() == 0
    db.session.expire_all()
    assert db.session.get(WorkOrder, order.id).status == WorkOrderStatus.ACKNOWLEDGED
    assert db.session.get(Claim, order.claim_id).status == ClaimStatus.IN_PROGRESS

    # Pressing "back" and the button again changes nothing more.
    page.goto(f"{base}/wo/{token}")
    page.get_by_role("button", name="Je prends en charge").click()
    assert "déjà enregistré" in page.get_by_role("status").inner_text()


def test_a_wrong_link_shows_a_plain_explanation(served, page):
    base, _, _ = served
    response = page.goto(f"{base}/wo/not-a-valid-token")
    assert response.status == 404
    assert page.get_by_role("heading", name="Lien invalide").is_visible()
    assert "Répondez simplement au message reçu" in page.content()


def test_contractor_sees_the_claims_photos_in_a_browser(served, page):
    base, application, world = served
    order = claim_with_work_order(application, world)
    add_photo(db.session, order.claim, "évier.jpg", phone_jpeg(1600, 1200), None, utcnow())
    db.session.commit()
    token = work_orders.action_token(order, work_orders.LinkAction.PHOTOS)

    response = page.goto(f"{base}/wo/{token}/photos")

    assert response.status == 200
    assert page.get_by_role("heading", name="Photos de la demande").is_visible()
    assert page.get_by_text(f"Demande {order.claim.reference}").is_visible()
    image = page.get_by_role("img", name="Photo 1 : évier.jpg")
    image.scroll_into_view_if_needed()
    assert image.is_visible()
    # Really decoded and drawn by the browser, upright (portrait), not a broken-image icon.
    page.wait_for_function("() => [...document.images].every(i => i.complete)")
    natural = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert natural == [1200, 1600]
    db.session.expire_all()
    assert db.session.get(WorkOrder, order.id).status == WorkOrderStatus.SENT  # just looking


def test_on_a_phone_the_contractor_switches_to_english_and_confirms(served, chromium_browser):
    base, application, world = served
    order = claim_with_work_order(application, world)
    token = work_orders.action_token(order, work_orders.LinkAction.DONE)
    context = chromium_browser.new_context(
        locale="fr-FR", viewport={"width": 375, "height": 740}, bypass_csp=True
    )
    phone = context.new_page()

    phone.goto(f"{base}/wo/{token}")
    assert phone.get_by_role("heading", name="Intervention terminée").is_visible()
    # Nothing wider than the phone: no sideways scrolling to reach the button.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    assert axe_violations(phone) == []
    save_screenshots(phone, "work-order-action")

    phone.get_by_role("link", name="English").click()
    phone.wait_for_url(f"{base}/wo/{token}?lang=en")
    assert phone.locator("html").get_attribute("lang") == "en"
    assert phone.get_by_text("Contractor: Multiservices Lorraine").is_visible()
    button = phone.get_by_role("button", name="The job is done")
    box = button.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= 375
    button.click()
    assert phone.get_by_role("status").inner_text() == "Thank you, it is recorded."
    assert phone.get_by_role("link", name="Français").is_visible()
    db.session.expire_all()
    assert db.session.get(WorkOrder, order.id).status == WorkOrderStatus.DONE
    context.close()
