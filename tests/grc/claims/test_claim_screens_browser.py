"""A unit user's day in a real browser (Debian's Chromium), keyboard only: the queue, a claim
opened from it, a comment, the resolution; no accessibility violation on the way."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from grc.claims.models import Claim, ClaimStatus, EventKind
from grc.extensions import db
from tests.browser import (
    axe_violations,
    needs_chromium,
    new_page,
    save_screenshots,
    served_world,
    sign_in,
)
from tests.grc.claims.helpers import claim_in_status

pytestmark = needs_chromium

_FOCUSED = """() => {
  const e = document.activeElement;
  return {id: e.id || "", text: e.tagName === "INPUT" ? "" : (e.innerText || "").trim()};
}"""


@pytest.fixture
def served(app: Flask, app_ctx: Flask, tmp_path) -> Iterator[tuple[str, Any, Claim]]:
    with served_world(app, tmp_path, passwords=("metz_tech",)) as (base, _application, world):
        claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
        other = claim_in_status(world, ClaimStatus.ASSIGNED)
        yield base, world, claim, other


def _tab_to(page: Any, *, text: str | None = None, element_id: str | None = None) -> None:
    """Press Tab until the focus is on the element showing ``text`` (or of ``element_id``)."""
    for _ in range(80):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED)
        if (text is not None and focused["text"] == text) or (
            element_id is not None and focused["id"] == element_id
        ):
            return
    raise AssertionError(f"Tab never reached {text or element_id}")


def test_a_unit_user_opens_comments_and_resolves_a_claim_with_the_keyboard(
    served, chromium_browser
):
    base, world, claim, other = served
    page = new_page(chromium_browser)
    sign_in(page, base, world.users["metz_tech"].email)
    assert page.url.endswith("/unit/METZ-technique")
    save_screenshots(page, "unit-queue")
    assert axe_violations(page) == []

    # The focus is in the search box; the list follows what is typed.
    assert page.evaluate(_FOCUSED)["id"] == "q"
    page.keyboard.type(other.reference)
    page.get_by_role("link", name=claim.reference).wait_for(state="detached")
    assert page.get_by_role("link", name=other.reference).is_visible()
    assert f"q={other.reference}" in page.url
    page.keyboard.press("Control+A")
    page.keyboard.press("Backspace")
    page.get_by_role("link", name=claim.reference).wait_for()

    _tab_to(page, text=claim.reference)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/claims/{claim.reference}")
    save_screenshots(page, "claim-page")
    assert axe_violations(page) == []

    # Focus lands in the comment: type, move to its button, send.
    assert page.evaluate(_FOCUSED)["id"] == "comment-body"
    page.keyboard.type("Locataire rappelé : passage demain matin.")
    _tab_to(page, text="Ajouter le commentaire")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Commentaire ajouté." in page.content()
    assert "Locataire rappelé : passage demain matin." in page.content()

    _tab_to(page, text="Résoudre")
    page.keyboard.press("Enter")  # opens the resolution form
    _tab_to(page, element_id="resolve-comment")
    page.keyboard.type("Joint changé par le prestataire.")
    _tab_to(page, text="Résoudre la demande")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Demande résolue ; le locataire est prévenu." in page.content()
    save_screenshots(page, "claim-resolved")
    assert axe_violations(page) == []

    db.session.expire_all()
    stored = db.session.get(Claim, claim.id)
    assert stored.status == ClaimStatus.RESOLVED
    assert stored.resolution == "Joint changé par le prestataire."
    assert any(
        e.kind == EventKind.COMMENT and e.actor_id == world.users["metz_tech"].id
        for e in stored.events
    )
