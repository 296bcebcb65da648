"""Polls in a real browser: a manager launches a poll and reads its results; a tenant
answers on a phone from the e-mail's link. Every page free of serious accessibility
violations; screenshots at laptop and phone widths."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from grc.extensions import db
from grc.polls.models import Poll, PollRecipient, RecipientChannel, RecipientStatus
from grc.polls.operations import page_link
from tests.browser import (
    PHONE,
    axe_violations,
    needs_chromium,
    new_page,
    save_screenshots,
    served_world,
    sign_in,
)
from tests.grc.polls.helpers import answers

pytestmark = needs_chromium
expect = pytest.importorskip("playwright.sync_api").expect


@pytest.fixture
def served(app: Flask, app_ctx: Flask, tmp_path) -> Iterator[tuple[str, object]]:
    with served_world(app, tmp_path, passwords=("manager",)) as (base, _application, world):
        yield base, world


def test_a_manager_launches_a_poll_and_a_tenant_answers_it(served, chromium_browser):
    base, world = served
    page = new_page(chromium_browser)
    sign_in(page, base, world.users["manager"].email)
    page.goto(f"{base}/polls")
    assert axe_violations(page) == []
    page.get_by_role("link", name="Lancer une enquête").click()
    page.wait_for_url(lambda url: url.endswith("/polls/new"))
    save_screenshots(page, "poll-launch")
    assert axe_violations(page) == []
    page.get_by_label("Titre").fill("Enquête annuelle")
    page.get_by_label("Locataires à tirer au sort").fill("8")
    page.locator("#theme2").select_option("overall")
    page.get_by_role("button", name="Lancer l'enquête").click()
    expect(page.get_by_role("status")).to_contain_text("8 locataires tirés au sort")
    assert "/polls/" in page.url
    save_screenshots(page, "poll-results")
    assert axe_violations(page) == []

    db.session.expire_all()
    poll = db.session.execute(sa.select(Poll)).scalar_one()
    recipient = db.session.execute(
        sa.select(PollRecipient).where(PollRecipient.poll_id == poll.id).limit(1)
    ).scalar_one()
    recipient.channel = RecipientChannel.EMAIL
    recipient.status = RecipientStatus.ASKED
    db.session.commit()

    tenant = new_page(chromium_browser)
    tenant.set_viewport_size(PHONE)
    link = page_link(recipient.id)
    tenant.goto(base + link[link.index("/sondage/") :])
    assert tenant.get_by_role("heading", name="Votre avis").is_visible()
    assert axe_violations(tenant) == []
    save_screenshots(tenant, "poll-answer")
    assert tenant.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    first, second = poll.questions
    tenant.locator(f"input[name='q{first.id}'][value='2']").check()
    tenant.locator(f"input[name='q{second.id}'][value='1']").check()
    tenant.get_by_role("button", name="Envoyer mes réponses").click()
    expect(tenant.get_by_role("status")).to_have_text("Merci, vos réponses sont enregistrées.")
    assert sorted(a.value for a in answers()) == [1, 2]
