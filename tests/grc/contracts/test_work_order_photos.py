"""The claim's photos as the contractor sees them: a signed link in the work-order e-mails,
a small page without login, each image behind the same token; and the photos a tenant
e-mails, taken into the claim registered from that e-mail."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from grc.claims.models import Claim, ClaimEvent, ClaimPhoto, ClaimStatus
from grc.claims.photos import add_photo
from grc.contracts import lifecycle, work_orders
from grc.contracts.models import WorkOrder, WorkOrderStatus
from grc.contracts.work_orders import LinkAction, action_token, read_action_token
from grc.db import utcnow
from grc.extensions import db
from grc.inbound.models import InboundEmail, InboundStatus
from grc.messaging.models import OutboxMessage, Purpose
from grc.messaging.rendering import render_email
from notifications.memory import MemorySender
from tests.factories import World, build_world, claim_payload
from tests.grc.claims.photo_files import opened, phone_heic, phone_jpeg, small_png
from tests.grc.inbound.inbound_posts import INBOUND_AUTH, claim_with_work_order, post_raw_email
from tests.grc.messaging.provider_apps import configured_app
from workers.senders import set_senders

PHOTOS_LINE = re.compile(
    r"^Photos de la demande \(ajoutées par le locataire ou nos services, le cas échéant\) : "
    r"(\S+)$",
    re.MULTILINE,
)
PUBLIC_URL = "https://grc.example.fr"
INBOUND_DOMAIN = "inbound.bailleur.test"


@pytest.fixture
def site(app: Flask, app_ctx: Flask, tmp_path) -> Iterator[tuple[Flask, World]]:
    """A deployment's links (public URL) and inbound e-mail (contact address), a landlord."""
    with configured_app(
        app,
        public_url=PUBLIC_URL,
        inbound_domain=INBOUND_DOMAIN,
        inbound_basic_auth=INBOUND_AUTH,
        contact_address=f"contact@{INBOUND_DOMAIN}",
        instance_path=str(tmp_path),
    ) as application:
        set_senders(application, MemorySender(), MemorySender())
        world = build_world(db.session)
        db.session.commit()
        yield application, world


def _photos_path(order: WorkOrder) -> str:
    return f"/wo/{action_token(order, LinkAction.PHOTOS)}/photos"


def _add(order: WorkOrder, data: bytes, filename: str = "fuite.jpg") -> ClaimPhoto:
    photo = add_photo(db.session, order.claim, filename, data, None, utcnow())
    db.session.commit()
    return photo


def _assert_private_page(response: Any) -> None:
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Robots-Tag"] == "noindex"


def _image_paths(html: str) -> list[str]:
    return re.findall(r'<img src="([^"]+)"', html)


def test_the_work_order_e_mail_and_its_reminder_carry_the_photos_link(site):
    application, world = site
    order = claim_with_work_order(application, world)

    [message] = db.session.execute(
        sa.select(OutboxMessage).where(
            OutboxMessage.claim_id == order.claim_id, OutboxMessage.purpose == Purpose.WORK_ORDER
        )
    ).scalars()
    url = PHOTOS_LINE.search(message.body_text).group(1)
    assert url.startswith(f"{PUBLIC_URL}/wo/")
    assert url.endswith("/photos")
    assert url in message.body_html
    token = url.removeprefix(f"{PUBLIC_URL}/wo/").removesuffix("/photos")
    assert read_action_token(token, allowed=(LinkAction.PHOTOS,)) == (order.id, LinkAction.PHOTOS)
    # Single purpose: the photos link confirms nothing.
    assert read_action_token(token) is None

    # The link leads to the page, even before any photo was added.
    page = application.test_client().get(url.removeprefix(PUBLIC_URL))
    assert page.status_code == 200
    assert "Aucune photo pour le moment." in page.get_data(as_text=True)

    context = work_orders.work_order_context(order)
    reminder = render_email(Purpose.WORK_ORDER_REMINDER, "fr", **context)
    assert PHOTOS_LINE.search(reminder.text).group(1) == context["photos_url"]
    escalation = render_email(Purpose.WORK_ORDER_ESCALATION, "fr", **context, deadline="complete")
    assert context["photos_url"] in escalation.text


def test_the_page_shows_each_photo_and_serves_its_image(client: FlaskClient, world, app_ctx):
    order = claim_with_work_order(app_ctx, world)
    first = _add(order, phone_jpeg(1200, 800), "évier.jpg")
    second = _add(order, small_png(), "compteur.png")
    events_before = db.session.scalar(sa.select(sa.func.count()).select_from(ClaimEvent))

    # The page links each image under the token it was opened with; minting a second one
    # here would differ as soon as a second ticks over.
    token = action_token(order, LinkAction.PHOTOS)
    page = client.get(f"/wo/{token}/photos")

    assert page.status_code == 200
    _assert_private_page(page)
    html = page.get_data(as_text=True)
    assert '<html lang="fr">' in html
    assert f"Demande {order.claim.reference}" in html
    assert order.claim.building.street in html
    assert "Photo 1 : évier.jpg" in html
    assert "Photo 2 : compteur.jpg" in html
    assert "Aucune photo" not in html
    images = _image_paths(html)
    assert images == [f"/wo/{token}/photos/{first.id}", f"/wo/{token}/photos/{second.id}"]

    image = client.get(images[0])
    assert image.status_code == 200
    assert image.headers["Content-Type"] == "image/jpeg"
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    assert image.headers["Referrer-Policy"] == "no-referrer"
    assert image.data == db.session.get(ClaimPhoto, first.id).data
    assert opened(image.data).size == (800, 1200)  # turned upright, as stored

    # Looking changes nothing: no event, the order still waits for its contractor.
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClaimEvent)) == events_before
    assert db.session.get(WorkOrder, order.id).status == WorkOrderStatus.SENT


@pytest.mark.parametrize("action", [LinkAction.TAKE, LinkAction.DONE])
def test_a_one_click_action_token_does_not_open_the_photos(client, world, app_ctx, action):
    order = claim_with_work_order(app_ctx, world)
    photo = _add(order, small_png())
    token = action_token(order, action)

    page = client.get(f"/wo/{token}/photos")
    assert page.status_code == 404
    assert "Lien invalide" in page.get_data(as_text=True)
    _assert_private_page(page)
    assert client.get(f"/wo/{token}/photos/{photo.id}").status_code == 404


def test_the_photos_token_confirms_no_action(client, world, app_ctx):
    order = claim_with_work_order(app_ctx, world)
    token = action_token(order, LinkAction.PHOTOS)

    assert client.get(f"/wo/{token}").status_code == 404
    assert client.post(f"/wo/{token}").status_code == 404
    db.session.expire_all()
    assert db.session.get(WorkOrder, order.id).status == WorkOrderStatus.SENT
    assert db.session.get(Claim, order.claim_id).status == ClaimStatus.ASSIGNED


def test_a_forged_or_foreign_token_is_an_invalid_link(client, world, app_ctx):
    order = claim_with_work_order(app_ctx, world)
    photo = _add(order, small_png())
    token = action_token(order, LinkAction.PHOTOS)

    for path in (
        "/wo/not-a-token/photos",
        f"/wo/{token[:-2]}xx/photos",
        f"/wo/{token[:-2]}xx/photos/{photo.id}",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "<h1>Lien invalide</h1>" in response.get_data(as_text=True)

    # Signed with another key (another deployment, or a guessed one).
    forged = URLSafeTimedSerializer("x" * 40, salt="grc-work-order-action").dumps(
        [order.id, LinkAction.PHOTOS]
    )
    assert client.get(f"/wo/{forged}/photos").status_code == 404


def test_a_photo_of_another_claim_is_not_served_through_a_valid_token(client, world, app_ctx):
    order = claim_with_work_order(app_ctx, world)
    other = client.post(
        "/api/v1/claims",
        json=claim_payload(world, dwelling_id=world.dwellings["HAUS-11"].id),
        headers=world.headers("agent"),
    )
    assert other.status_code == 201, other.json
    other_order = db.session.execute(
        sa.select(WorkOrder).where(WorkOrder.claim_id == other.json["id"])
    ).scalar_one()
    theirs = _add(other_order, small_png(), "autre.png")
    token = action_token(order, LinkAction.PHOTOS)

    assert client.get(f"/wo/{token}/photos/{theirs.id}").status_code == 404
    assert "autre.jpg" not in client.get(f"/wo/{token}/photos").get_data(as_text=True)
    # Its own token does serve it.
    own = client.get(f"/wo/{action_token(other_order, LinkAction.PHOTOS)}/photos/{theirs.id}")
    assert own.status_code == 200


def test_a_cancelled_order_no_longer_shows_the_claim(client, world, app_ctx):
    order = claim_with_work_order(app_ctx, world)
    photo = _add(order, small_png())
    # The claim went to another contractor.
    lifecycle.move(order, lifecycle.OrderEvent.SUPERSEDE, datetime.now(UTC))
    db.session.commit()

    assert client.get(_photos_path(order)).status_code == 404
    token = action_token(order, LinkAction.PHOTOS)
    assert client.get(f"/wo/{token}/photos/{photo.id}").status_code == 404


def _tenant_email_with_attachments(sender: str, to: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = "Fuite sous l'évier"
    message["Date"] = "Mon, 23 Nov 2026 09:12:00 +0100"
    message["Message-ID"] = "<fuite-123@mail.example.org>"
    message.set_content("Bonjour, l'évier fuit depuis ce matin, voici des photos.\n\nMerci")
    message.add_attachment(
        phone_jpeg(3000, 2000), maintype="image", subtype="jpeg", filename="IMG_1234.jpg"
    )
    message.add_attachment(
        phone_heic(1200, 800), maintype="image", subtype="heic", filename="IMG_1235.HEIC"
    )
    # Kept by the inbox (an accepted type) but damaged: no image comes out of it.
    message.add_attachment(
        b"\x00\x00\x00\x18ftypheic" + bytes(200),
        maintype="image",
        subtype="heic",
        filename="IMG_1236.HEIC",
    )
    message.add_attachment(
        b"%PDF-1.4\n%%EOF\n", maintype="application", subtype="pdf", filename="bail.pdf"
    )
    return message.as_bytes()


def _tenant_writes_with_photos(application: Flask, world: World, sender: str) -> FlaskClient:
    """The TIL-11 tenant e-mails the contact address with photos attached; the client that
    posted it."""
    client = application.test_client()
    tenant = world.tenants["TIL-11"]
    tenant.email = "elodie.lefevre@example.org"
    db.session.commit()
    contact = f"contact@{INBOUND_DOMAIN}"
    eml = _tenant_email_with_attachments(sender.format(email=tenant.email), contact)
    assert post_raw_email(client, eml, contact).status_code == 200
    return client


def test_the_photos_a_tenant_e_mails_go_with_the_claim_registered_from_it(site):
    application, world = site
    client = _tenant_writes_with_photos(application, world, "Elodie Lefevre <{email}>")
    db.session.expire_all()
    [inbound] = db.session.execute(sa.select(InboundEmail)).scalars()
    assert inbound.status == InboundStatus.INTAKE, inbound.error
    assert [a.filename for a in inbound.attachments if a.data is not None] == [
        "IMG_1234.jpg",
        "IMG_1235.HEIC",
        "IMG_1236.HEIC",
        "bail.pdf",
    ]

    registered = client.post(
        f"/api/v1/inbound-emails/{inbound.id}/register",
        json={"category": "PLB-FUITE", "dwelling_id": world.dwellings["TIL-11"].id},
        headers=world.headers("agent"),
    )

    assert registered.status_code == 201, registered.json
    claim = registered.json
    photo, iphone_photo = claim["photos"]
    assert (photo["filename"], photo["source"]) == ("IMG_1234.jpg", "email")
    assert (photo["width"], photo["height"]) == (1365, 2048)
    assert (iphone_photo["filename"], iphone_photo["source"]) == ("IMG_1235.jpg", "email")
    assert (iphone_photo["width"], iphone_photo["height"]) == (800, 1200)
    stored = db.session.get(ClaimPhoto, photo["id"])
    assert stored.uploaded_by_id == world.users["agent"].id
    assert dict(opened(stored.data).getexif()) == {}
    assert opened(db.session.get(ClaimPhoto, iphone_photo["id"]).data).format == "JPEG"
    bodies = [e["body"] for e in claim["events"]]
    assert "Photo ajoutée : IMG_1234.jpg" in bodies
    assert "Photo ajoutée : IMG_1235.jpg" in bodies
    # The damaged picture is skipped, and said so; the PDF is not a photo at all.
    assert "Pièce jointe de l'e-mail non reprise comme photo : IMG_1236.HEIC" in bodies
    assert not any("bail.pdf" in (body or "") for body in bodies)

    # The contractor's page shows it.
    order = db.session.execute(
        sa.select(WorkOrder).where(WorkOrder.claim_id == claim["id"])
    ).scalar_one()
    html = client.get(_photos_path(order)).get_data(as_text=True)
    image_path, _ = _image_paths(html)
    image = client.get(image_path)
    assert image.status_code == 200
    assert image.data == stored.data


def test_an_intake_resolved_at_once_still_takes_its_photos(site):
    """A first-contact resolution (resolved, not closed) keeps the tenant's photos."""
    application, world = site
    client = _tenant_writes_with_photos(application, world, "{email}")
    inbound_id = db.session.execute(sa.select(InboundEmail.id)).scalar_one()

    registered = client.post(
        f"/api/v1/inbound-emails/{inbound_id}/register",
        json={
            "category": "LOC-ATTESTATION",
            "dwelling_id": world.dwellings["TIL-11"].id,
            "resolve_now": True,
            "resolution": "Attestation envoyée par e-mail pendant l'appel.",
        },
        headers=world.headers("agent"),
    )
    assert registered.status_code == 201, registered.json
    assert registered.json["status"] == "resolved"
    assert [p["filename"] for p in registered.json["photos"]] == ["IMG_1234.jpg", "IMG_1235.jpg"]


def test_an_uploaded_photo_shows_on_the_contractors_page(client, world, app_ctx):
    order = claim_with_work_order(app_ctx, world)
    uploaded = client.post(
        f"/api/v1/claims/{order.claim_id}/photos",
        data={"file": (io.BytesIO(small_png()), "compteur.png", "image/png")},
        headers=world.headers("agent"),
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 201, uploaded.json

    token = action_token(order, LinkAction.PHOTOS)
    html = client.get(f"/wo/{token}/photos").get_data(as_text=True)

    assert _image_paths(html) == [f"/wo/{token}/photos/{uploaded.json['id']}"]


def test_a_photos_link_expires(client, world, app_ctx, monkeypatch):
    """A photos link expires with the one-click links (90 days)."""
    order = claim_with_work_order(app_ctx, world)
    token = action_token(order, LinkAction.PHOTOS)
    later = datetime.now(UTC).timestamp() + work_orders.ACTION_LINK_MAX_AGE.total_seconds() + 60
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(later))

    assert client.get(f"/wo/{token}/photos").status_code == 404


def test_the_photos_page_speaks_english_on_request(site):
    application, world = site
    order = claim_with_work_order(application, world)
    client = application.test_client()
    empty = client.get(f"{_photos_path(order)}?lang=en").get_data(as_text=True)
    assert "Photos of the claim" in empty
    assert "No photos yet." in empty
    _add(order, small_png(), "salon.png")
    page = client.get(_photos_path(order), headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Photo 1 of 1 – salon.jpg" in html
    assert 'alt="Photo 1: salon.jpg"' in html
