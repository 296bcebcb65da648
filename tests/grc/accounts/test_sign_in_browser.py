"""Signing in and out in a real browser (Debian's Chromium): keyboard only, no
accessibility violation, a copied session cookie refused after sign-out, a form posted from
another site refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from tests.browser import (
    PASSWORD,
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
        yield base, world


def test_sign_in_page_is_accessible_and_works_from_the_keyboard(served, chromium_browser):
    base, world = served
    page = new_page(chromium_browser)
    page.goto(f"{base}/sign-in")
    save_screenshots(page, "sign-in")
    assert axe_violations(page) == []
    # Focus starts in the address field; Tab moves to the password, Enter submits.
    page.keyboard.type(world.users["agent"].email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/sign-in" not in url)
    assert world.users["agent"].name in page.content()


def test_a_copied_cookie_is_refused_after_sign_out(served, chromium_browser):
    base, world = served
    page = new_page(chromium_browser)
    sign_in(page, base, world.users["agent"].email)
    cookies = page.context.cookies()
    assert any(c["name"] == "grc_session" and c["httpOnly"] for c in cookies)

    thief = chromium_browser.new_context()
    thief.add_cookies(cookies)
    stolen = thief.new_page()
    stolen.goto(f"{base}/account/password")
    assert "/account/password" in stolen.url  # the copy works while the session lives

    page.goto(f"{base}/account/password")
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(lambda url: "/sign-in" in url)

    stolen.goto(f"{base}/account/password")
    assert "/sign-in" in stolen.url


def test_a_form_posted_from_another_site_is_refused(served, chromium_browser):
    base, world = served
    page = new_page(chromium_browser)
    sign_in(page, base, world.users["agent"].email)
    # Another site (here a page with no origin of ours) posts a sign-out form to GRC.
    forger = page.context.new_page()
    forger.set_content(f'<form method="post" action="{base}/sign-out"><button>go</button></form>')
    with forger.expect_navigation():
        forger.get_by_role("button", name="go").click()
    assert "/sign-out" in forger.url or "/sign-in" in forger.url
    # The user is still signed in: the forged post changed nothing.
    page.goto(f"{base}/account/password")
    assert "/account/password" in page.url
