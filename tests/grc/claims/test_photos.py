"""Photos on claims through the API: what is kept (upright, at most 2048 px, a JPEG without
metadata), what is refused and how, who may add and see them."""

from __future__ import annotations

import io
import threading
from dataclasses import replace
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from grc.claims.models import Claim, ClaimPhoto
from grc.claims.photos import MAX_PHOTOS_PER_CLAIM, add_photo, safe_filename
from grc.db import utcnow
from grc.extensions import db
from tests.factories import World, claim_payload
from tests.grc.claims.photo_files import (
    BLUE,
    CAMERA_MAKE,
    GPS_IFD,
    RED,
    bomb_png,
    opened,
    phone_heic,
    phone_jpeg,
    small_png,
    transparent_png,
    webp,
)

PHOTO_FIELDS = {
    "id",
    "filename",
    "content_type",
    "size",
    "width",
    "height",
    "source",
    "created_at",
    "url",
}


def _claim(client: FlaskClient, world: World, **overrides: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v1/claims", json=claim_payload(world, **overrides), headers=world.headers("agent")
    )
    assert response.status_code == 201, response.json
    return response.json


def _upload(
    client: FlaskClient,
    claim_id: int,
    data: bytes,
    filename: str = "photo.jpg",
    user: str = "agent",
    world: World | None = None,
    content_type: str = "image/jpeg",
) -> Any:
    assert world is not None
    return client.post(
        f"/api/v1/claims/{claim_id}/photos",
        data={"file": (io.BytesIO(data), filename, content_type)},
        headers=world.headers(user),
        content_type="multipart/form-data",
    )


def _stored(photo_id: int) -> ClaimPhoto:
    db.session.expire_all()
    return db.session.get(ClaimPhoto, photo_id)


def _near(pixel: tuple[int, ...], colour: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 12 for a, b in zip(pixel, colour, strict=True))


@pytest.fixture
def attachment_limit(app: Flask, monkeypatch: pytest.MonkeyPatch):
    """Sets GRC_ATTACHMENT_MAX_BYTES for one test."""

    def set_limit(limit: int) -> None:
        settings = app.extensions["grc_settings"]
        monkeypatch.setitem(
            app.extensions, "grc_settings", replace(settings, attachment_max_bytes=limit)
        )

    return set_limit


def test_a_phone_photo_is_kept_upright_downscaled_and_without_its_metadata(client, world):
    claim = _claim(client, world)
    original = phone_jpeg(3000, 2000)

    response = _upload(client, claim["id"], original, "IMG_2031.JPG", world=world)

    assert response.status_code == 201, response.json
    photo = response.json
    assert set(photo) == PHOTO_FIELDS
    assert photo["content_type"] == "image/jpeg"
    assert photo["source"] == "upload"
    assert photo["filename"] == "IMG_2031.jpg"
    # Turned upright (orientation 6: a quarter turn), then 2048 px on the longest side.
    assert (photo["width"], photo["height"]) == (1365, 2048)
    assert photo["url"] == f"/api/v1/claims/{claim['id']}/photos/{photo['id']}"

    stored = _stored(photo["id"])
    assert stored.size == len(stored.data) == photo["size"]
    image = opened(stored.data)
    assert image.format == "JPEG"
    assert image.mode == "RGB"
    assert image.size == (1365, 2048)
    # The red left third of the sensor is now at the top, as the tenant saw it.
    assert _near(image.getpixel((680, 20)), RED)
    assert _near(image.getpixel((680, 2030)), BLUE)
    # Nothing of the phone's metadata is kept: no orientation, no make, no GPS position.
    assert dict(image.getexif()) == {}
    assert dict(image.getexif().get_ifd(GPS_IFD)) == {}
    assert "exif" not in image.info
    assert b"Exif" not in stored.data
    assert CAMERA_MAKE.encode() not in stored.data


def test_an_iphone_heic_photo_is_kept_upright_as_a_jpeg_without_its_metadata(client, world):
    claim = _claim(client, world)
    original = phone_heic(1200, 800)
    assert original[4:12] == b"ftypheic"

    response = _upload(
        client, claim["id"], original, "IMG_4021.HEIC", world=world, content_type="image/heic"
    )

    assert response.status_code == 201, response.json
    assert (response.json["filename"], response.json["width"], response.json["height"]) == (
        "IMG_4021.jpg",
        800,
        1200,
    )
    stored = _stored(response.json["id"])
    image = opened(stored.data)
    assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (800, 1200))
    # Turned once, not twice: the red third is at the top.
    assert _near(image.getpixel((400, 20)), RED)
    assert _near(image.getpixel((400, 1180)), BLUE)
    assert dict(image.getexif()) == {}
    assert b"Exif" not in stored.data
    assert CAMERA_MAKE.encode() not in stored.data


def test_a_heic_photo_with_too_many_pixels_is_refused_before_it_is_decoded(
    client, world, monkeypatch
):
    import grc.claims.photos

    monkeypatch.setattr(grc.claims.photos, "MAX_PIXELS", 1200 * 800 - 1)
    claim = _claim(client, world)

    response = _upload(client, claim["id"], phone_heic(1200, 800), "IMG_4022.HEIC", world=world)

    assert response.status_code == 422, response.json
    assert "too many pixels" in response.json["message"]


def test_a_transparent_png_and_a_webp_become_jpegs(client, world):
    claim = _claim(client, world)

    png = _upload(client, claim["id"], transparent_png(), "plan.png", world=world)
    assert png.status_code == 201, png.json
    assert (png.json["filename"], png.json["width"], png.json["height"]) == ("plan.jpg", 200, 100)
    image = opened(_stored(png.json["id"]).data)
    assert image.format == "JPEG"
    assert _near(image.getpixel((10, 10)), RED)
    assert _near(image.getpixel((150, 80)), (255, 255, 255))  # transparency on white

    # The declared type and the name do not matter, only the bytes.
    other = _upload(client, claim["id"], webp(), "sans-nom", world=world, content_type="text/plain")
    assert other.status_code == 201, other.json
    assert (other.json["filename"], other.json["width"]) == ("sans-nom.jpg", 64)
    assert opened(_stored(other.json["id"]).data).format == "JPEG"


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("IMG_0001.HEIC.png", "IMG_0001.HEIC.jpg"),
        ("C:\\Users\\Élodie\\Fuite.PNG", "Fuite.jpg"),
        ("../../etc/passwd", "passwd.jpg"),
        ('fuite\r\n"; x=1.jpg', "fuite x=1.jpg"),
        (".jpg", "photo.jpg"),
        ("", "photo.jpg"),
        ("é" * 300 + ".png", "é" * 251 + ".jpg"),
    ],
)
def test_the_filename_kept_is_a_plain_name_ending_in_jpg(sent, kept):
    assert safe_filename(sent) == kept


def test_the_filename_loses_its_folders_and_keeps_its_accents(client, world):
    claim = _claim(client, world)
    response = _upload(client, claim["id"], small_png(), "../etc/Fenêtre cassée.png", world=world)
    assert response.status_code == 201, response.json
    assert response.json["filename"] == "Fenêtre cassée.jpg"

    image = client.get(response.json["url"], headers=world.headers("agent"))
    disposition = image.headers["Content-Disposition"]
    assert disposition.startswith("inline; filename=")
    assert "filename*=UTF-8''Fen%C3%AAtre%20cass%C3%A9e.jpg" in disposition


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        pytest.param(b"Bonjour, voici la photo.", "photo.jpg", "not a JPEG", id="text"),
        pytest.param(b"%PDF-1.7\n1 0 obj\n<< >>\nendobj\n", "devis.jpg", "not a JPEG", id="pdf"),
        pytest.param(phone_jpeg(300, 200)[:2000], "coupee.jpg", "not a JPEG", id="truncated"),
        pytest.param(
            b"\x00\x00\x00\x18ftypheic" + bytes(200), "IMG_1.HEIC", "not a JPEG", id="bad-heic"
        ),
        pytest.param(phone_heic(600, 400)[:500], "IMG_2.HEIC", "not a JPEG", id="truncated-heic"),
        # Pillow's own error, Pillow's warning, and the 40-megapixel limit below both.
        pytest.param(bomb_png(50_000, 50_000), "bombe.png", "too many pixels", id="bomb"),
        pytest.param(bomb_png(10_000, 10_000), "bombe.png", "too many pixels", id="bomb-warning"),
        pytest.param(bomb_png(8_000, 6_000), "grande.png", "too many pixels", id="48-megapixels"),
    ],
)
def test_what_is_not_a_photo_we_can_keep_is_refused_on_the_file_field(
    client, world, data, filename, message
):
    claim = _claim(client, world)

    response = _upload(client, claim["id"], data, filename, world=world)

    assert response.status_code == 422, response.json
    assert message in response.json["message"]
    assert list(response.json["errors"]["files"]) == ["file"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClaimPhoto)) == 0


def test_an_upload_without_a_file_names_the_file_field(client, world):
    claim = _claim(client, world)
    url = f"/api/v1/claims/{claim['id']}/photos"

    no_file = client.post(
        url,
        data={"note": "oubliée"},
        headers=world.headers("agent"),
        content_type="multipart/form-data",
    )
    assert no_file.status_code == 422
    assert "file" in no_file.json["errors"]["files"]

    as_json = client.post(url, json={"file": "photo.jpg"}, headers=world.headers("agent"))
    assert as_json.status_code == 422
    assert "file" in as_json.json["errors"]["files"]


def test_a_photo_over_the_attachment_limit_is_a_413_in_json(client, world, attachment_limit):
    claim = _claim(client, world)
    original = phone_jpeg(600, 400)
    attachment_limit(len(original) - 1)

    # Just over: read, measured and refused by add_photo.
    just_over = _upload(client, claim["id"], original, world=world)
    assert just_over.status_code == 413
    assert just_over.is_json
    assert just_over.json["errors"]["files"]["file"] == [f"At most {len(original) - 1} bytes."]

    # Far over: refused from its Content-Length, before the body is read.
    attachment_limit(1000)
    far_over = _upload(client, claim["id"], original + bytes(70_000), world=world)
    assert far_over.status_code == 413
    assert far_over.is_json
    assert far_over.json["message"] == "The photo is over the 1000-byte limit."
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClaimPhoto)) == 0


def test_a_claim_takes_ten_photos_and_no_more(client, world):
    claim_id = _claim(client, world)["id"]
    claim = db.session.get(Claim, claim_id)
    for n in range(MAX_PHOTOS_PER_CLAIM):
        add_photo(db.session, claim, f"{n}.png", small_png(), world.users["agent"], utcnow())
    db.session.commit()

    response = _upload(client, claim_id, small_png(), world=world)

    assert response.status_code == 409
    assert "at most 10 photos" in response.json["message"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClaimPhoto)) == 10


@pytest.mark.parametrize("action", ["cancel", "close"])
def test_a_closed_or_cancelled_claim_takes_no_photo(client, world, action):
    claim_id = _claim(client, world)["id"]
    steps = (
        [{"action": "cancel", "comment": "Doublon."}]
        if action == "cancel"
        else [
            {"action": "start"},
            {"action": "resolve", "comment": "Joint changé."},
            {"action": "close"},
        ]
    )
    for step in steps:
        moved = client.post(
            f"/api/v1/claims/{claim_id}/transitions", json=step, headers=world.headers("metz_tech")
        )
        assert moved.status_code == 200, moved.json

    response = _upload(client, claim_id, small_png(), world=world)

    assert response.status_code == 409
    assert "takes no more photos" in response.json["message"]


def test_the_claim_lists_its_photos_without_their_bytes_and_notes_each_on_its_timeline(
    client, world
):
    claim_id = _claim(client, world)["id"]
    first = _upload(client, claim_id, small_png(), "salon.png", world=world).json
    second = _upload(client, claim_id, phone_jpeg(800, 600), "cuisine.jpg", world=world).json

    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    db.session.expire_all()  # read back from the database, not from this test's session
    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        detail = client.get(f"/api/v1/claims/{claim_id}", headers=world.headers("agent"))
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)

    assert detail.status_code == 200
    assert [p["id"] for p in detail.json["photos"]] == [first["id"], second["id"]]
    assert detail.json["photos"][1] == second
    assert all(set(p) == PHOTO_FIELDS for p in detail.json["photos"])
    photo_queries = [s for s in statements if "claim_photos" in s]
    assert photo_queries  # the list came from the database…
    assert not any("claim_photos.data" in s for s in photo_queries)  # …without the images

    notes = [e for e in detail.json["events"] if (e["body"] or "").startswith("Photo ajoutée")]
    assert [(e["body"], e["changes"], e["visibility"], e["kind"]) for e in notes] == [
        ("Photo ajoutée : salon.jpg", {"photo_id": first["id"]}, "internal", "comment"),
        ("Photo ajoutée : cuisine.jpg", {"photo_id": second["id"]}, "internal", "comment"),
    ]
    assert notes[0]["actor"]["id"] == world.users["agent"].id


def test_the_image_is_served_as_a_jpeg_that_is_never_sniffed(client, world):
    claim_id = _claim(client, world)["id"]
    photo = _upload(client, claim_id, phone_jpeg(800, 600), "salle de bain.jpg", world=world).json

    response = client.get(photo["url"], headers=world.headers("agent"))

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"] == 'inline; filename="salle de bain.jpg"'
    assert response.headers["Cache-Control"] == "private, max-age=3600"
    assert response.data == _stored(photo["id"]).data
    assert opened(response.data).size == (600, 800)


def test_a_photo_is_only_reached_through_its_own_claim(client, world):
    first = _claim(client, world)["id"]
    other = _claim(client, world, dwelling_id=world.dwellings["TIL-12"].id)["id"]
    photo = _upload(client, first, small_png(), world=world).json

    wrong_claim = client.get(
        f"/api/v1/claims/{other}/photos/{photo['id']}", headers=world.headers("agent")
    )
    assert wrong_claim.status_code == 404
    assert wrong_claim.is_json
    missing = client.get(f"/api/v1/claims/{first}/photos/999999", headers=world.headers("agent"))
    assert missing.status_code == 404


def test_who_may_add_and_see_photos(client, world):
    # A leak at Metz: the contractor's claim, supervised by Metz's technical unit.
    claim_id = _claim(client, world)["id"]
    by_unit = _upload(client, claim_id, small_png(), user="metz_tech", world=world)
    assert by_unit.status_code == 201, by_unit.json
    url = by_unit.json["url"]

    # Another unit's user does not see the claim: neither its photos nor a way to add one.
    assert _upload(client, claim_id, small_png(), user="woippy_tech", world=world).status_code == (
        404
    )
    assert client.get(url, headers=world.headers("woippy_tech")).status_code == 404

    # Managers and admins read but do not comment, so they add no photo.
    for role in ("manager", "admin"):
        assert _upload(client, claim_id, small_png(), user=role, world=world).status_code == 403
        seen = client.get(url, headers=world.headers(role))
        assert seen.status_code == 200
        assert seen.headers["Content-Type"] == "image/jpeg"

    assert client.get(url).status_code == 401
    assert client.post(f"/api/v1/claims/{claim_id}/photos").status_code == 401
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClaimPhoto)) == 1


def test_the_openapi_document_describes_the_upload(client):
    paths = client.get("/api/openapi.json").json["paths"]
    upload = paths["/api/v1/claims/{claim_id}/photos"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert {"201", "409", "413", "422"} <= set(upload["responses"])
    image = paths["/api/v1/claims/{claim_id}/photos/{photo_id}"]["get"]
    assert "image/jpeg" in image["responses"]["200"]["content"]


def test_concurrent_uploads_never_go_past_ten_photos(app_ctx, client, world, backend):
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers; concurrency is a PostgreSQL matter")
    claim_id = _claim(client, world)["id"]
    claim = db.session.get(Claim, claim_id)
    for n in range(MAX_PHOTOS_PER_CLAIM - 2):
        add_photo(db.session, claim, f"{n}.png", small_png(), None, utcnow())
    db.session.commit()
    barrier = threading.Barrier(6)
    statuses: list[int] = []
    lock = threading.Lock()

    def upload() -> None:
        own_client = app_ctx.test_client()  # each request gets its own application context
        barrier.wait()
        response = _upload(own_client, claim_id, small_png(), world=world)
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=upload) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [201, 201, 409, 409, 409, 409]
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClaimPhoto)) == 10
