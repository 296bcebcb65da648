"""The mail to handle in a real browser (Debian's Chromium): an agent files an e-mail nothing
matched on its claim from the keyboard; no accessibility violation on the pages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from grc.accounts.passwords import hash_password
from grc.extensions import db
from grc.inbound.models import InboundEmail
from tests.browser import (
    PASSWORD,
    axe_violations,
    needs_chromium,
    new_page,
    save_screenshots,
    serving,
    sign_in,
)
from tests.grc.inbound.inbound_posts import claim_with_work_order
from tests.grc.inbound.test_mail_pages import _reply, _triage

pytestmark = needs_chromium


@pytest.fixture
def served(make_inbox) -> Iterator[tuple[Flask, str, object]]:
    application, world = make_inbox()
    world.users["agent"].password_hash = hash_password(PASSWORD)
    db.session.commit()
    with serving(application) as base:
        yield application, base, world


def test_an_agent_files_an_unmatched_email_on_a_claim(served, chromium_browser):
    application, base, world = served
    order = claim_with_work_order(application, world)
    _reply(application, order, "Pouvez-vous me donner le code de la porte ?")
    triage = _triage(application, html="<p>L'eau coule <b>encore</b> au 3e.</p>")

    page = new_page(chromium_browser)
    sign_in(page, base, world.users["agent"].email)
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Courrier à traiter"
    ).click()
    page.wait_for_url(f"{base}/mail")
    save_screenshots(page, "mail-to-handle")
    assert axe_violations(page) == []

    page.get_by_role("link", name="Fuite au 3e").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/mail/{triage.id}")
    assert axe_violations(page) == []
    # Focus waits in the reference field: type it, Enter files the e-mail.
    assert page.evaluate("document.activeElement.id") == "reference"
    page.keyboard.type(order.claim.reference)
    save_screenshots(page, "mail-email")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: url.startswith(f"{base}/mail?"))
    assert f"L'e-mail est classé sur la demande {order.claim.reference}." in page.content()
    db.session.expire_all()
    assert db.session.get(InboundEmail, triage.id).claim_id == order.claim_id

    # The contractor's question, with what was read and the claim.
    page.goto(f"{base}/mail?tab=replies")
    assert "une question" in page.content()
    save_screenshots(page, "mail-replies")
    assert axe_violations(page) == []
