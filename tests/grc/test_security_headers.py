"""Security headers on every kind of response: API JSON, errors, 404, pages, Swagger UI,
webhooks, files."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from flask import Flask

from grc.claims.photos import add_photo
from grc.contracts import work_orders
from grc.db import utcnow
from grc.extensions import db
from tests.grc.claims.photo_files import phone_jpeg
from tests.grc.inbound.inbound_posts import claim_with_work_order
from tests.grc.messaging.provider_apps import configured_app

NOTHING_ALLOWED = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def _csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {
        name: value.strip()
        for name, _, value in (d.strip().partition(" ") for d in policy.split(";"))
    }


def _assert_common(response) -> None:
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert _csp(response)["frame-ancestors"] == "'none'"
    assert "Strict-Transport-Security" not in response.headers  # public URL is not https


def _assert_api(response) -> None:
    _assert_common(response)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Security-Policy"] == NOTHING_ALLOWED


def test_api_answers_and_errors(client, world):
    ok = client.get("/api/v1/categories", headers=world.headers("agent"))
    created = client.post(
        "/api/v1/routing-rules",
        json={"category": "PLB-FUITE", "unit_id": world.units["METZ-technique"].id},
        headers=world.headers("admin"),
    )
    invalid = client.post("/api/v1/claims", json={}, headers=world.headers("agent"))
    unauthenticated = client.get("/api/v1/claims")
    forbidden = client.get("/api/v1/messages", headers=world.headers("agent"))
    missing = client.get("/api/v1/claims/999999", headers=world.headers("agent"))
    no_route = client.get("/nothing-here")
    wrong_method = client.delete("/api/v1/categories", headers=world.headers("admin"))
    spec = client.get("/api/openapi.json")
    answers = [ok, created, invalid, unauthenticated, forbidden, missing, no_route, wrong_method]
    assert [r.status_code for r in answers] == [200, 201, 422, 401, 403, 404, 404, 405]
    assert spec.status_code == 200
    for response in [*answers, spec]:
        assert response.mimetype == "application/json"
        _assert_api(response)


def test_webhooks(client, world):
    twilio = client.post("/webhooks/twilio/status", data={"MessageSid": "SM1"})
    inbound = client.post("/webhooks/twilio/inbound", data={"Body": "STOP"})
    sendgrid = client.post("/webhooks/sendgrid/events", json=[])
    parse = client.post("/webhooks/sendgrid/inbound", data={"email": "x"})
    assert [r.status_code for r in (twilio, inbound, sendgrid, parse)] == [403, 403, 403, 401]
    for response in (twilio, inbound, sendgrid, parse):
        _assert_api(response)


def test_swagger_ui_gets_a_policy_that_allows_its_own_files_only(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    _assert_common(page)
    assert page.headers["Cache-Control"] == "no-store"
    csp = _csp(page)
    assert csp["default-src"] == "'none'"
    assert csp["connect-src"] == "'self'"
    # Its one inline script, by hash; its files from here, never from a CDN.
    html = page.get_data(as_text=True)
    [inline] = re.findall(r"<script>(.*?)</script>", html, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert csp["script-src"] == f"'self' 'sha256-{digest}'"
    assert "unsafe-inline" not in csp["script-src"]
    assert "http" not in page.headers["Content-Security-Policy"]
    asset = client.get("/api/docs/assets/swagger-ui-bundle.js")
    asset.close()
    assert asset.status_code == 200
    assert asset.headers["Cache-Control"] == "public, max-age=86400"  # its own: kept
    assert asset.headers["X-Content-Type-Options"] == "nosniff"


def test_one_click_pages_cannot_be_framed_nor_leak_their_token(app, app_ctx, world):
    client = app_ctx.test_client()
    order = claim_with_work_order(app_ctx, world)
    photo = add_photo(db.session, order.claim, "evier.jpg", phone_jpeg(800, 600), None, utcnow())
    db.session.commit()
    action = work_orders.action_token(order, work_orders.LinkAction.TAKE)
    photos = work_orders.action_token(order, work_orders.LinkAction.PHOTOS)
    pages = {
        "action": client.get(f"/wo/{action}"),
        "confirmed": client.post(f"/wo/{action}"),
        "photos": client.get(f"/wo/{photos}/photos"),
        "invalid": client.get("/wo/not-a-token"),
    }
    assert {name: r.status_code for name, r in pages.items()} == {
        "action": 200,
        "confirmed": 200,
        "photos": 200,
        "invalid": 404,
    }
    for response in pages.values():
        assert response.mimetype == "text/html"
        _assert_common(response)
        assert response.headers["Cache-Control"] == "no-store"
        csp = _csp(response)
        assert csp["default-src"] == "'none'"
        assert csp["form-action"] == "'self'"
        assert csp["img-src"] == "'self'"
        assert "script-src" not in csp  # the pages run no script
        html = response.get_data(as_text=True)
        [style] = re.findall(r"<style>(.*?)</style>", html, re.DOTALL)
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert csp["style-src"] == f"'sha256-{digest}'"
    assert f"/wo/{photos}/photos/{photo.id}" in pages["photos"].get_data(as_text=True)

    image = client.get(f"/wo/{photos}/photos/{photo.id}")
    assert image.status_code == 200
    assert image.mimetype == "image/jpeg"
    _assert_common(image)
    assert image.headers["Content-Security-Policy"] == NOTHING_ALLOWED


def test_dev_outbox_page_keeps_its_own_policy(client):
    page = client.get("/admin/dev-outbox")
    assert page.status_code == 200
    _assert_common(page)
    csp = _csp(page)
    assert csp["script-src"].startswith("'nonce-")
    assert csp["default-src"] == "'none'"


@pytest.mark.parametrize(("public_url", "hsts"), [("https://grc.example.fr", True), (None, False)])
def test_hsts_only_when_the_public_address_is_https(app: Flask, app_ctx, public_url, hsts):
    with configured_app(app, public_url=public_url) as application:
        client = application.test_client()
        for response in (client.get("/api/openapi.json"), client.get("/api/docs")):
            assert ("Strict-Transport-Security" in response.headers) is hsts
            if hsts:
                assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
