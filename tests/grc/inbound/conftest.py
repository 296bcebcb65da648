"""Fixtures shared by the inbound tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from grc.extensions import db
from notifications.memory import MemorySender
from tests.factories import build_world
from tests.grc.inbound.inbound_posts import INBOUND_AUTH
from tests.grc.messaging.provider_apps import configured_app
from workers.senders import set_senders

INBOUND_DOMAIN = "inbound.bailleur.test"


@pytest.fixture
def make_inbox(app: Flask, app_ctx: Flask, tmp_path) -> Iterator[Any]:
    opened = []

    def make(*, with_world: bool = True, **overrides: Any) -> tuple[Flask, Any]:
        settings = {
            "inbound_domain": INBOUND_DOMAIN,
            "inbound_basic_auth": INBOUND_AUTH,
            "contact_address": f"contact@{INBOUND_DOMAIN}",
            "instance_path": str(tmp_path),
            **overrides,
        }
        context = configured_app(app, **settings)
        application = context.__enter__()
        opened.append(context)
        set_senders(application, MemorySender(), MemorySender())
        if not with_world:
            return application, None
        world = build_world(db.session)
        db.session.commit()
        return application, world

    yield make
    for context in reversed(opened):
        context.__exit__(None, None, None)
