"""The console in a real browser (Debian's Chromium), with the keyboard only: a tenant found
by part of their number, a phone claim about the lift logged and its route shown, then a
neighbour's call about the same lift attached to that claim. No accessibility violation."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from grc.claims.models import Claim, ClaimCaller
from grc.db import utcnow
from grc.extensions import db
from grc.telephony import operations as telephony
from grc.telephony.models import CallClaim
from tests.browser import (
    axe_violations,
    needs_chromium,
    new_page,
    save_screenshots,
    served_world,
    sign_in,
)

pytestmark = needs_chromium


@pytest.fixture
def served(app: Flask, app_ctx: Flask, tmp_path) -> Iterator[tuple[str, object]]:
    with served_world(app, tmp_path, passwords=("agent",)) as (base, _application, world):
        world.agencies["METZ"].on_call_phone = "+33387000000"
        db.session.commit()
        yield base, world


def _tab_to(page, selector: str, limit: int = 40) -> None:
    """Tab until ``selector`` has the focus, as an agent would."""
    for _ in range(limit):
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} never got the focus")


def _find_and_open(page, typed: str, name: str, screenshot: str | None = None) -> None:
    """Type in the search box (focused), go down into the results, open the tenant."""
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type(typed, delay=40)
    page.locator("#results a", has_text=name).wait_for()
    if screenshot:
        save_screenshots(page, screenshot)
        assert axe_violations(page) == []
    page.keyboard.press("ArrowDown")
    assert name in page.evaluate("document.activeElement.textContent")
    with page.expect_navigation(url=re.compile(r"/console/tenants/\d+$")):
        page.keyboard.press("Enter")


def _lift_claim_form(page, description: str) -> None:
    """Category typed, place moved to the building's equipment, the lift picked, what the
    tenant says: all from the keyboard, starting in the category field (focused)."""
    assert page.evaluate("document.activeElement.id") == "category"
    page.keyboard.type("Ascenseur en panne", delay=20)
    page.keyboard.press("Tab")
    page.keyboard.press("Escape")  # the list of suggestions, if it opened
    _tab_to(page, "input[name=location]:checked")
    page.keyboard.press("ArrowDown")  # common areas
    page.keyboard.press("ArrowDown")  # one piece of equipment
    assert page.evaluate("document.activeElement.value") == "equipment"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "equipment_id"
    page.keyboard.type("Ascenseur")  # picks "Ascenseur A" in the closed list
    page.keyboard.press("Tab")  # channel: phone already
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "description"
    page.keyboard.type(description)


def test_an_agent_logs_a_call_then_attaches_the_next_one_keyboard_only(served, chromium_browser):
    base, world = served
    page = new_page(chromium_browser)
    sign_in(page, base, world.users["agent"].email)
    assert page.url.endswith("/console")  # the agent's home

    # Part of the caller's number (06 12 34 56 78), as it is read out.
    _find_and_open(page, "56 78", "LEFÈVRE Élodie", screenshot="console-search")
    page.wait_for_load_state()

    card = page.content()
    assert "LEFÈVRE Élodie" in card
    assert "Les Tilleuls" in card
    assert "03 87 00 00 00" in card  # the agency's on-call number
    assert "Ascenseurs de l" in card  # the lift contract covering the home
    save_screenshots(page, "tenant-card")
    assert axe_violations(page) == []

    _lift_claim_form(page, "L'ascenseur est bloqué au rez-de-chaussée")
    page.locator("#similar .console-category").wait_for()  # the category's priority shown
    save_screenshots(page, "claim-form")
    assert axe_violations(page) == []
    _tab_to(page, "button[type=submit]:not([formaction])")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"saved=\d+"))

    [claim] = db.session.execute(sa.select(Claim)).scalars()
    saved = page.locator(".console-saved").inner_text()
    assert claim.reference in saved
    assert "Ascenseurs de l'Est" in saved  # the route…
    assert "ASC-2025" in saved  # …its contract and reason in words
    assert "Résolution au plus tard" in saved
    assert claim.channel == "phone"
    assert claim.equipment_id == world.equipment["TIL-ELEV"].id
    save_screenshots(page, "claim-saved")
    assert axe_violations(page) == []

    # The neighbour calls about the same lift: the open claim is offered before saving.
    _find_and_open(page, "dupont", "DUPONT Jean")
    _lift_claim_form(page, "Toujours en panne")
    attach = page.get_by_role("button", name="Rattacher l’appel à cette demande")
    attach.wait_for()
    assert claim.reference in page.locator("#similar").inner_text()
    assert axe_violations(page) == []
    _tab_to(page, "button[formaction]")
    page.keyboard.press("Enter")
    # The agent is shown that claim's page, with what was done.
    page.wait_for_url(re.compile(rf"/claims/{claim.reference}$"))
    assert f"L’appel est rattaché à la demande {claim.reference}." in page.content()
    assert axe_violations(page) == []

    db.session.expire_all()
    assert db.session.execute(sa.select(sa.func.count(Claim.id))).scalar_one() == 1
    [call] = db.session.execute(sa.select(ClaimCaller)).scalars()
    assert call.claim_id == claim.id
    assert call.tenant_id == world.tenants["TIL-12"].id


def test_an_agent_takes_a_waiting_call_from_the_panel(served, chromium_browser):
    base, world = served
    call = telephony.receive_call(
        db.session, "CA" + "0" * 32, "+33698765432", "+33387000000", utcnow()
    )
    db.session.commit()
    page = new_page(chromium_browser)
    sign_in(page, base, world.users["agent"].email)
    take = page.get_by_role("button", name="Prendre l’appel : MARTIN Marie")
    take.wait_for()  # the panel answers within its first poll
    assert "06 98 76 54 32" in page.locator("#calls").inner_text()
    save_screenshots(page, "console-calls")
    assert axe_violations(page) == []
    _tab_to(page, "#calls button")
    with page.expect_navigation(url=re.compile(r"/console/tenants/\d+$")):
        page.keyboard.press("Enter")
    assert "En ligne depuis" in page.content()

    _lift_claim_form_dwelling(page)
    _tab_to(page, "button[type=submit]:not([formaction])")
    with page.expect_navigation(url=re.compile(r"saved=\d+")):
        page.keyboard.press("Enter")
    [claim] = db.session.execute(sa.select(Claim)).scalars()
    [link] = db.session.execute(sa.select(CallClaim)).scalars()
    assert (link.call_id, link.claim_id) == (call.id, claim.id)


def _lift_claim_form_dwelling(page) -> None:
    """A leak in the dwelling: the category typed, the rest as it comes."""
    assert page.evaluate("document.activeElement.id") == "category"
    page.keyboard.type("Fuite d'eau active", delay=20)
    page.keyboard.press("Tab")
    page.keyboard.press("Escape")
    _tab_to(page, "#description")
    page.keyboard.type("L'eau coule sous l'évier")
