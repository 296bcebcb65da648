"""Staff sign-in: passwords, sessions ended by sign-out and password change, invitations,
limits on failed attempts, CSRF on every form."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from grc.accounts.models import Invitation
from grc.accounts.passwords import hash_password
from grc.db import utcnow
from grc.extensions import db
from grc.messaging.models import OutboxMessage, Purpose
from grc.web.extensions import limiter
from tests.pages import PageClient, csrf_token, sign_in_as

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _fresh_limits(app):
    limiter.reset()


@pytest.fixture
def agent(world):
    user = world.users["agent"]
    user.password_hash = hash_password(PASSWORD)
    db.session.commit()
    return user


def _sign_in(web_client, email, password, next_page=None):
    token = csrf_token(web_client)
    url = "/sign-in" + (f"?next={next_page}" if next_page else "")
    return web_client.post(url, data={"email": email, "password": password, "csrf_token": token})


def test_a_user_signs_in_and_lands_on_the_home_of_their_role(web_client, agent):
    response = _sign_in(web_client, "AGENT@bailleur.test ", PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] in ("/", "/console")
    home = web_client.get("/", follow_redirects=True)
    assert home.status_code == 200
    assert agent.name in home.get_data(as_text=True)


def test_the_session_cookie_is_http_only_and_same_site(web_client, agent):
    response = _sign_in(web_client, agent.email, PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "grc_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_a_wrong_password_or_unknown_address_says_the_same_and_signs_nobody_in(web_client, agent):
    wrong = _sign_in(web_client, agent.email, "not the password")
    unknown = _sign_in(web_client, "nobody@bailleur.test", PASSWORD)
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "Adresse e-mail inconnue ou mot de passe erroné." in response.get_data(as_text=True)
    assert web_client.get("/").status_code == 302


def test_a_deactivated_user_cannot_sign_in(web_client, agent):
    agent.active = False
    db.session.commit()
    assert _sign_in(web_client, agent.email, PASSWORD).status_code == 401


def test_only_a_page_on_this_site_is_followed_after_sign_in(web_client, agent):
    response = _sign_in(web_client, agent.email, PASSWORD, next_page="https://evil.example/")
    assert response.headers["Location"] in ("/", "/console")
    web_client.post("/sign-out", data={"csrf_token": csrf_token(web_client, "/account/password")})
    response = _sign_in(web_client, agent.email, PASSWORD, next_page="/account/password")
    assert response.headers["Location"] == "/account/password"


def test_pages_send_an_anonymous_visitor_to_the_sign_in_page(web_client, world):
    response = web_client.get("/account/password")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")


def test_a_copied_cookie_stops_working_after_sign_out(app, web_client, agent):
    _sign_in(web_client, agent.email, PASSWORD)
    copied = PageClient(app, app.response_class, use_cookies=True)
    copied.set_cookie("grc_session", web_client.get_cookie("grc_session").value)
    assert copied.get("/account/password").status_code == 200

    token = csrf_token(web_client, "/account/password")
    assert web_client.post("/sign-out", data={"csrf_token": token}).status_code == 302

    assert copied.get("/account/password").status_code == 302
    assert web_client.get("/account/password").status_code == 302


def test_a_password_change_ends_the_other_sessions_but_not_this_one(app, web_client, agent):
    _sign_in(web_client, agent.email, PASSWORD)
    other_desk = PageClient(app, app.response_class, use_cookies=True)
    _sign_in(other_desk, agent.email, PASSWORD)

    token = csrf_token(web_client, "/account/password")
    response = web_client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "password": "a brand new passphrase",
            "confirm": "a brand new passphrase",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    assert web_client.get("/account/password").status_code == 200
    assert other_desk.get("/account/password").status_code == 302
    web_client.post("/sign-out", data={"csrf_token": csrf_token(web_client, "/account/password")})
    assert _sign_in(web_client, agent.email, "a brand new passphrase").status_code == 302


def test_a_password_change_needs_the_current_password_and_a_long_new_one(web_client, agent):
    _sign_in(web_client, agent.email, PASSWORD)
    token = csrf_token(web_client, "/account/password")
    wrong = web_client.post(
        "/account/password",
        data={
            "current_password": "nope",
            "password": "long enough pass",
            "confirm": "long enough pass",
            "csrf_token": token,
        },
    )
    short = web_client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "password": "short",
            "confirm": "short",
            "csrf_token": token,
        },
    )
    assert wrong.status_code == 422
    assert "Mot de passe erroné." in wrong.get_data(as_text=True)
    assert short.status_code == 422
    assert "Entre 12 et 200 caractères." in short.get_data(as_text=True)


def test_a_form_posted_without_the_csrf_token_is_refused(web_client, agent):
    response = web_client.post("/sign-in", data={"email": agent.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "ne vient pas de ce site" in response.get_data(as_text=True)
    sign_in_as(web_client, agent)
    assert web_client.post("/sign-out").status_code == 400
    assert web_client.get("/account/password").status_code == 200  # still signed in


def test_failed_sign_ins_are_limited_per_account(web_client, agent):
    for _ in range(5):
        assert _sign_in(web_client, agent.email, "wrong guess").status_code == 401
    blocked = _sign_in(web_client, agent.email, PASSWORD)
    assert blocked.status_code == 429
    assert "Trop de tentatives" in blocked.get_data(as_text=True)


def test_successful_sign_ins_do_not_count_against_the_limit(web_client, agent):
    for _ in range(7):
        assert _sign_in(web_client, agent.email, PASSWORD).status_code == 302
        web_client.post(
            "/sign-out", data={"csrf_token": csrf_token(web_client, "/account/password")}
        )


def test_failed_sign_ins_are_limited_per_address_across_accounts(app, web_client, agent):
    app.extensions["grc_settings"]  # the limit per address is 30 in a quarter of an hour
    for attempt in range(30):
        assert _sign_in(web_client, f"guess{attempt}@bailleur.test", "x").status_code == 401
    assert _sign_in(web_client, agent.email, PASSWORD).status_code == 429


def _invite(world, user):
    from grc.accounts.operations import invite_user

    sent = invite_user(
        db.session, user, world.users["admin"], "http://grc.test/invitation/{token}", utcnow(), "fr"
    )
    db.session.commit()
    return sent.link.rsplit("/", 1)[1]


def test_an_invitation_lets_a_new_user_choose_a_password_once(web_client, world):
    user = world.users["metz_tech"]
    secret = _invite(world, user)
    mail = db.session.execute(
        sa.select(OutboxMessage).where(OutboxMessage.purpose == Purpose.INVITATION)
    ).scalar_one()
    assert mail.recipient == user.email
    assert f"/invitation/{secret}" in mail.body_text
    assert secret not in str(db.session.execute(sa.select(Invitation.token_hash)).scalars().all())

    page = web_client.get(f"/invitation/{secret}")
    assert page.status_code == 200
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True)).group(
        1
    )
    chosen = web_client.post(
        f"/invitation/{secret}",
        data={"password": "my own passphrase", "confirm": "my own passphrase", "csrf_token": token},
    )
    assert chosen.status_code == 302
    assert web_client.get("/account/password").status_code == 200  # signed in

    again = web_client.get(f"/invitation/{secret}")
    assert again.status_code == 404
    assert "Ce lien ne fonctionne plus" in again.get_data(as_text=True)


def test_a_newer_invitation_replaces_the_older_link(web_client, world):
    user = world.users["metz_tech"]
    first = _invite(world, user)
    second = _invite(world, user)
    assert web_client.get(f"/invitation/{first}").status_code == 404
    assert web_client.get(f"/invitation/{second}").status_code == 200
