"""Who is told what about a claim, by which channel, and when.

Tenants: acknowledgement at registration, a message when a visit is scheduled, when the
claim is resolved and when it needs their answer — on their preferred channel, falling back
to the other one, never by a channel they opted out of, and non-urgent SMS held back during
quiet hours. The tenants who called again about the same problem (``ClaimCaller``) are told
of the resolution too, each on their own channel (``recipients``). Staff: SLA warnings and
breaches, and the on-call person for emergencies registered outside business hours.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from grc.claims import timeline
from grc.claims.models import (
    Claim,
    ClaimCaller,
    EventKind,
    Priority,
    TreatmentUnit,
    Visibility,
)
from grc.claims.sla import sla_calendar
from grc.clock import settings
from grc.messaging.models import MessageChannel, OutboxMessage, Purpose
from grc.messaging.operations import (
    NewMessage,
    after_quiet_hours,
    cancel_pending,
    queue_message,
)
from grc.messaging.rendering import RenderedEmail, render_email, render_sms
from grc.people.models import Channel, PhoneKind, Role, Tenant, User

TENANT_PURPOSES = (Purpose.ACKNOWLEDGEMENT, Purpose.SCHEDULED, Purpose.RESOLVED, Purpose.QUESTION)


def local_datetime_text(moment: datetime, locale: str) -> str:
    local = moment.astimezone(settings().tz)
    if locale == "en":
        return local.strftime("%d/%m/%Y at %H:%M")
    return local.strftime("%d/%m/%Y à %Hh%M")


def _hour_text(moment: datetime, locale: str) -> str:
    if locale == "en":
        return moment.strftime("%H:%M")
    return f"{moment.hour}h{moment.minute:02d}" if moment.minute else f"{moment.hour}h"


def appointment_text(start: datetime, end: datetime | None, locale: str) -> str:
    """The visit as the tenant reads it after "le" / "on": "17/03 à 14h", or the window the
    contractor gave, "17/03 entre 8h et 12h" (never an exact time nobody gave)."""
    tz = settings().tz
    local_start = start.astimezone(tz)
    day = local_start.strftime("%d/%m")
    if end is None:
        joined = "at" if locale == "en" else "à"
        return f"{day} {joined} {_hour_text(local_start, locale)}"
    first, last = _hour_text(local_start, locale), _hour_text(end.astimezone(tz), locale)
    if locale == "en":
        return f"{day} between {first} and {last}"
    return f"{day} entre {first} et {last}"


def tenant_channel(tenant: Tenant) -> tuple[MessageChannel, str] | None:
    """The channel and address to reach the tenant, or None when no electronic channel is
    open (no mobile number or e-mail, opted out, or letters preferred)."""
    mobile = next((p.number for p in tenant.phones if p.kind == PhoneKind.MOBILE), None)
    sms = (MessageChannel.SMS, mobile) if mobile and not tenant.sms_opt_out else None
    email = (
        (MessageChannel.EMAIL, tenant.email) if tenant.email and not tenant.email_opt_out else None
    )
    if tenant.preferred_channel == Channel.LETTER:
        return None
    order = [email, sms] if tenant.preferred_channel == Channel.EMAIL else [sms, email]
    return next((choice for choice in order if choice), None)


def _claim_context(claim: Claim, locale: str, tenant: Tenant | None = None) -> dict[str, Any]:
    """What the templates say about ``claim``, greeting ``tenant`` (by default its own)."""
    addressee = tenant or claim.tenant
    return {
        "landlord": settings().landlord_name,
        "reference": claim.reference,
        "category": claim.category.label(locale),
        "tenant_name": addressee.full_name if addressee else "",
        "unit": claim.unit.name,
        "contractor": claim.contractor.name if claim.contractor else None,
        "due": local_datetime_text(claim.resolution_due, locale),
        "address": claim.building.short_address,
        "status": str(claim.status),
        "resolution": claim.resolution,
        "appointment": appointment_text(claim.appointment_at, claim.appointment_end, locale)
        if claim.appointment_at
        else None,
    }


# What the tenants who called again about a claim's problem are told too: the outcome. The
# acknowledgement, the visit and questions are the claim's own tenant's business.
CALLER_PURPOSES = frozenset({Purpose.RESOLVED})


def recipients(session: Session, claim: Claim, purpose: Purpose) -> list[Tenant]:
    """Who is told about ``claim`` for ``purpose``: its tenant, and for its outcome the
    tenants recorded as further callers, in the order they called; each once."""
    people = [claim.tenant] if claim.tenant is not None else []
    if purpose in CALLER_PURPOSES:
        people += _callers(session, claim)
    once: dict[int, Tenant] = {}
    for tenant in people:
        once.setdefault(tenant.id, tenant)
    return list(once.values())


def _callers(session: Session, claim: Claim) -> list[Tenant]:
    if "callers" not in sa.inspect(claim).unloaded:
        # Known already (none on a claim just registered): no query.
        return [call.tenant for call in claim.callers]
    first_call = sa.func.min(ClaimCaller.id)
    return list(
        session.execute(
            sa.select(Tenant)
            .join(ClaimCaller, ClaimCaller.tenant_id == Tenant.id)
            .where(ClaimCaller.claim_id == claim.id)
            .group_by(Tenant.id)
            .order_by(first_call)
            .options(selectinload(Tenant.phones))
        ).scalars()
    )


def notify_tenants(
    session: Session,
    claim: Claim,
    purpose: Purpose,
    now: datetime,
    *,
    occasion: str = "",
    question: str | None = None,
) -> list[OutboxMessage]:
    """Queue the message for ``purpose`` to each of the claim's ``recipients``, each on
    their own channel; ``occasion`` tells repeats apart (a second resolution after a
    reopening is a new message, a retried request is not)."""
    messages = []
    for tenant in recipients(session, claim, purpose):
        message = _notify(session, claim, tenant, purpose, now, occasion, question)
        if message is not None:
            messages.append(message)
    return messages


def _notify(
    session: Session,
    claim: Claim,
    tenant: Tenant,
    purpose: Purpose,
    now: datetime,
    occasion: str,
    question: str | None,
) -> OutboxMessage | None:
    route = tenant_channel(tenant)
    if route is None:
        return None
    channel, recipient = route
    own_tenant = tenant.id == claim.tenant_id
    locale = tenant.locale or "fr"
    context = _claim_context(claim, locale, tenant) | {"question": question or ""}
    urgent = claim.priority == Priority.URGENT
    if channel == MessageChannel.SMS:
        subject, text, html = None, render_sms(purpose, locale, **context), None
        available_at = (
            now if urgent else after_quiet_hours(now, settings().quiet_hours, settings().tz)
        )
    else:
        email = render_email(purpose, locale, **context)
        subject, text, html, available_at = email.subject, email.text, email.html, now
    key = f"claim:{claim.id}:{purpose}:{occasion}"
    message = queue_message(
        session,
        NewMessage(
            # The claim's own tenant keeps the key messages always had; each caller has one.
            idempotency_key=key if own_tenant else f"{key}:tenant:{tenant.id}",
            channel=channel,
            purpose=purpose,
            recipient=recipient,
            subject=subject,
            body_text=text,
            body_html=html,
            claim_id=claim.id,
            urgent=urgent,
            locale=locale,
            available_at=available_at,
        ),
        now,
    )
    if message is not None:
        timeline.add_event(
            session,
            claim,
            EventKind.MESSAGE,
            now,
            # A message to another caller names them: the claim's tenant does not see it.
            visibility=Visibility.TENANT if own_tenant else Visibility.INTERNAL,
            body=text if channel == MessageChannel.SMS else f"{subject}\n\n{text}",
            changes={
                "outbox_id": message.id,
                "channel": str(channel),
                "purpose": str(purpose),
                "available_at": available_at.isoformat(),
                **({} if own_tenant else {"tenant_id": tenant.id}),
            },
        )
    return message


def withdraw_questions(session: Session, claim: Claim) -> list[int]:
    """Cancel the claim's questions to its tenant that have not left yet; their ids."""
    return cancel_pending(
        session,
        claim.id,
        Purpose.QUESTION,
        reason="Withdrawn before it left: the claim no longer waited for the tenant's answer.",
    )


def alert_on_call(session: Session, claim: Claim, now: datetime) -> OutboxMessage | None:
    """An emergency registered outside business hours: text the agency's on-call person."""
    agency = claim.agency
    if claim.priority != Priority.URGENT or not agency.on_call_phone:
        return None
    if sla_calendar(claim.residence).is_open(now):
        return None
    context = _claim_context(claim, "fr")
    tenant_phone = claim.tenant.phones[0].number if claim.tenant and claim.tenant.phones else "-"
    text = render_sms(Purpose.ON_CALL_ALERT, "fr", **context, tenant_phone=tenant_phone)
    return queue_message(
        session,
        NewMessage(
            idempotency_key=f"claim:{claim.id}:{Purpose.ON_CALL_ALERT}",
            channel=MessageChannel.SMS,
            purpose=Purpose.ON_CALL_ALERT,
            recipient=agency.on_call_phone,
            body_text=text,
            claim_id=claim.id,
            urgent=True,
        ),
        now,
    )


@dataclass(frozen=True, slots=True)
class StaffAlert:
    """One claim's alert to one staff address (an SLA warning or breach, a work order's
    missed deadline): the e-mail it is on its own, and its line when a digest names it."""

    recipient: str
    # The alert's key on its own; the outbox key adds the address.
    key: str
    claim_id: int
    line: DigestLine
    # Rendered only if it leaves on its own (called once per recipient).
    email: Callable[[], RenderedEmail]
    # Where the digest's reader finds the whole list: the claims list, or the unit's queue.
    list_path: str = "/claims"


@dataclass(frozen=True, slots=True)
class DigestLine:
    reference: str
    category: str
    address: str
    due: datetime
    # What else the reader needs on the line: the unit, the contractor.
    detail: str = ""


# The claims a digest names one by one; the rest are counted, and linked to.
DIGEST_LINES = 100


def staff_alert_messages(
    purpose: Purpose, alerts: list[StaffAlert], **digest_context: Any
) -> list[NewMessage]:
    """The e-mails of a watch run's alerts: an address with one alert gets that claim's own
    e-mail; an address with several gets one digest naming them, nearest deadline first (a
    morning when hundreds of deadlines pass is one e-mail per person, not hundreds). The
    digest's key is its claims' keys: the same run repeated writes nothing new."""
    by_recipient: dict[str, list[StaffAlert]] = {}
    for alert in alerts:
        by_recipient.setdefault(alert.recipient, []).append(alert)
    messages = []
    for address, own in sorted(by_recipient.items()):
        if len(own) == 1:
            alert = own[0]
            email = alert.email()
            key, claim_id = f"{alert.key}:{address}", alert.claim_id
        else:
            own.sort(key=lambda a: (a.line.due, a.line.reference))
            public_url = settings().public_url
            email = render_email(
                purpose,
                "fr",
                digest=True,
                count=len(own),
                lines=[_digest_line(alert.line) for alert in own[:DIGEST_LINES]],
                more=max(0, len(own) - DIGEST_LINES),
                list_url=f"{public_url}{own[0].list_path}" if public_url else None,
                **digest_context,
            )
            keys = hashlib.sha256("\n".join(sorted(a.key for a in own)).encode()).hexdigest()
            key, claim_id = f"{purpose}:digest:{keys[:40]}:{address}", None
        messages.append(
            NewMessage(
                idempotency_key=key,
                channel=MessageChannel.EMAIL,
                purpose=purpose,
                recipient=address,
                subject=email.subject,
                body_text=email.text,
                body_html=email.html,
                claim_id=claim_id,
            )
        )
    return messages


def _digest_line(line: DigestLine) -> dict[str, str]:
    return {
        "reference": line.reference,
        "category": line.category,
        "address": line.address,
        "due": local_datetime_text(line.due, "fr"),
        "detail": line.detail,
    }


class StaffRecipients:
    """Who staff alerts go to, each read once however many claims are alerted: the active
    managers, and per unit its shared address or else its active members."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._managers: list[str] | None = None
        self._units: dict[int, list[str]] = {}

    def managers(self) -> list[str]:
        if self._managers is None:
            self._managers = list(
                self._session.execute(
                    sa.select(User.email).where(User.role == Role.MANAGER, User.active)
                ).scalars()
            )
        return self._managers

    def of_unit(self, unit_id: int) -> list[str]:
        """The unit's shared address, or else its active members' addresses."""
        if unit_id not in self._units:
            shared = self._session.execute(
                sa.select(TreatmentUnit.email).where(TreatmentUnit.id == unit_id)
            ).scalar_one_or_none()
            self._units[unit_id] = (
                [shared]
                if shared
                else list(
                    self._session.execute(
                        sa.select(User.email).where(User.unit_id == unit_id, User.active)
                    ).scalars()
                )
            )
        return self._units[unit_id]
