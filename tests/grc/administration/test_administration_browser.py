"""The administration screens in a real browser: an administrator invites a new user and
adds a routing rule with the keyboard only; every page is free of serious accessibility
violations; screenshots at laptop and phone widths."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from grc.claims.models import RoutingRule
from grc.extensions import db
from grc.messaging.models import OutboxMessage, Purpose
from grc.people.models import User
from tests.browser import (
    axe_violations,
    needs_chromium,
    new_page,
    save_screenshots,
    served_world,
    sign_in,
)

pytestmark = needs_chromium
# Waits until the page says it (after a post, its redirect and the next page's load).
expect = pytest.importorskip("playwright.sync_api").expect


@pytest.fixture
def served(app: Flask, app_ctx: Flask, tmp_path) -> Iterator[tuple[str, object]]:
    with served_world(app, tmp_path, passwords=("admin",)) as (base, _application, world):
        yield base, world


def _focused(page) -> str:
    return page.evaluate("document.activeElement.textContent || document.activeElement.name")


def test_an_administrator_invites_a_user_and_adds_a_rule_with_the_keyboard(
    served, chromium_browser
):
    base, world = served
    page = new_page(chromium_browser)
    sign_in(page, base, world.users["admin"].email)
    assert page.url.endswith("/admin")  # the administrator's home
    save_screenshots(page, "admin")
    assert axe_violations(page) == []

    page.goto(f"{base}/admin/users")
    save_screenshots(page, "admin-users")
    assert axe_violations(page) == []
    # "Create a user" has the focus: Enter opens the form, whose address field has it.
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: url.endswith("/admin/users/new"))
    page.keyboard.type("nadia.haddad@bailleur.test")
    page.keyboard.press("Tab")
    page.keyboard.type("Nadia Haddad")
    page.wait_for_load_state("networkidle")
    page.keyboard.press("Enter")  # the role proposed first: call-centre agent
    expect(page.get_by_text("Utilisateur Nadia Haddad créé")).to_be_visible()
    # The page gives the name field the focus once loaded: tabbing earlier would start from
    # the top of the page.
    page.wait_for_function("document.activeElement && document.activeElement.name === 'name'")
    # From the name (focused), past the role, the unit and Save, to the invitation.
    for _ in range(4):
        page.keyboard.press("Tab")
    assert _focused(page) == "Envoyer une invitation"
    # The page's own requests (its icon) answered first: a late answer re-sends the older
    # session cookie, which would drop the message the next page shows.
    page.wait_for_load_state("networkidle")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Invitation envoyée à nadia.haddad@bailleur.test")).to_be_visible()
    save_screenshots(page, "admin-user")
    assert axe_violations(page) == []
    db.session.expire_all()
    user = db.session.execute(
        sa.select(User).where(User.email == "nadia.haddad@bailleur.test")
    ).scalar_one()
    assert (
        db.session.execute(
            sa.select(OutboxMessage.recipient).where(OutboxMessage.purpose == Purpose.INVITATION)
        ).scalar_one()
        == user.email
    )

    page.goto(f"{base}/admin/categories")
    save_screenshots(page, "admin-categories")
    assert axe_violations(page) == []

    page.goto(f"{base}/admin/routing-rules")
    # The category list has the focus once the page has given it (typing earlier picks
    # nothing); typing picks an option, Tab goes to the next list.
    page.wait_for_function("document.activeElement && document.activeElement.name === 'category'")
    page.keyboard.type("VOI-BRUIT")
    page.keyboard.press("Tab")
    page.keyboard.type("Metz")
    page.keyboard.press("Tab")
    page.keyboard.type("Proximite Metz")
    page.keyboard.press("Tab")
    assert _focused(page) == "Ajouter la règle"
    page.wait_for_load_state("networkidle")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Règle d’orientation ajoutée")).to_be_visible()
    db.session.expire_all()
    rule = db.session.execute(sa.select(RoutingRule)).scalar_one()
    assert (rule.category.code, rule.unit.code, rule.agency_id) == (
        "VOI-BRUIT",
        "METZ-proximite",
        world.agencies["METZ"].id,
    )
    save_screenshots(page, "admin-rules")
    assert axe_violations(page) == []
