"""Delivery records for staff: what was sent, what failed and why; retry by an admin.

In development (no provider credentials) the messages that would have left are in the
development outbox, listed here too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from grc.arguments import Blueprint
from grc.auth import Permission, require
from grc.db import utcnow
from grc.errors import Conflict, NotFound
from grc.extensions import db
from grc.messaging.models import DeliveryStatus, OutboxMessage
from grc.messaging.operations import retry_message
from grc.messaging.schemas import DevOutboxEntrySchema, MessageListArgsSchema, MessageSchema
from grc.pagination import page_of

blp = Blueprint(
    "messages",
    __name__,
    url_prefix="/api/v1",
    description="Messages sent to tenants and staff, with their delivery state",
)


@blp.route("/messages")
class MessageList(MethodView):
    @require(Permission.MESSAGES_READ)
    @blp.arguments(MessageListArgsSchema(), location="query")
    @blp.response(200, MessageSchema(many=True))
    @blp.paginate()
    def get(
        self, args: dict[str, Any], pagination_parameters: PaginationParameters
    ) -> list[OutboxMessage]:
        """Newest first; filter on status (e.g. failed, needs_check) or claim."""
        stmt = sa.select(OutboxMessage)
        if args.get("status"):
            stmt = stmt.where(OutboxMessage.status.in_(args["status"]))
        if args.get("claim_id"):
            stmt = stmt.where(OutboxMessage.claim_id == args["claim_id"])
        return page_of(db.session, stmt, pagination_parameters, OutboxMessage.id.desc())


@blp.route("/messages/<int(max=2147483647):message_id>/retry")
class MessageRetry(MethodView):
    @require(Permission.MESSAGES_ADMIN)
    @blp.response(200, MessageSchema)
    def post(self, message_id: int) -> OutboxMessage:
        """Send a failed or to-be-checked message again (after checking with the provider)."""
        message = db.session.get(OutboxMessage, message_id)
        if message is None:
            raise NotFound(f"No message with id {message_id}.")
        if message.status not in (DeliveryStatus.FAILED, DeliveryStatus.NEEDS_CHECK):
            raise Conflict(
                f"The message is {message.status}; only failed or to-be-checked "
                "messages are sent again."
            )
        retry_message(db.session, message, utcnow())
        db.session.commit()
        return message


@blp.route("/dev-outbox")
class DevOutbox(MethodView):
    @require(Permission.MESSAGES_READ)
    @blp.response(200, DevOutboxEntrySchema(many=True))
    def get(self) -> list[dict[str, Any]]:
        """Development only: e-mails and SMS that would have been sent, newest first."""
        from notifications.dev_outbox import DevOutboxSender

        return DevOutboxSender(Path(current_app.instance_path)).read_messages(limit=200)
