"""The CUS pages in a real browser: a manager goes from the table to an agency's yearly
sheet, which prints on one A4 page without the navigation; no serious or critical
accessibility violation."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask

from tests.browser import (
    LAPTOP,
    PHONE,
    SCREENSHOTS,
    axe_violations,
    needs_chromium,
    new_page,
    save_screenshots,
    served_world,
    sign_in,
)
from tests.grc.cus.helpers import lift_breakdowns, responses

pytestmark = needs_chromium


@pytest.fixture
def served(app: Flask, app_ctx: Flask, tmp_path) -> Iterator[tuple[str, object]]:
    with served_world(app, tmp_path, passwords=("manager",)) as (base, _application, world):
        lift_breakdowns(world)
        responses(world)
        yield base, world


def test_a_manager_prints_an_agencys_yearly_sheet(served, chromium_browser):
    base, world = served
    page = new_page(chromium_browser)
    sign_in(page, base, world.users["manager"].email)
    page.goto(f"{base}/reports/cus")
    page.get_by_label("Année", exact=True).fill("2025")
    page.get_by_role("button", name="Afficher").click()
    page.wait_for_url(f"{base}/reports/cus?year=2025")
    save_screenshots(page, "cus-table")
    assert axe_violations(page) == []

    page.get_by_role("link", name="Metz").click()
    page.wait_for_url(f"{base}/reports/cus/METZ/2025")
    assert page.get_by_role("heading", level=1).inner_text() == "Indicateurs CUS 2025 – Metz"
    save_screenshots(page, "cus-sheet")
    assert axe_violations(page) == []
    page.set_viewport_size(PHONE)
    assert axe_violations(page) == []

    page.set_viewport_size(LAPTOP)
    page.emulate_media(media="print")
    assert not page.locator("header.top").is_visible()
    assert not page.locator("nav.cus-links").is_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "cus-sheet-print.png"), full_page=True)
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    (SCREENSHOTS / "cus-sheet.pdf").write_bytes(pdf)
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    assert pages == 1
    # A4: 595 x 842 points.
    assert re.search(rb"/MediaBox \[0 0 59[45](\.\d+)? 84[12]", pdf), "not A4"
