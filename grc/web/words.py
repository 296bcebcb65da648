"""The domain's words as every screen shows them (statuses, priorities, channels, work-order
states), in the catalogue; one place, so the queue, the claim page and the console say the
same thing. A contract's kind is named by its owner, ``grc.contracts.kinds``."""

from __future__ import annotations

import functools
from typing import Any

from flask_babel import LazyString, lazy_gettext

from grc.claims.models import (
    ClaimStatus,
    EventKind,
    IntakeChannel,
    LocationKind,
    Priority,
    Visibility,
)
from grc.contracts.kinds import kind_label
from grc.contracts.models import WorkOrderStatus
from grc.messaging.models import DeliveryStatus, MessageChannel
from grc.people.models import Role
from grc.surveys.models import SurveyStatus
from grc.web import current_language

CLAIM_STATUS: dict[ClaimStatus, LazyString] = {
    ClaimStatus.RECEIVED: lazy_gettext("Received"),
    ClaimStatus.ASSIGNED: lazy_gettext("Assigned"),
    ClaimStatus.IN_PROGRESS: lazy_gettext("In progress"),
    ClaimStatus.WAITING_TENANT: lazy_gettext("Waiting for the tenant"),
    ClaimStatus.RESOLVED: lazy_gettext("Resolved"),
    ClaimStatus.CLOSED: lazy_gettext("Closed"),
    ClaimStatus.CANCELLED: lazy_gettext("Cancelled"),
}

PRIORITY: dict[Priority, LazyString] = {
    Priority.URGENT: lazy_gettext("Urgent"),
    Priority.HIGH: lazy_gettext("High"),
    Priority.NORMAL: lazy_gettext("Normal"),
    Priority.LOW: lazy_gettext("Low"),
}

CHANNEL: dict[IntakeChannel, LazyString] = {
    IntakeChannel.PHONE: lazy_gettext("Phone"),
    IntakeChannel.WEB: lazy_gettext("Website"),
    IntakeChannel.APP: lazy_gettext("Mobile app"),
    IntakeChannel.EMAIL: lazy_gettext("E-mail"),
    IntakeChannel.LETTER: lazy_gettext("Letter"),
    IntakeChannel.DESK: lazy_gettext("Front desk"),
}

LOCATION: dict[LocationKind, LazyString] = {
    LocationKind.DWELLING: lazy_gettext("Dwelling"),
    LocationKind.BUILDING: lazy_gettext("Common areas"),
    LocationKind.EQUIPMENT: lazy_gettext("Equipment"),
}

WORK_ORDER_STATUS: dict[WorkOrderStatus, LazyString] = {
    WorkOrderStatus.SENT: lazy_gettext("Sent to the contractor"),
    WorkOrderStatus.ACKNOWLEDGED: lazy_gettext("Taken on by the contractor"),
    WorkOrderStatus.SCHEDULED: lazy_gettext("Visit planned"),
    WorkOrderStatus.DONE: lazy_gettext("Work done"),
    WorkOrderStatus.CANNOT_INTERVENE: lazy_gettext("Contractor cannot intervene"),
    WorkOrderStatus.CANCELLED: lazy_gettext("Cancelled"),
    WorkOrderStatus.SUPERSEDED: lazy_gettext("Replaced by another order"),
}

ROLE: dict[Role, LazyString] = {
    Role.AGENT: lazy_gettext("Call-centre agent"),
    Role.UNIT: lazy_gettext("Treatment unit"),
    Role.MANAGER: lazy_gettext("Manager"),
    Role.ADMIN: lazy_gettext("Administrator"),
}


EVENT_KIND: dict[EventKind, LazyString] = {
    EventKind.CREATED: lazy_gettext("Claim registered"),
    EventKind.ROUTED: lazy_gettext("Routed"),
    EventKind.STATUS_CHANGED: lazy_gettext("Status changed"),
    EventKind.COMMENT: lazy_gettext("Comment"),
    EventKind.APPOINTMENT: lazy_gettext("Visit planned"),
    EventKind.MESSAGE: lazy_gettext("Message"),
    EventKind.WORK_ORDER: lazy_gettext("Work order"),
    EventKind.CONTRACTOR_REPLY: lazy_gettext("Contractor's reply"),
    EventKind.CALLER: lazy_gettext("Further call"),
}

VISIBILITY: dict[Visibility, LazyString] = {
    Visibility.INTERNAL: lazy_gettext("Internal"),
    Visibility.TENANT: lazy_gettext("Seen by the tenant"),
}

MESSAGE_CHANNEL: dict[MessageChannel, LazyString] = {
    MessageChannel.EMAIL: lazy_gettext("E-mail"),
    MessageChannel.SMS: lazy_gettext("SMS"),
}

DELIVERY_STATUS: dict[DeliveryStatus, LazyString] = {
    DeliveryStatus.PENDING: lazy_gettext("Waiting to be sent"),
    DeliveryStatus.SENDING: lazy_gettext("Being sent"),
    DeliveryStatus.SENT: lazy_gettext("Sent"),
    DeliveryStatus.DELIVERED: lazy_gettext("Delivered"),
    DeliveryStatus.FAILED: lazy_gettext("Not delivered"),
    DeliveryStatus.NEEDS_CHECK: lazy_gettext("Delivery to check"),
    DeliveryStatus.CANCELLED: lazy_gettext("Withdrawn"),
}


SURVEY_STATUS: dict[SurveyStatus, LazyString] = {
    SurveyStatus.PLANNED: lazy_gettext("Planned"),
    SurveyStatus.SENT: lazy_gettext("Sent, no answer yet"),
    SurveyStatus.REMINDED: lazy_gettext("Reminded, no answer yet"),
    SurveyStatus.ANSWERED: lazy_gettext("Answered"),
    SurveyStatus.EXPIRED: lazy_gettext("Expired without an answer"),
    SurveyStatus.CANCELLED: lazy_gettext("Withdrawn before it was sent"),
}


_TABLES: dict[str, dict[Any, LazyString]] = {
    "claim_status": CLAIM_STATUS,
    "priority": PRIORITY,
    "channel": CHANNEL,
    "location": LOCATION,
    "work_order_status": WORK_ORDER_STATUS,
    "role": ROLE,
    "event_kind": EVENT_KIND,
    "visibility": VISIBILITY,
    "message_channel": MESSAGE_CHANNEL,
    "delivery_status": DELIVERY_STATUS,
    "survey_status": SURVEY_STATUS,
}


class Words:
    """The tables above for templates (``words.claim_status[claim.status]``), in the page's
    language, and the name of a contract's kind (``words.contract_kind(contract.kind)``).

    Each table is translated once per language and kept: a claim page names hundreds of
    statuses and event kinds, and a lazy string asks Flask-Babel for the catalogue each time
    it is written. The catalogues change with a release only."""

    contract_kind = staticmethod(kind_label)

    def __getattr__(self, name: str) -> dict[Any, str]:
        if name not in _TABLES:
            raise AttributeError(name)
        return _translated(current_language())[name]


@functools.cache
def _translated(language: str) -> dict[str, dict[Any, str]]:
    # Called within a request of that language: the lazy strings resolve in it.
    return {
        name: {key: str(word) for key, word in table.items()} for name, table in _TABLES.items()
    }
