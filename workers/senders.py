"""The e-mail and SMS senders chosen by configuration, built once per process."""

from __future__ import annotations

import threading
import weakref
from pathlib import Path

from flask import Flask

from notifications.base import EmailSender, SmsSender
from notifications.factory import build_senders

_per_thread = threading.local()


def senders(app: Flask) -> tuple[EmailSender, SmsSender]:
    built = app.extensions.get("grc_senders")
    if built is None:
        built = _build(app)
        app.extensions["grc_senders"] = built
    return built


def thread_senders(app: Flask) -> tuple[EmailSender, SmsSender]:
    """Senders for a delivery thread: its own SDK clients, unless tests plugged senders in."""
    if app.extensions.get("grc_senders_plugged"):
        return app.extensions["grc_senders"]
    mine = _per_thread.__dict__.setdefault("by_app", weakref.WeakKeyDictionary())
    built = mine.get(app)
    if built is None:
        built = mine[app] = _build(app)
    return built


def _build(app: Flask) -> tuple[EmailSender, SmsSender]:
    settings = app.extensions["grc_settings"]
    return build_senders(
        sendgrid_api_key=settings.sendgrid_api_key,
        sendgrid_host=settings.sendgrid_api_host,
        email_from=settings.email_from,
        twilio_account_sid=settings.twilio_account_sid,
        twilio_auth_token=settings.twilio_auth_token,
        twilio_from=settings.twilio_from_number,
        twilio_base_url=settings.twilio_api_base_url,
        dev_outbox_dir=Path(app.instance_path),
    )


def set_senders(app: Flask, email: EmailSender, sms: SmsSender) -> None:
    """Used by tests to plug in-memory senders."""
    app.extensions["grc_senders"] = (email, sms)
    app.extensions["grc_senders_plugged"] = True
