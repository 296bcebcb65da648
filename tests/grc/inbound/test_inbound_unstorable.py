"""Bytes that PostgreSQL or Python refuse never stop a reply: a NUL byte in the text, the
Message-ID or an attachment's content type is dropped before storage, a bad byte in a UTF-8
part costs that byte only, and the reply is processed like any other (both databases)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from grc.claims.models import Claim, ClaimStatus
from grc.contracts import work_orders
from grc.contracts.models import WorkOrder
from grc.extensions import db
from grc.inbound.models import InboundEmail, InboundStatus
from tests.grc.inbound.inbound_posts import claim_with_work_order, post_raw_email

CONTRACTOR = "ordres@multiservices.test"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"


@pytest.fixture
def inbox(make_inbox) -> tuple[Flask, Any]:
    return make_inbox(contact_address=None)


def _raw_reply(
    order: WorkOrder,
    text: bytes,
    *,
    message_id: bytes = b"<reply-1@mail.example.org>",
    attachment_type: bytes = b"image/jpeg",
) -> bytes:
    """A reply written byte for byte, so that it may carry what no mail library writes."""
    to = work_orders.reply_address(order).encode()
    subject = f"RE: [{order.claim.reference}] Ordre de service".encode()
    return (
        b"From: " + CONTRACTOR.encode() + b"\r\nTo: " + to + b"\r\nSubject: " + subject
        + b"\r\nDate: " + format_datetime(datetime.now(UTC)).encode()
        + b"\r\nMessage-ID: " + message_id
        + b"\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n"
        + b"--m\r\nContent-Type: text/plain; charset=utf-8\r\n"
        + b"Content-Transfer-Encoding: 8bit\r\n\r\n" + text + b"\r\n"
        + b"--m\r\nContent-Type: " + attachment_type + b"; name=photo.jpg\r\n"
        + b"Content-Disposition: attachment; filename=photo.jpg\r\n"
        + b"Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.b64encode(JPEG) + b"\r\n--m--\r\n"
    )  # fmt: skip


def _stored() -> InboundEmail:
    db.session.expire_all()
    [stored] = db.session.execute(sa.select(InboundEmail)).scalars()
    return stored


def _process(application: Flask, order: WorkOrder, eml: bytes) -> InboundEmail:
    to = work_orders.reply_address(order)
    assert post_raw_email(application.test_client(), eml, to).status_code == 200
    return _stored()


@pytest.mark.parametrize(
    ("text", "message_id", "attachment_type"),
    [
        ("Travaux\x00 terminés.".encode(), b"<reply-1@mail.example.org>", b"image/jpeg"),
        ("Travaux terminés.".encode(), b"<reply\x00-1@mail.example.org>", b"image/jpeg"),
        ("Travaux terminés.".encode(), b"<reply-1@mail.example.org>", b"image/jp\x00eg"),
    ],
    ids=["text", "message-id", "attachment-type"],
)
def test_a_nul_byte_is_dropped_and_the_reply_applied(inbox, text, message_id, attachment_type):
    application, world = inbox
    order = claim_with_work_order(application, world)
    eml = _raw_reply(order, text, message_id=message_id, attachment_type=attachment_type)
    stored = _process(application, order, eml)

    assert (stored.status, stored.error, stored.attempts) == (InboundStatus.APPLIED, None, 1)
    assert stored.new_text == "Travaux terminés."
    assert stored.message_id == "<reply-1@mail.example.org>"
    [attachment] = stored.attachments
    assert (attachment.content_type, attachment.data, attachment.refused) == (
        "image/jpeg",
        JPEG,
        None,
    )
    db.session.expire_all()
    assert db.session.get(Claim, order.claim_id).status == ClaimStatus.RESOLVED


def test_one_bad_byte_in_a_utf8_reply_leaves_the_rest_readable(inbox):
    application, world = inbox
    order = claim_with_work_order(application, world)
    text = "Travaux terminés, fuite réparée ".encode() + b"\xff" + b" ce matin."
    stored = _process(application, order, _raw_reply(order, text))

    assert stored.new_text == "Travaux terminés, fuite réparée \ufffd ce matin."
    assert stored.status == InboundStatus.APPLIED
    db.session.expire_all()
    assert db.session.get(Claim, order.claim_id).status == ClaimStatus.RESOLVED
