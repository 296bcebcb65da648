"""Files on the claim page: the attachments of the e-mails on its timeline, downloaded by
whoever may see the claim, and photos added from the page through the API's operation."""

from __future__ import annotations

import io
import random
import re
from dataclasses import replace

import pytest
import sqlalchemy as sa
from flask import Flask
from PIL import Image
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from grc.claims.models import ClaimPhoto, ClaimStatus, EventKind
from grc.claims.photos import MAX_PHOTOS_PER_CLAIM, add_photo
from grc.db import utcnow
from grc.extensions import db
from tests.grc.claims.helpers import claim_in_status, email_on_claim
from tests.grc.claims.photo_files import small_png
from tests.pages import csrf_token, sign_in_as

# --- attachments ----------------------------------------------------------------------------


def _address(email, attachment):
    return f"/mail/{email.id}/attachments/{attachment.id}"


def test_a_kept_attachment_is_a_download_link_for_the_claims_unit(web_client, world):
    claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    email = email_on_claim(claim, [("devis.pdf", "application/pdf", b"%PDF-1.4 devis")])
    [kept] = email.attachments
    sign_in_as(web_client, world.users["metz_tech"])

    html = web_client.get(f"/claims/{claim.reference}").get_data(as_text=True)
    assert f'<a href="{_address(email, kept)}" download>devis.pdf</a>' in html
    download = web_client.get(_address(email, kept))
    assert download.status_code == 200
    assert download.data == b"%PDF-1.4 devis"
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"] == 'attachment; filename="devis.pdf"'
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Cache-Control"] == "private, no-store"
    assert download.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_a_tenants_email_lists_its_attachments_as_links_too(web_client, world):
    claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    email = email_on_claim(
        claim,
        [("facture.pdf", "application/pdf", b"%PDF facture")],
        kind=EventKind.COMMENT,
        sender="locataire@example.org",
    )
    sign_in_as(web_client, world.users["metz_tech"])
    html = web_client.get(f"/claims/{claim.reference}").get_data(as_text=True)
    assert f'href="{_address(email, email.attachments[0])}"' in html


@pytest.mark.parametrize(
    ("name", "stored_type", "served_type", "disposition"),
    [
        (
            "Relevé d'été.html",
            "text/html",
            "application/octet-stream",
            'attachment; filename="Releve d\'ete.html"; '
            "filename*=UTF-8''Relev%C3%A9%20d%27%C3%A9t%C3%A9.html",
        ),
        (
            "plan.svg",
            "image/svg+xml",
            "application/octet-stream",
            'attachment; filename="plan.svg"',
        ),
        (
            "фото.JPG",
            "IMAGE/JPEG",
            "image/jpeg",
            'attachment; filename="piece-jointe.JPG"; '
            "filename*=UTF-8''%D1%84%D0%BE%D1%82%D0%BE.JPG",
        ),
        (
            'a"b;c\u202egpj.exe',
            "application/x-msdownload",
            "application/octet-stream",
            'attachment; filename="a b c gpj.exe"',
        ),
    ],
)
def test_an_attachment_is_typed_only_when_harmless_and_saved_under_a_safe_name(
    web_client, world, name, stored_type, served_type, disposition
):
    claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    email = email_on_claim(claim, [(name, stored_type, b"<script>alert(1)</script>")])
    sign_in_as(web_client, world.users["metz_tech"])
    download = web_client.get(_address(email, email.attachments[0]))
    assert download.status_code == 200
    assert download.headers["Content-Type"] == served_type
    assert download.headers["Content-Disposition"] == disposition
    assert download.headers["X-Content-Type-Options"] == "nosniff"


def test_another_units_user_gets_404_for_the_attachment(web_client, world):
    claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    email = email_on_claim(claim, [("devis.pdf", "application/pdf", b"%PDF")])
    sign_in_as(web_client, world.users["woippy_tech"])
    assert web_client.get(f"/claims/{claim.reference}").status_code == 404
    assert web_client.get(_address(email, email.attachments[0])).status_code == 404


def test_a_manager_who_reads_the_claim_downloads_its_attachments(web_client, world):
    claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    email = email_on_claim(claim, [("devis.pdf", "application/pdf", b"%PDF")])
    sign_in_as(web_client, world.users["manager"])
    html = web_client.get(f"/claims/{claim.reference}").get_data(as_text=True)
    assert f'href="{_address(email, email.attachments[0])}"' in html
    assert web_client.get(_address(email, email.attachments[0])).status_code == 200


def test_a_refused_attachment_stays_a_name_and_cannot_be_downloaded(web_client, world):
    claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    email = email_on_claim(
        claim,
        [
            ("devis.pdf", "application/pdf", b"%PDF"),
            ("virus.exe", "application/x-msdownload", None),
        ],
    )
    kept, refused = email.attachments
    sign_in_as(web_client, world.users["metz_tech"])
    html = web_client.get(f"/claims/{claim.reference}").get_data(as_text=True)
    assert re.search(
        r"virus\.exe <span class=\"muted\">\([^)]*\)</span> — <span[^>]*>non conservée", html
    )
    assert _address(email, refused) not in html
    assert _address(email, kept) in html
    assert web_client.get(_address(email, refused)).status_code == 404


# --- photos ---------------------------------------------------------------------------------


@pytest.fixture
def attachment_limit(app: Flask, monkeypatch: pytest.MonkeyPatch):
    """Sets GRC_ATTACHMENT_MAX_BYTES for one test."""

    def set_limit(limit: int) -> None:
        settings = app.extensions["grc_settings"]
        monkeypatch.setitem(
            app.extensions, "grc_settings", replace(settings, attachment_max_bytes=limit)
        )

    return set_limit


def _noisy_png(side: int) -> bytes:
    """A PNG that does not compress: about 3 × side² bytes."""
    noise = random.Random(side).randbytes(side * side * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), noise).save(out, "PNG")
    return out.getvalue()


def _upload(web_client, claim, files, *, token=True, page=None):
    """Posts ``files`` (name, bytes) as the page's form does. The body is encoded here, in
    memory: Werkzeug's test client would spool a large one to a file it never closes."""
    fields = {"photos-files": [FileStorage(io.BytesIO(content), name) for name, content in files]}
    if token:
        fields["csrf_token"] = csrf_token(web_client, page or f"/claims/{claim.reference}")
    boundary, body = encode_multipart(MultiDict(fields))
    return web_client.post(
        f"/claims/{claim.reference}/photos",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def _photos(claim):
    return (
        db.session.execute(
            sa.select(ClaimPhoto.filename)
            .where(ClaimPhoto.claim_id == claim.id)
            .order_by(ClaimPhoto.id)
        )
        .scalars()
        .all()
    )


def test_the_upload_form_takes_several_images_and_offers_the_camera(web_client, world):
    claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    sign_in_as(web_client, world.users["metz_tech"])
    html = web_client.get(f"/claims/{claim.reference}").get_data(as_text=True)
    form = re.search(r'<form[^>]*action="/claims/[^"]*/photos"[^>]*>(.*?)</form>', html, re.S)
    assert form is not None
    assert 'enctype="multipart/form-data"' in form.group(0)
    assert 'name="photos-csrf_token"' in form.group(1)
    field = re.search(r"<input[^>]*type=\"file\"[^>]*>", form.group(1)).group(0)
    for attribute in (
        'accept="image/*"',
        'capture="environment"',
        "multiple",
        'name="photos-files"',
    ):
        assert attribute in field
    assert "Jusqu'à 10 photos de plus, de 10 Mo chacune au maximum" in html


def test_a_png_is_added_from_the_page_and_shown_as_a_thumbnail(web_client, world):
    claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    sign_in_as(web_client, world.users["metz_tech"])
    response = _upload(web_client, claim, [("joint.png", small_png())])
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/claims/{claim.reference}")
    assert _photos(claim) == ["joint.jpg"]
    html = web_client.get(f"/claims/{claim.reference}").get_data(as_text=True)
    assert "Photo ajoutée." in html
    [photo_id] = db.session.execute(
        sa.select(ClaimPhoto.id).where(ClaimPhoto.claim_id == claim.id)
    ).scalars()
    thumbnail = re.search(rf'<img src="/claims/[^"]*/photos/{photo_id}"[^>]*>', html).group(0)
    assert 'loading="lazy"' in thumbnail
    assert 'alt="Photo 1 : joint.jpg"' in thumbnail
    assert 'width="160" height="120"' in thumbnail  # 40 × 30
    assert "Photo ajoutée : joint.jpg" in html  # on the timeline


def test_several_photos_over_the_usual_body_limit_in_one_commit(web_client, world):
    claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    big = _noisy_png(700)
    assert len(big) > 1024 * 1024  # beyond the application's limit for other posts
    sign_in_as(web_client, world.users["metz_tech"])
    response = _upload(web_client, claim, [("a.png", big), ("b.png", small_png())])
    assert response.status_code == 302
    assert _photos(claim) == ["a.jpg", "b.jpg"]
    assert "2 photos ajoutées." in web_client.get(f"/claims/{claim.reference}").get_data(
        as_text=True
    )


def test_a_text_file_named_jpg_is_refused_with_its_name_and_nothing_is_kept(web_client, world):
    claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    sign_in_as(web_client, world.users["metz_tech"])
    response = _upload(
        web_client, claim, [("joint.png", small_png()), ("notes.jpg", b"Rappeler lundi.\n")]
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert (
        "« notes.jpg » n&#39;est pas une image JPEG, PNG, WebP ou HEIC. "
        "Aucune photo n&#39;a été ajoutée." in html
    )
    assert 'aria-invalid="true"' in html
    assert _photos(claim) == []  # the good one neither: all or none


def test_an_upload_without_a_file_names_the_field(web_client, world):
    claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    sign_in_as(web_client, world.users["metz_tech"])
    response = _upload(web_client, claim, [])
    assert response.status_code == 422
    assert "Choisissez une ou plusieurs photos." in response.get_data(as_text=True)


def test_a_photo_over_the_limit_is_refused_with_its_name(web_client, world, attachment_limit):
    attachment_limit(300 * 1024)
    claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    sign_in_as(web_client, world.users["metz_tech"])
    response = _upload(web_client, claim, [("gros.png", _noisy_png(400))])
    assert response.status_code == 413
    assert "« gros.png » dépasse 0,3 Mo." in response.get_data(as_text=True)
    assert _photos(claim) == []
    # More than a claim's photos could weigh: refused before it is read.
    too_much = _upload(web_client, claim, [("énorme.png", b"x" * (4 * 1024 * 1024))])
    assert too_much.status_code == 413
    assert "L'envoi est trop volumineux" in too_much.get_data(as_text=True)


def test_a_closed_claim_offers_no_upload_and_refuses_one(web_client, world):
    claim = claim_in_status(world, ClaimStatus.CLOSED)
    sign_in_as(web_client, world.users["metz_tech"])
    html = web_client.get(f"/claims/{claim.reference}").get_data(as_text=True)
    assert f'action="/claims/{claim.reference}/photos"' not in html
    response = _upload(web_client, claim, [("joint.png", small_png())])
    assert response.status_code == 409
    assert "Cette demande est close ou annulée : elle ne prend plus de photos." in (
        response.get_data(as_text=True)
    )
    assert _photos(claim) == []


def test_a_claim_takes_ten_photos_and_the_page_says_how_many_are_left(web_client, world):
    claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    unit_user = world.users["metz_tech"]
    for n in range(MAX_PHOTOS_PER_CLAIM - 2):
        add_photo(db.session, claim, f"p{n}.png", small_png(), unit_user, utcnow())
    db.session.commit()
    sign_in_as(web_client, unit_user)
    html = web_client.get(f"/claims/{claim.reference}").get_data(as_text=True)
    assert "Jusqu'à 2 photos de plus" in html
    three = [(f"n{n}.png", small_png()) for n in range(3)]
    response = _upload(web_client, claim, three)
    assert response.status_code == 409
    assert "Une demande prend au plus 10 photos et celle-ci en a 8 : ajoutez-en 2 au plus." in (
        response.get_data(as_text=True)
    )
    assert len(_photos(claim)) == 8
    assert _upload(web_client, claim, three[:2]).status_code == 302
    html = web_client.get(f"/claims/{claim.reference}").get_data(as_text=True)
    assert f'action="/claims/{claim.reference}/photos"' not in html
    assert "Cette demande a ses 10 photos, le maximum pour une demande." in html
    full = _upload(web_client, claim, three[:1])
    assert full.status_code == 409
    assert "Cette demande a déjà 10 photos, le maximum pour une demande." in (
        full.get_data(as_text=True)
    )


def test_an_upload_without_the_csrf_token_is_refused(web_client, world):
    claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    sign_in_as(web_client, world.users["metz_tech"])
    response = _upload(web_client, claim, [("joint.png", small_png())], token=False)
    assert response.status_code == 400
    assert _photos(claim) == []


def test_only_who_may_act_on_the_claim_uploads(web_client, world):
    claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    sign_in_as(web_client, world.users["manager"])
    html = web_client.get(f"/claims/{claim.reference}").get_data(as_text=True)
    assert f'action="/claims/{claim.reference}/photos"' not in html
    assert _upload(web_client, claim, [("joint.png", small_png())]).status_code == 403

    sign_in_as(web_client, world.users["woippy_tech"])
    response = _upload(
        web_client, claim, [("joint.png", small_png())], page="/unit/WOIPPY-technique"
    )
    assert response.status_code == 404
    assert _photos(claim) == []


def test_a_large_post_from_someone_not_signed_in_is_refused_unread(web_client, world):
    claim = claim_in_status(world, ClaimStatus.IN_PROGRESS)
    response = _upload(web_client, claim, [("a.png", b"x" * (2 * 1024 * 1024))], token=False)
    assert response.status_code == 413
    assert _photos(claim) == []
