"""An export too long to stream, in a real browser: the manager asks for it from the claim
list, follows its progress bar (polled every second) until the download link; no
accessibility violation on the confirmation and progress pages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from grc.exports import operations
from grc.exports.models import ExportJob, ExportStatus
from grc.exports.operations import set_runner
from grc.extensions import db
from tests.browser import (
    PHONE,
    axe_violations,
    needs_chromium,
    new_page,
    save_screenshots,
    served_world,
    sign_in,
)
from tests.grc.exports.helpers import claims
from workers.exports import run_export

pytestmark = needs_chromium


@pytest.fixture
def served(
    app: Flask, app_ctx: Flask, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, Any, list[int]]]:
    monkeypatch.setattr(operations, "STREAM_LIMIT", 3)
    monkeypatch.setattr(operations, "BATCH_ROWS", 2)
    monkeypatch.setattr(operations, "READ_ROWS", 2)
    with served_world(app, tmp_path, passwords=("manager",)) as (base, application, world):
        claims(world, 5)
        handed: list[int] = []  # the jobs are run by the test, when it chooses
        set_runner(application, handed.append)
        yield base, world, handed


def test_a_manager_follows_a_long_export(served, chromium_browser) -> None:
    base, world, handed = served
    page = new_page(chromium_browser)
    sign_in(page, base, world.users["manager"].email)
    page.goto(f"{base}/claims?status=all")
    page.get_by_role("link", name="Exporter en XLSX").click()
    page.wait_for_url(f"{base}/reports/claims/export.xlsx?status=all")
    assert "Cet export compte 5 lignes" in page.content()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Préparer le fichier XLSX").click()
    page.wait_for_url(f"{base}/exports/*")
    assert len(handed) == 1

    # As a worker leaves it halfway through a long export.
    db.session.execute(
        sa.update(ExportJob).values(
            status=ExportStatus.RUNNING, rows_total=100_000, rows_done=42_000
        )
    )
    db.session.commit()
    bar = page.get_by_label("Avancement")
    bar.wait_for()
    page.wait_for_function("document.querySelector('progress').value == 42")
    assert "42\u202f000 lignes sur 100\u202f000 écrites (42 %)" in page.content().replace(
        "\xa0", "\u202f"
    )
    save_screenshots(page, "export-progress")
    assert axe_violations(page) == []
    page.set_viewport_size(PHONE)
    assert axe_violations(page) == []

    db.session.execute(sa.update(ExportJob).values(status=ExportStatus.PENDING))
    db.session.commit()
    assert run_export(handed[0]) == "rows=5"
    link = page.get_by_role("link", name="Télécharger")
    link.wait_for(timeout=5000)  # the next poll brings it
    assert "Le fichier est prêt." in page.content()
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.endswith(".xlsx")
    assert axe_violations(page) == []
