"""The report pages: who sees them, the dashboard's figures, a report's chart data and
table, each bad filter named on its field, and the filters' words."""

from __future__ import annotations

import json
import re

import pytest
from freezegun import freeze_time

from tests.grc.reports.dataset import NOW, build
from tests.pages import sign_in_as

WEEK = "from=2026-03-09&to=2026-03-15"


@pytest.mark.parametrize(
    ("role", "status"), [("manager", 200), ("admin", 200), ("agent", 403), ("metz_tech", 403)]
)
def test_the_pages_by_role(web_client, world, role, status):
    sign_in_as(web_client, world.users[role])
    assert web_client.get("/reports").status_code == status
    assert web_client.get("/reports/sla").status_code == status


def test_the_dashboard_shows_the_key_figures(web_client, world):
    build(world)
    with freeze_time(NOW):
        sign_in_as(web_client, world.users["manager"])
        page = web_client.get(f"/reports?{WEEK}").get_data(as_text=True)
    assert "Rapports" in page
    assert "Du 09/03/2026 au 15/03/2026" in page
    # 7 claims received; 3 further calls; 4 responses on time out of 6.
    assert re.search(r'class="figure">7</span> <span class="figure-words">Demandes reçues', page)
    assert re.search(r'class="figure">3</span> <span class="figure-words">Appels suppl', page)
    assert re.search(r'class="figure">66,7\s%</span>', page)
    assert 'href="/reports/sla?from=2026-03-09&amp;to=2026-03-15&amp;bucket=week"' in page
    # No chart on the dashboard: no script of ours but htmx.
    assert "chart-4.6.1" not in page


def test_a_report_has_its_chart_and_the_same_figures_in_a_table(web_client, world):
    build(world)
    with freeze_time(NOW):
        sign_in_as(web_client, world.users["manager"])
        response = web_client.get(f"/reports/backlog?{WEEK}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'role="img"' in page
    assert "vendor/chart-4.6.1.umd.min.js" in page
    assert "reports.js" in page
    data = json.loads(
        re.search(r'data-chart="([^"]*)"', page)
        .group(1)
        .replace("&#34;", '"')
        .replace("&quot;", '"')
        .replace("&#39;", "'")
    )
    assert data["labels"] == ["Technique Metz", "Technique Nancy"]
    assert [d["data"] for d in data["datasets"]] == [[0, 1], [2, 0], [0, 0], [1, 0]]
    assert '<th scope="col">Moins de 2 jours</th>' in page
    assert '<th scope="row">Total</th>' in page
    assert response.headers["Content-Security-Policy"].count("script-src 'self'") == 1


def test_the_overdue_list_links_to_the_claims(web_client, world):
    data = build(world)
    with freeze_time(NOW):
        sign_in_as(web_client, world.users["manager"])
        page = web_client.get("/reports/overdue").get_data(as_text=True)
    reference = data.claims["C6"].reference
    assert f'<a href="/claims/{reference}">{reference}</a>' in page
    assert "787,5" in page


def test_english_on_request(web_client, world):
    sign_in_as(web_client, world.users["manager"])
    page = web_client.get("/reports/sla?lang=en").get_data(as_text=True)
    assert "<h1>SLA compliance</h1>" in page
    assert "Category or domain" in page


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-02-30", "from"),
        ("agency=LYON", "agency"),
        ("channel=pigeon", "channel"),
        ("from=2026-03-10&to=2026-03-01", "to"),
    ],
)
def test_a_bad_filter_is_named_on_its_field(web_client, world, query, field):
    sign_in_as(web_client, world.users["manager"])
    response = web_client.get(f"/reports/volumes?{query}")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="f-{field}" ' in page
    assert f'id="f-{field}-error"' in page
    assert re.search(rf'id="f-{field}"[^>]*aria-invalid="true"', page)


def test_all_agrees_with_each_filters_noun(web_client, world):
    sign_in_as(web_client, world.users["manager"])
    page = web_client.get("/reports/volumes").get_data(as_text=True)

    def blank(field: str, html: str) -> str:
        found = re.search(
            rf'<select id="f-{field}"[^>]*>\s*<option value="">([^<]*)</option>', html
        )
        assert found, field
        return found.group(1)

    assert blank("channel", page) == "Tous"
    assert blank("contractor", page) == "Tous"
    for field in ("territory", "agency", "residence", "category", "unit"):
        assert blank(field, page) == "Toutes"
    english = web_client.get("/reports/volumes?lang=en").get_data(as_text=True)
    assert blank("channel", english) == blank("agency", english) == "All"
