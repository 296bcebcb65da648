"""An application configured like a deployment (provider credentials, public URL), on the
test database, and the signatures Twilio and SendGrid put on their callbacks.

The session ``app`` has no credentials. ``configured_app`` builds a second application from
the same settings with some fields replaced; ``create_app`` reuses the database (already
migrated). Callers depend on ``app_ctx``, whose teardown empties the tables once this
application's context is gone and its engine disposed.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator

from grc import create_app
from grc.extensions import db
from grc.messaging.models import OutboxMessage
from tests.factories import World, build_world, claim_payload, without_contracts

PUBLIC_URL = "https://grc.example.fr"
TWILIO_FROM = "+33700000000"
EMAIL_FROM = "accueil@bailleur.test"
LANDLORD = "Habitat Lorrain"
# An urgent category: its SMS is not held back by quiet hours, whatever the time of the run.
URGENT = "PLB-FUITE"


@contextmanager
def configured_app(app: Flask, **overrides: Any) -> Iterator[Flask]:
    """A new application on ``app``'s database with ``overrides`` applied to its settings;
    its application context is pushed while the block runs."""
    settings = replace(app.extensions["grc_settings"], **overrides)
    settings.validate()
    application = create_app(settings)
    with application.app_context():
        try:
            yield application
        finally:
            db.session.remove()
            db.engine.dispose()  # nothing left open when app_ctx empties the tables


@contextmanager
def provider_site(
    app: Flask, provider_stub: Any, instance_path: str, *, contracts: bool = False, **overrides: Any
) -> Iterator[Site]:
    """A deployment's configuration with both providers pointed at the stub, and a landlord."""
    from tests.stubs.providers import SENDGRID_API_KEY, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN
    from workers.senders import senders

    with configured_app(
        app,
        sendgrid_api_key=SENDGRID_API_KEY,
        sendgrid_api_host=provider_stub.url,
        twilio_account_sid=TWILIO_ACCOUNT_SID,
        twilio_auth_token=TWILIO_AUTH_TOKEN,
        twilio_from_number=TWILIO_FROM,
        twilio_api_base_url=provider_stub.url,
        email_from=EMAIL_FROM,
        landlord_name=LANDLORD,
        public_url=PUBLIC_URL,
        instance_path=instance_path,
        **overrides,
    ) as application:
        application.extensions.pop("grc_senders", None)  # built from the settings
        sms_sender = senders(application)[1]
        try:
            yield open_site(application, contracts=contracts)
        finally:
            sms_sender.close()  # type: ignore[attr-defined]


@dataclass
class Site:
    """A configured application with its test client and a landlord built in its database."""

    app: Flask
    client: FlaskClient
    world: World

    def create_claim(self, dwelling: str = "TIL-11", **overrides: Any) -> dict[str, Any]:
        payload = claim_payload(
            self.world,
            **{"category": URGENT, "dwelling_id": self.world.dwellings[dwelling].id, **overrides},
        )
        response = self.client.post(
            "/api/v1/claims", json=payload, headers=self.world.headers("agent")
        )
        assert response.status_code == 201, response.json
        return response.json


def open_site(application: Flask, *, contracts: bool = False) -> Site:
    """A landlord in the application's database; without ``contracts`` its claims go to units,
    so that the only messages are the tenant's."""
    world = build_world(db.session)
    db.session.commit()
    if not contracts:
        without_contracts(db.session, world)
    return Site(application, application.test_client(), world)


def outbox(**filters: Any) -> list[OutboxMessage]:
    """Outbox rows, oldest first, read afresh (requests and jobs end their sessions)."""
    db.session.expire_all()
    stmt = sa.select(OutboxMessage).order_by(OutboxMessage.id)
    for name, value in filters.items():
        stmt = stmt.where(getattr(OutboxMessage, name) == value)
    return list(db.session.execute(stmt).scalars())


def reload(message: OutboxMessage) -> OutboxMessage:
    db.session.expire_all()
    found = db.session.get(OutboxMessage, message.id)
    assert found is not None
    return found


# --- Twilio ------------------------------------------------------------------------------


def twilio_signature(auth_token: str, url: str, params: dict[str, str]) -> str:
    """The X-Twilio-Signature Twilio sends for a POST of ``params`` to ``url``."""
    return RequestValidator(auth_token).compute_signature(url, params)


# --- SendGrid ----------------------------------------------------------------------------


@dataclass
class EventWebhookKey:
    """A P-256 key pair standing in for SendGrid's Event Webhook signing key."""

    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )

    @property
    def public_key(self) -> str:
        """Base64 DER (SubjectPublicKeyInfo), as SendGrid's settings page shows it."""
        der = self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def sign(self, payload: bytes, timestamp: str) -> str:
        """ECDSA P-256/SHA-256 over timestamp + raw body, base64 DER: what SendGrid sends."""
        der = self.private_key.sign(timestamp.encode() + payload, ec.ECDSA(hashes.SHA256()))
        return base64.b64encode(der).decode()

    def headers(self, payload: bytes, timestamp: str | None = None) -> dict[str, str]:
        timestamp = timestamp or str(int(time.time()))
        return {
            "X-Twilio-Email-Event-Webhook-Signature": self.sign(payload, timestamp),
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
        }


def sendgrid_payload(*events: dict[str, Any]) -> bytes:
    """An Event Webhook body: a JSON array, compact like SendGrid's."""
    return json.dumps(list(events), separators=(",", ":")).encode()
