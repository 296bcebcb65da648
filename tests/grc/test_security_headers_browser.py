"""The security policies in a real browser (Debian's Chromium): Swagger UI and the one-click
pages work under them with no violation, and no page of GRC can be framed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from grc.contracts import work_orders
from grc.extensions import db
from notifications.memory import MemorySender
from tests.browser import needs_chromium, serving
from tests.factories import build_world
from tests.grc.inbound.inbound_posts import claim_with_work_order
from tests.grc.messaging.provider_apps import configured_app
from workers.senders import set_senders

pytestmark = needs_chromium


@pytest.fixture
def served(app: Flask, app_ctx: Flask, tmp_path) -> Iterator[tuple[str, Flask, object]]:
    with configured_app(app, instance_path=str(tmp_path)) as application:
        set_senders(application, MemorySender(), MemorySender())
        world = build_world(db.session)
        db.session.commit()
        with serving(application) as base:
            yield base, application, world


def _watched_page(chromium_browser) -> tuple[object, list[str]]:
    page = chromium_browser.new_page(locale="fr-FR")
    complaints: list[str] = []
    page.on("console", lambda m: complaints.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: complaints.append(str(error)))
    return page, complaints


def test_swagger_ui_works_under_its_policy(served, chromium_browser):
    base, _, _ = served
    page, complaints = _watched_page(chromium_browser)
    response = page.goto(f"{base}/api/docs")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.locator(".swagger-ui .info .title").get_by_text("GRC").wait_for()
    page.get_by_text("/api/v1/claims", exact=True).first.wait_for()
    assert not [c for c in complaints if "Content Security Policy" in c], complaints


def test_one_click_page_is_styled_under_its_policy(served, chromium_browser):
    base, application, world = served
    order = claim_with_work_order(application, world)
    token = work_orders.action_token(order, work_orders.LinkAction.TAKE)
    page, complaints = _watched_page(chromium_browser)
    page.goto(f"{base}/wo/{token}")
    # The inline style sheet is allowed by its hash: the page is laid out as designed.
    assert page.locator("body").evaluate("b => getComputedStyle(b).fontSize") == "18px"
    page.get_by_role("button", name="Je prends en charge").click()
    page.get_by_role("status").wait_for()
    assert not [c for c in complaints if "Content Security Policy" in c], complaints


@pytest.mark.parametrize("path", ["/wo/{token}", "/api/docs", "/admin/dev-outbox"])
def test_no_page_can_be_framed(served, chromium_browser, path):
    base, application, world = served
    order = claim_with_work_order(application, world)
    target = base + path.format(token=work_orders.action_token(order, work_orders.LinkAction.TAKE))
    with serving(_framing_site(target)) as other_site:
        page, complaints = _watched_page(chromium_browser)
        page.goto(other_site)
        page.wait_for_load_state("load")
        frame = page.frames[-1]
        assert frame != page.main_frame
        assert "Lien" not in frame.content()  # nothing of the framed page was shown
        assert "GRC" not in frame.content()
    assert any("frame-ancestors" in c for c in complaints), complaints


def _framing_site(target: str) -> Flask:
    """Another origin (another port) whose page tries to show ``target`` in a frame."""
    site = Flask("framing")

    @site.get("/")
    def framing_page() -> str:
        return f'<!DOCTYPE html><html><body><iframe src="{target}"></iframe></body></html>'

    return site
