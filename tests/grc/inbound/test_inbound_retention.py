"""The retention rule of inbound e-mail: the post as received is deleted once processing has
finished with it for GRC_INBOUND_ORIGINAL_DAYS; what was kept from it stays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from grc.extensions import db
from grc.inbound.models import InboundAttachment, InboundEmail, InboundStatus
from grc.inbound.operations import ORIGINAL_NO_LONGER_NEEDED, delete_old_originals, store_inbound

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
POST = b'--b\r\nContent-Disposition: form-data; name="email"\r\n\r\nFrom: a@b.test\r\n--b--'


def _email(status: InboundStatus, processed_days_ago: float | None, **kept: object) -> int:
    email_id = store_inbound(db.session, "multipart/form-data; boundary=b", POST, NOW)
    inbound = db.session.get(InboundEmail, email_id)
    inbound.status = status
    if processed_days_ago is not None:
        inbound.processed_at = NOW - timedelta(days=processed_days_ago)
    for name, value in kept.items():
        setattr(inbound, name, value)
    db.session.commit()
    return email_id


def _reload(email_id: int) -> InboundEmail:
    db.session.expire_all()
    return db.session.get(InboundEmail, email_id)


@pytest.mark.parametrize("status", list(InboundStatus))
def test_only_finished_e_mails_lose_their_original_after_the_delay(app_ctx, status):
    old = _email(status, processed_days_ago=91)
    recent = _email(status, processed_days_ago=89)

    deleted = delete_old_originals(db.session, NOW, keep_days=90, limit=100)
    db.session.commit()

    finished = status in ORIGINAL_NO_LONGER_NEEDED
    assert deleted == (1 if finished else 0)
    assert _reload(old).raw_post == (b"" if finished else POST)
    assert _reload(old).original_deleted_at == (NOW if finished else None)
    # Within the delay, whatever the status, the original stays.
    assert (_reload(recent).raw_post, _reload(recent).original_deleted_at) == (POST, None)


def test_the_waiting_ones_keep_their_original_for_a_person(app_ctx):
    # A person sends these through processing again, from the original, however old.
    assert set(InboundStatus) - set(ORIGINAL_NO_LONGER_NEEDED) == {
        InboundStatus.RECEIVED,
        InboundStatus.UNREADABLE,
        InboundStatus.TRIAGE,
        InboundStatus.INTAKE,
    }


def test_what_was_kept_stays(app_ctx):
    email_id = _email(
        InboundStatus.APPLIED,
        processed_days_ago=200,
        from_address="ordres@multiservices.test",
        subject="Re: Ordre de travaux",
        new_text="Intervention faite ce matin.",
        html="<p>Intervention faite ce matin.</p>",
    )
    db.session.add(
        InboundAttachment(
            email_id=email_id, filename="photo.jpg", content_type="image/jpeg", size=3, data=b"jpg"
        )
    )
    db.session.commit()

    assert delete_old_originals(db.session, NOW, keep_days=90, limit=100) == 1
    db.session.commit()

    inbound = _reload(email_id)
    assert inbound.raw_post == b""
    assert (inbound.from_address, inbound.subject, inbound.new_text, inbound.html) == (
        "ordres@multiservices.test",
        "Re: Ordre de travaux",
        "Intervention faite ce matin.",
        "<p>Intervention faite ce matin.</p>",
    )
    assert [(a.filename, a.data) for a in inbound.attachments] == [("photo.jpg", b"jpg")]


def test_a_backlog_goes_oldest_first_in_batches_and_a_second_run_changes_nothing(app_ctx):
    ids = [_email(InboundStatus.FILED, processed_days_ago=100 + n) for n in range(5)]

    assert delete_old_originals(db.session, NOW, keep_days=90, limit=2) == 2
    db.session.commit()
    assert [_reload(i).original_deleted_at is not None for i in ids] == [1, 1, 0, 0, 0]

    later = NOW + timedelta(hours=1)
    assert delete_old_originals(db.session, later, keep_days=90, limit=10) == 3
    db.session.commit()
    assert delete_old_originals(db.session, later, keep_days=90, limit=10) == 0
    # The first ones keep the date they were emptied on.
    assert _reload(ids[0]).original_deleted_at == NOW


def test_the_job_uses_the_configured_delay(app_ctx, monkeypatch):
    from dataclasses import replace

    from workers.jobs import delete_old_inbound_originals

    settings = app_ctx.extensions["grc_settings"]
    monkeypatch.setitem(
        app_ctx.extensions, "grc_settings", replace(settings, inbound_original_days=30)
    )
    past = _email(InboundStatus.DUPLICATE, processed_days_ago=31)
    within = _email(InboundStatus.DUPLICATE, processed_days_ago=29)

    with freeze_time(NOW):
        assert delete_old_inbound_originals() == "deleted=1"
        assert delete_old_inbound_originals() == "deleted=0"
    assert _reload(past).raw_post == b""
    assert _reload(within).raw_post == POST


def test_the_command_works_off_a_whole_backlog(app_ctx, monkeypatch):
    import workers.jobs

    monkeypatch.setattr(workers.jobs, "RETENTION_BATCH", 2)
    ids = [_email(InboundStatus.APPLIED, processed_days_ago=365) for _ in range(5)]

    with freeze_time(NOW):
        result = app_ctx.test_cli_runner().invoke(args=["grc", "retention"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "deleted=5"
    assert all(_reload(i).raw_post == b"" for i in ids)


def test_the_cron_process_runs_it_hourly(monkeypatch):
    import runpy
    from pathlib import Path

    from rq import cron

    import workers
    from workers import jobs

    registered: list[dict[str, object]] = []
    monkeypatch.setattr(
        cron, "register", lambda func, **options: registered.append({"func": func, **options})
    )
    runpy.run_path(str(Path(workers.__file__).with_name("cron.py")))

    [job] = [j for j in registered if j["func"] is jobs.delete_old_inbound_originals]
    assert job["interval"] == 3600


def test_an_e_mail_without_its_original_is_not_processed_again(app_ctx, world):
    email_id = _email(
        InboundStatus.REVIEW,
        processed_days_ago=120,
        original_deleted_at=NOW - timedelta(days=30),
    )
    client = app_ctx.test_client()

    response = client.post(
        f"/api/v1/inbound-emails/{email_id}/reprocess", headers=world.headers("admin")
    )

    assert response.status_code == 409
    assert "deleted on 2026-10-25 under the retention rule" in response.json["message"]
    assert _reload(email_id).status == InboundStatus.REVIEW
    shown = client.get(f"/api/v1/inbound-emails/{email_id}", headers=world.headers("admin"))
    assert shown.json["original_deleted_at"] == "2026-10-25T09:00:00+00:00"


def test_the_delay_is_read_from_the_environment():
    from grc.config import ConfigError, Settings

    assert Settings.from_env({}).inbound_original_days == 90
    assert Settings.from_env({"GRC_INBOUND_ORIGINAL_DAYS": "365"}).inbound_original_days == 365
    with pytest.raises(ConfigError, match="GRC_INBOUND_ORIGINAL_DAYS"):
        Settings.from_env({"GRC_INBOUND_ORIGINAL_DAYS": "0"})
