"""The report pages in a real browser: a manager reaches the dashboard from the menu, opens
a report from a key figure, changes a filter; the chart is drawn beside its table; no
serious or critical accessibility violation at laptop and phone widths."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from tests.browser import (
    PHONE,
    axe_violations,
    needs_chromium,
    new_page,
    save_screenshots,
    served_world,
    sign_in,
)
from tests.grc.reports.dataset import build

pytestmark = needs_chromium

WEEK = "from=2026-03-09&to=2026-03-15"


@pytest.fixture
def served(app: Flask, app_ctx: Flask, tmp_path) -> Iterator[tuple[str, object]]:
    with served_world(app, tmp_path, passwords=("manager",)) as (base, _application, world):
        build(world)
        yield base, world


def test_a_manager_reads_the_dashboard_and_a_report(served, chromium_browser):
    base, world = served
    page = new_page(chromium_browser)
    sign_in(page, base, world.users["manager"].email)
    page.get_by_role("link", name="Rapports").first.click()
    page.wait_for_url(f"{base}/reports")
    page.get_by_label("Premier jour").fill("2026-03-09")
    page.get_by_label("Dernier jour (inclus)").fill("2026-03-15")
    page.get_by_role("button", name="Afficher").click()
    page.wait_for_url(lambda url: "from=2026-03-09&to=2026-03-15&" in url)
    assert "Demandes reçues" in page.content()
    save_screenshots(page, "reports-dashboard")
    assert axe_violations(page) == []
    page.set_viewport_size(PHONE)
    assert axe_violations(page) == []

    page.goto(f"{base}/reports/volumes?{WEEK}&bucket=day")
    page.get_by_label("Lignes par").select_option(label="Unité de traitement")
    page.get_by_role("button", name="Afficher").click()
    page.wait_for_url(lambda url: "by=unit" in url)
    chart = page.get_by_role("img", name="Graphique des chiffres du tableau « Volumes »")
    chart.wait_for()
    # Chart.js drew on the canvas (it sets its size once drawn).
    page.wait_for_function(
        "() => window.Chart && window.Chart.getChart(document.getElementById('report-chart'))"
    )
    table = page.get_by_role("table", name="Volumes")
    assert "Technique Metz" in table.inner_text()
    save_screenshots(page, "reports-volumes")
    assert axe_violations(page) == []
    page.set_viewport_size(PHONE)
    assert axe_violations(page) == []


@pytest.mark.parametrize("name", ["sla", "backlog", "overdue", "calls-by-agent", "ratings"])
def test_every_report_page_is_accessible(served, chromium_browser, name):
    base, world = served
    page = new_page(chromium_browser)
    sign_in(page, base, world.users["manager"].email)
    page.goto(f"{base}/reports/{name}?{WEEK}&lang=en")
    assert page.get_by_role("table").count() == 1
    save_screenshots(page, f"reports-{name}")
    assert axe_violations(page) == []
