"""Posting to the inbound webhook as SendGrid does: multipart/form-data built byte for byte
(so fields keep the charset SendGrid declares), with the configured authentication."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

INBOUND_USER = "sendgrid"
INBOUND_PASSWORD = "parse-secret-for-tests"
INBOUND_AUTH = f"{INBOUND_USER}:{INBOUND_PASSWORD}"
URL = "/webhooks/sendgrid/inbound"


def auth_headers(credentials: str = INBOUND_AUTH) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}


def multipart(
    fields: Mapping[str, str | bytes], files: Mapping[str, tuple[str, str, bytes]] | None = None
) -> tuple[bytes, str]:
    boundary = "xYzZY" + secrets.token_hex(8)
    parts: list[bytes] = []
    for name, value in fields.items():
        data = value.encode() if isinstance(value, str) else value
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + data
            + b"\r\n"
        )
    for name, (filename, content_type, data) in (files or {}).items():
        parts.append(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'
            ).encode()
            + data
            + b"\r\n"
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def post_form(
    client: FlaskClient,
    fields: Mapping[str, str | bytes],
    files: Mapping[str, tuple[str, str, bytes]] | None = None,
    *,
    headers: dict[str, str] | None = None,
    url: str = URL,
) -> TestResponse:
    body, content_type = multipart(fields, files)
    return client.post(
        url,
        data=body,
        headers={"Content-Type": content_type, **(auth_headers() if headers is None else headers)},
    )


def post_raw_email(client: FlaskClient, eml: bytes, to: str, **kwargs) -> TestResponse:
    """Raw mode: the whole MIME message in the ``email`` field."""
    fields = {
        "email": eml,
        "to": to,
        "envelope": json.dumps({"to": [to], "from": "x@example.org"}),
        "charsets": '{"to":"UTF-8","subject":"UTF-8","from":"UTF-8"}',
        "spam_score": "0.1",
    }
    return post_form(client, fields, **kwargs)


def reply(
    *,
    to: str,
    sender: str,
    subject: str,
    text: str,
    date: datetime,
    in_reply_to: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> bytes:
    """A plain reply as a mail client writes it."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = make_msgid(domain="mail.example.org")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    return message.as_bytes()


def claim_with_work_order(application: Any, world: Any) -> Any:
    """A leak at TIL-11, which the multiservice contract covers: its work order."""
    import sqlalchemy as sa

    from grc.contracts.models import WorkOrder
    from grc.extensions import db
    from tests.factories import claim_payload

    response = application.test_client().post(
        "/api/v1/claims", json=claim_payload(world), headers=world.headers("agent")
    )
    assert response.status_code == 201, response.json
    db.session.expire_all()
    return db.session.execute(
        sa.select(WorkOrder).where(WorkOrder.claim_id == response.json["id"])
    ).scalar_one()
