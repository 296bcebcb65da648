"""The landlord's local time (Europe/Paris by default); everything is stored in UTC."""

from __future__ import annotations

from datetime import date, datetime

from flask import current_app

from grc.config import Settings
from grc.db import utcnow


def settings() -> Settings:
    return current_app.extensions["grc_settings"]


def local_today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(settings().tz).date()
