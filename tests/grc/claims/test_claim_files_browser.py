"""Photos and attachments on the claim page in a real browser (Debian's Chromium): a photo
chosen in the form comes back as a thumbnail, the e-mails' attachments are links; no
accessibility violation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from grc.claims.models import ClaimStatus, EventKind
from grc.claims.photos import add_photo
from grc.db import utcnow
from grc.extensions import db
from tests.browser import (
    axe_violations,
    needs_chromium,
    new_page,
    save_screenshots,
    served_world,
    sign_in,
)
from tests.grc.claims.helpers import claim_in_status, email_on_claim
from tests.grc.claims.photo_files import RED, phone_jpeg, small_png

pytestmark = needs_chromium

_LOADED = "image => image.complete && image.naturalWidth > 0"


@pytest.fixture
def served(app: Flask, app_ctx: Flask, tmp_path) -> Iterator[tuple[str, Any, Any, Any]]:
    with served_world(app, tmp_path, passwords=("metz_tech",)) as (base, _application, world):
        claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
        add_photo(db.session, claim, "evier.jpg", phone_jpeg(), world.users["metz_tech"], utcnow())
        db.session.commit()
        reply = email_on_claim(
            claim,
            [
                ("devis-plomberie.pdf", "application/pdf", b"%PDF-1.4 devis"),
                ("programme.exe", "application/x-msdownload", None),
            ],
        )
        email_on_claim(
            claim,
            [("facture été.pdf", "application/pdf", b"%PDF-1.4 facture")],
            kind=EventKind.COMMENT,
            sender="locataire@example.org",
        )
        yield base, world, claim, reply


def test_a_photo_added_from_the_claim_page_comes_back_as_a_thumbnail(served, chromium_browser):
    base, world, claim, reply = served
    page = new_page(chromium_browser)
    sign_in(page, base, world.users["metz_tech"].email)
    page.goto(f"{base}/claims/{claim.reference}")

    # The attachments kept are links; the refused one stays a name.
    kept = reply.attachments[0]
    link = page.get_by_role("link", name="devis-plomberie.pdf")
    assert link.get_attribute("href") == f"/mail/{reply.id}/attachments/{kept.id}"
    assert page.get_by_role("link", name="programme.exe").count() == 0
    assert page.get_by_text("programme.exe").is_visible()
    assert page.get_by_role("link", name="facture été.pdf").is_visible()

    photos = page.get_by_label("Photos à ajouter")
    assert photos.get_attribute("accept") == "image/*"
    photos.set_input_files(
        [{"name": "joint-rouge.png", "mimeType": "image/png", "buffer": small_png(320, 240, RED)}]
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Ajouter les photos").click()
    assert page.url.endswith(f"/claims/{claim.reference}")
    assert page.get_by_text("Photo ajoutée.", exact=True).is_visible()

    thumbnail = page.get_by_role("img", name="Photo 2 : joint-rouge.jpg")
    thumbnail.scroll_into_view_if_needed()
    thumbnail.wait_for()
    assert thumbnail.get_attribute("loading") == "lazy"
    page.wait_for_function(
        "() => [...document.querySelectorAll('ul.photos img')].every(i => i.complete)"
    )
    assert thumbnail.evaluate(_LOADED)
    assert page.get_by_role("img", name="Photo 1 : evier.jpg").evaluate(_LOADED)
    page.evaluate("window.scrollTo(0, 0)")
    save_screenshots(page, "claim-files")
    assert axe_violations(page) == []
