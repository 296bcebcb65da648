"""The claim list's export: the queue's filters, streamed up to the limit, a background job
above it (one per request while it runs), its page, progress and download, scoped to who
asked."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from grc.claims.models import Claim
from grc.exports import operations, registry
from grc.exports.models import ExportFormat, ExportJob, ExportStatus
from grc.extensions import db
from grc.people.models import Role
from tests.factories import World
from tests.grc.exports.helpers import T0, claims, recorded_hand_overs
from tests.grc.exports.xlsx import read_sheet
from tests.pages import PageClient, csrf_token, sign_in_as
from workers.exports import run_export
from workers.jobs import export_housekeeping


def _csv(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def test_a_manager_exports_the_claim_list_as_csv(world: World, web_client) -> None:
    made = claims(world, 3)
    db.session.execute(
        sa.update(Claim)
        .where(Claim.id == made[0].id)
        .values(
            description="=cmd",
            resolved_at=T0 + timedelta(hours=2),
            resolution_due=T0 + timedelta(hours=5),
            status="resolved",
        )
    )
    db.session.commit()
    sign_in_as(web_client, world.users["manager"])
    response = web_client.get("/reports/claims/export.csv?status=all")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="demandes-')
    rows = _csv(response.data)
    assert rows[0][:5] == ["Référence", "Créée le", "Canal", "Catégorie", "Statut"]
    assert len(rows) == 4
    # Newest first, as the list; dates in Paris time (UTC+1 in November).
    assert [r[0] for r in rows[1:]] == [c.reference for c in reversed(made)]
    oldest = rows[3]
    assert oldest[1] == "02/11/2026 09:00"
    assert oldest[2] == "Téléphone"
    assert oldest[3].startswith("PLB-FUITE — ")
    assert oldest[4] == "Résolue"
    assert oldest[6] == "Metz"
    assert oldest[7] == "TIL Les Tilleuls"
    assert oldest[8].endswith("57000 Metz")
    assert oldest[13] == "02/11/2026 11:00"
    assert oldest[15] == "Dans les délais"


def test_filters_are_the_queues(world: World, web_client) -> None:
    claims(world, 2)
    claims(world, 1, dwelling="HAUS-11")
    sign_in_as(web_client, world.users["manager"])
    nancy = world.agencies["NANCY"].id
    rows = _csv(web_client.get(f"/reports/claims/export.csv?agency={nancy}").data)
    assert len(rows) == 2
    assert rows[1][6] == "Nancy"
    rows = _csv(web_client.get("/reports/claims/export.csv?residence=til").data)
    assert len(rows) == 3
    rows = _csv(web_client.get("/reports/claims/export.csv?status=closed").data)
    assert len(rows) == 1


def test_bad_filters_are_named(world: World, web_client) -> None:
    sign_in_as(web_client, world.users["manager"])
    response = web_client.get("/reports/claims/export.csv?residence=NOPE")
    assert response.status_code == 422
    assert "residence" in response.get_data(as_text=True)
    response = web_client.get("/reports/claims/export.csv?agency=abc")
    assert response.status_code == 422
    assert "agency" in response.get_data(as_text=True)
    assert web_client.get("/reports/nothing/export.csv").status_code == 404
    assert web_client.get("/reports/claims/export.pdf").status_code == 404


def test_a_unit_user_exports_only_their_units_claims(world: World, web_client) -> None:
    claims(world, 2)  # Metz technical unit
    claims(world, 1, dwelling="PARC-11")  # Woippy
    sign_in_as(web_client, world.users["woippy_tech"])
    rows = _csv(web_client.get("/reports/claims/export.csv?status=all").data)
    assert len(rows) == 2
    assert web_client.get("/reports/claims/export.csv?unit=METZ-technique").status_code == 404


def test_xlsx_streamed_at_once(world: World, web_client) -> None:
    made = claims(world, 2)
    sign_in_as(web_client, world.users["manager"])
    response = web_client.get("/reports/claims/export.xlsx")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert ".xlsx" in response.headers["Content-Disposition"]
    rows, _quoted = read_sheet(response.data)
    assert rows[0][0] == "Référence"
    assert [r[0] for r in rows[1:]] == [c.reference for c in reversed(made)]


@pytest.fixture
def small_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(operations, "STREAM_LIMIT", 2)
    monkeypatch.setattr(operations, "BATCH_ROWS", 2)
    monkeypatch.setattr(operations, "READ_ROWS", 2)


def test_above_the_limit_a_job_once_per_request(
    app_ctx: Flask, world: World, web_client, small_limit
) -> None:
    claims(world, 5)
    sign_in_as(web_client, world.users["manager"])
    address = "/reports/claims/export.csv?status=all"
    page = web_client.get(address)
    assert page.status_code == 200
    assert "Préparer le fichier CSV" in page.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(ExportJob.id))) == 0  # a GET asks nothing
    token = csrf_token(web_client, address)
    with recorded_hand_overs(app_ctx) as handed:
        first = web_client.post(address, data={"csrf_token": token})
        second = web_client.post(address, data={"csrf_token": token})  # a double click
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    job = db.session.execute(sa.select(ExportJob)).scalar_one()
    assert handed == [job.id]
    assert (job.kind, job.format, job.filters, job.status) == (
        "claims",
        "csv",
        {"status": "all"},
        ExportStatus.PENDING,
    )
    # Another format is another request.
    with recorded_hand_overs(app_ctx):
        web_client.post(address.replace(".csv", ".xlsx"), data={"csrf_token": token})
    assert db.session.scalar(sa.select(sa.func.count(ExportJob.id))) == 2


def test_the_job_writes_the_file_with_its_progress(
    app_ctx: Flask, world: World, web_client, small_limit, monkeypatch
) -> None:
    made = claims(world, 5)
    world.add_user("manager2", Role.MANAGER)
    db.session.commit()
    other = sign_in_as(
        PageClient(app_ctx, app_ctx.response_class, use_cookies=True), world.users["manager2"]
    )
    sign_in_as(web_client, world.users["manager"])
    address = "/reports/claims/export.xlsx?status=all"
    with recorded_hand_overs(app_ctx):
        location = web_client.post(
            address, data={"csrf_token": csrf_token(web_client, address)}
        ).headers["Location"]
    job_id = db.session.execute(sa.select(ExportJob.id)).scalar_one()
    assert location.endswith(f"/exports/{job_id}")
    waiting = web_client.get(location).get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in waiting
    assert "<progress" in waiting

    seen: list[int] = []
    write_progress = operations.write_export

    def watching(session, job, directory, clock=operations.utcnow):
        from grc.exports import writers

        original = writers.counted

        def counted(rows, progress, every=writers.PROGRESS_EVERY):
            def recorded(done: int) -> None:
                progress(done)
                seen.append(db.session.execute(sa.select(ExportJob.rows_done)).scalar_one())

            return original(rows, recorded, every)

        monkeypatch.setattr(operations, "counted", counted)
        return write_progress(session, job, directory, clock)

    monkeypatch.setattr(operations, "write_export", watching)
    assert run_export(job_id) == "rows=5"
    assert seen == [2, 4, 5]  # committed every batch
    assert run_export(job_id) == "not pending"  # handed over twice, run once

    db.session.expire_all()
    job = db.session.get_one(ExportJob, job_id)
    assert (job.status, job.rows_done, job.rows_total) == (ExportStatus.DONE, 5, 5)
    page = web_client.get(location).get_data(as_text=True)
    assert "hx-trigger" not in page
    assert "Le fichier est prêt." in page
    progress = web_client.get(f"{location}/progress").get_data(as_text=True)
    assert "hx-trigger" not in progress

    download = web_client.get(f"{location}/download")
    assert download.status_code == 200
    assert download.headers["Cache-Control"] == "no-store"
    rows, _quoted = read_sheet(download.data)
    download.close()
    assert [r[0] for r in rows[1:]] == [c.reference for c in reversed(made)]

    # Nobody else sees the job or its file.
    for path in (location, f"{location}/progress", f"{location}/download"):
        answer = other.get(path)
        assert answer.status_code == 404, answer.headers.get("Location")


def test_a_failed_job_says_so(app_ctx: Flask, world: World, web_client, small_limit, monkeypatch):
    claims(world, 3)
    sign_in_as(web_client, world.users["manager"])
    address = "/reports/claims/export.csv"
    with recorded_hand_overs(app_ctx):
        web_client.post(address, data={"csrf_token": csrf_token(web_client, address)})
    job_id = db.session.execute(sa.select(ExportJob.id)).scalar_one()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(operations, "write_csv", broken)
    assert run_export(job_id) == "failed"
    db.session.expire_all()
    job = db.session.get_one(ExportJob, job_id)
    assert (job.status, job.error) == (ExportStatus.FAILED, "OSError")
    assert "L'export a échoué" in web_client.get(f"/exports/{job_id}").get_data(as_text=True)
    assert list(operations.exports_directory().glob("*.part")) == []


def test_housekeeping_deletes_expired_files(
    app_ctx: Flask, world: World, web_client, small_limit
) -> None:
    claims(world, 3)
    sign_in_as(web_client, world.users["manager"])
    address = "/reports/claims/export.csv"
    with recorded_hand_overs(app_ctx) as handed:
        web_client.post(address, data={"csrf_token": csrf_token(web_client, address)})
        run_export(handed[0])
        job = db.session.get_one(ExportJob, handed[0])
        path = Path(operations.exports_directory()) / str(job.file_name)
        assert path.is_file()
        assert export_housekeeping().startswith("deleted=0")
        db.session.execute(
            sa.update(ExportJob).values(expires_at=job.finished_at)  # past already
        )
        db.session.commit()
        assert export_housekeeping().startswith("deleted=1")
    assert not path.exists()
    db.session.expire_all()
    assert db.session.get_one(ExportJob, handed[0]).status == ExportStatus.EXPIRED
    assert web_client.get(f"/exports/{handed[0]}/download").status_code == 404


def test_the_queue_links_to_its_export(world: World, web_client) -> None:
    claims(world, 1)
    sign_in_as(web_client, world.users["metz_tech"])
    page = web_client.get("/unit/METZ-technique?status=all&page=1").get_data(as_text=True)
    assert "/reports/claims/export.csv?status=all&amp;unit=METZ-technique" in page
    assert "/reports/claims/export.xlsx?status=all&amp;unit=METZ-technique" in page


def test_a_report_table_is_exported_through_the_registry(world: World, web_client) -> None:
    from dataclasses import dataclass

    from grc.auth import Permission
    from grc.errors import InvalidInput
    from grc.exports import registry
    from grc.exports.writers import Column, Kind

    @dataclass
    class Table:
        columns: list[object]
        rows: list[tuple[object, ...]]

    def parse(session, user, args):
        if args.get("year", "2026") != "2026":
            raise InvalidInput({"year": ["Not a year with figures."]})
        return int(args.get("year", "2026"))

    def report(session, user, year, now):
        return Table(
            [Column("agency", "Agence"), Column("share", "Part à l'heure", Kind.DECIMAL), "n"],
            [("Metz", 0.875, 8), ("=Nancy", None, 0)],
        )

    registry.register_table("test-sla", "SLA", Permission.RATINGS_READ, parse, report)
    try:
        sign_in_as(web_client, world.users["manager"])
        rows = _csv(web_client.get("/reports/test-sla/export.csv?year=2026").data)
        assert rows == [
            ["Agence", "Part à l'heure", "n"],
            ["Metz", "0,875", "8"],
            ["'=Nancy", "", "0"],
        ]
        response = web_client.get("/reports/test-sla/export.csv?year=1990")
        assert response.status_code == 422
        assert "year" in response.get_data(as_text=True)
        sheet, quoted = read_sheet(web_client.get("/reports/test-sla/export.xlsx").data)
        assert sheet[1] == ["Metz", "0.875", "8"]
        assert "A3" in quoted
        # A role without the report's permission is refused.
        sign_in_as(web_client, world.users["agent"])
        assert web_client.get("/reports/test-sla/export.csv").status_code == 403
    finally:
        registry._SOURCES.pop("test-sla")


def test_without_redis_a_thread_of_the_process_writes_it(
    app_ctx: Flask, world: World, web_client, small_limit
) -> None:
    import threading

    claims(world, 3)
    sign_in_as(web_client, world.users["manager"])
    address = "/reports/claims/export.csv"
    web_client.post(address, data={"csrf_token": csrf_token(web_client, address)})
    job_id = db.session.execute(sa.select(ExportJob.id)).scalar_one()
    db.session.rollback()
    for thread in threading.enumerate():
        if thread.name == f"export-{job_id}":
            thread.join(timeout=30)
    db.session.expire_all()
    job = db.session.get_one(ExportJob, job_id)
    assert (job.status, job.rows_done) == (ExportStatus.DONE, 3)
    download = web_client.get(f"/exports/{job_id}/download")
    rows = _csv(download.data)
    download.close()
    assert len(rows) == 4


def test_the_job_reads_fewer_rows_at_a_time_than_it_commits_its_progress(
    app_ctx: Flask, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Statements of two rows, progress every three: a commit falls inside a batch read
    # before it, and no row is lost or written twice at the batches' edges.
    made = claims(world, 7)
    monkeypatch.setattr(operations, "READ_ROWS", 2)
    monkeypatch.setattr(operations, "BATCH_ROWS", 3)
    manager = world.users["manager"]
    source = registry.get("claims")
    request = source.parse(db.session, manager, {"status": "all"})
    job, _ = operations.request_export(
        db.session, manager, source, request, ExportFormat.CSV, "fr", T0
    )
    db.session.commit()
    assert run_export(job.id) == "rows=7"
    db.session.expire_all()
    done = db.session.get_one(ExportJob, job.id)
    path = operations.file_path(done, operations.exports_directory())
    assert path is not None
    rows = _csv(path.read_bytes())
    assert [r[0] for r in rows[1:]] == [c.reference for c in reversed(made)]
