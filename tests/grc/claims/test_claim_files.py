"""Files on the claim page: the attachments of the e-mails on its timeline, downloaded by
whoever may see the claim."""

from __future__ import annotations

import re

import pytest

from grc.claims.models import ClaimStatus, EventKind
from tests.grc.claims.helpers import claim_in_status, email_on_claim
from tests.pages import sign_in_as

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
