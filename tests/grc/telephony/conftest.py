"""A deployment's configuration (Twilio credentials, a public URL, a queue name whose
characters need escaping in XML), a landlord in its database, and Twilio's voice callbacks
signed as Twilio signs them."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.grc.messaging.provider_apps import (
    PUBLIC_URL,
    TWILIO_FROM,
    Site,
    configured_app,
    open_site,
    twilio_signature,
)

TOKEN = "voice-secret-token"
ACCOUNT_SID = "AC" + "1" * 32
QUEUE = 'Accueil <locataires> & "urgences"'
VOICE_PATH = "/webhooks/twilio/voice"
QUEUE_PATH = "/webhooks/twilio/voice/queue"
STATUS_PATH = "/webhooks/twilio/voice/status"
CALL_CENTRE_NUMBER = "+33387000000"
TENANT_NUMBER = "+33612345678"  # TIL-11's tenant, "06 12 34 56 78"


@pytest.fixture
def make_site(app: Flask, app_ctx: Flask, tmp_path) -> Iterator[Callable[..., Site]]:
    with ExitStack() as stack:

        def make(**overrides: Any) -> Site:
            settings = {
                "twilio_account_sid": ACCOUNT_SID,
                "twilio_auth_token": TOKEN,
                "twilio_from_number": TWILIO_FROM,
                "public_url": PUBLIC_URL,
                "call_queue": QUEUE,
                "instance_path": str(tmp_path),
            } | overrides
            return open_site(stack.enter_context(configured_app(app, **settings)))

        yield make


@pytest.fixture
def site(make_site: Callable[..., Site]) -> Site:
    return make_site()


def new_sid() -> str:
    return "CA" + secrets.token_hex(16)


def post_signed(
    site: Site,
    path: str,
    params: dict[str, str],
    *,
    sign: bool = True,
    token: str = TOKEN,
    client: FlaskClient | None = None,
) -> TestResponse:
    headers = {}
    if sign:
        headers["X-Twilio-Signature"] = twilio_signature(token, PUBLIC_URL + path, params)
    return (client or site.client).post(path, data=params, headers=headers)


def incoming(site: Site, sid: str, caller: str = TENANT_NUMBER, **options: Any) -> TestResponse:
    """The incoming-call webhook as Twilio posts it when a tenant dials the number."""
    params = {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "CallSid": sid,
        "CallStatus": "ringing",
        "Called": CALL_CENTRE_NUMBER,
        "Caller": caller,
        "Direction": "inbound",
        "From": caller,
        "FromCountry": "FR",
        "To": CALL_CENTRE_NUMBER,
    }
    return post_signed(site, VOICE_PATH, params, **options)


def left_queue(site: Site, sid: str, result: str, queue_time: str, **options: Any) -> TestResponse:
    """<Enqueue>'s action request."""
    params = {
        "AccountSid": ACCOUNT_SID,
        "CallSid": sid,
        "CallStatus": "in-progress",
        "From": TENANT_NUMBER,
        "To": CALL_CENTRE_NUMBER,
        "QueueResult": result,
        "QueueSid": "QU" + "2" * 32,
        "QueueTime": queue_time,
    }
    return post_signed(site, QUEUE_PATH, params, **options)


def status_callback(
    site: Site, sid: str, status: str, duration: str | None = None, **options: Any
) -> TestResponse:
    """The call's status callback, configured on the number."""
    params = {
        "AccountSid": ACCOUNT_SID,
        "CallSid": sid,
        "CallStatus": status,
        "From": TENANT_NUMBER,
        "To": CALL_CENTRE_NUMBER,
        "Direction": "inbound",
        "SequenceNumber": "0",
    }
    if duration is not None:
        params["CallDuration"] = duration
    return post_signed(site, STATUS_PATH, params, **options)
