"""Job entry points: load by id, check state, call the operation, own the commit.

Arguments are ids only and results are short words, so no personal data ever sits in Redis.
Logs name message ids and claim references, never recipients or bodies.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa

from grc.db import utcnow
from grc.extensions import db
from grc.messaging import operations as outbox
from grc.messaging.models import MessageChannel, OutboxMessage
from grc.people.models import Tenant, TenantPhone
from notifications.base import (
    EmailMessage,
    PermanentSendError,
    RetryableSendError,
    SmsMessage,
    UnknownOutcomeError,
)
from workers.app import job_context
from workers.senders import senders

log = logging.getLogger(__name__)


def deliver_message(message_id: int) -> str:
    with job_context() as app:
        settings = app.extensions["grc_settings"]
        now = utcnow()
        message = outbox.claim_for_delivery(
            db.session, message_id, now, timedelta(seconds=settings.delivery_lease_seconds)
        )
        # The claim is committed before the provider is called: see claim_for_delivery.
        db.session.commit()
        if message is None:
            return "skipped"
        email_sender, sms_sender = senders(app)
        try:
            if message.channel == MessageChannel.SMS:
                result = sms_sender.send_sms(
                    SmsMessage(
                        to=message.recipient,
                        body=message.body_text,
                        message_key=message.message_key,
                        status_callback=_status_callback_url(settings),
                    )
                )
            else:
                result = email_sender.send_email(
                    EmailMessage(
                        to=message.recipient,
                        subject=message.subject or "",
                        text=message.body_text,
                        html=message.body_html,
                        from_email=settings.email_from,
                        from_name=settings.landlord_name,
                        message_key=message.message_key,
                    )
                )
        except PermanentSendError as error:
            outbox.record_failure(db.session, message, f"{type(error).__name__}: {error}", utcnow())
            if getattr(error, "opted_out", False) and message.channel == MessageChannel.SMS:
                _opt_out_sms(message.recipient)
            db.session.commit()
            log.warning("message %s failed permanently", message_id)
            return "failed"
        except UnknownOutcomeError as error:
            if message.channel == MessageChannel.SMS:
                outbox.record_unknown_outcome(db.session, message, str(error))
                db.session.commit()
                log.warning("message %s: provider outcome unknown, set aside", message_id)
                return "needs_check"
            return _retry_or_fail(message, error, settings.max_delivery_attempts)
        except RetryableSendError as error:
            return _retry_or_fail(message, error, settings.max_delivery_attempts)
        outbox.record_sent(db.session, message, result.provider, result.provider_id, utcnow())
        db.session.commit()
        log.info("message %s sent (%s)", message_id, result.provider)
        return "sent"


def _retry_or_fail(message: OutboxMessage, error: Exception, max_attempts: int) -> str:
    will_retry = outbox.record_retry(
        db.session, message, f"{type(error).__name__}: {error}", utcnow(), max_attempts
    )
    message_id = message.id
    db.session.commit()
    if will_retry:
        log.info("message %s: temporary failure, RQ will retry", message_id)
        raise error  # RQ's Retry reschedules the job
    log.warning("message %s failed after its last attempt", message_id)
    return "failed"


def _opt_out_sms(number: str) -> None:
    db.session.execute(
        sa.update(Tenant)
        .where(Tenant.id.in_(sa.select(TenantPhone.tenant_id).where(TenantPhone.number == number)))
        .values(sms_opt_out=True)
    )


def _status_callback_url(settings) -> str | None:
    return f"{settings.public_url}/webhooks/twilio/status" if settings.public_url else None


def sweep_outbox() -> int:
    """Hand over again what the queue may have lost (Redis down, process killed)."""
    from flask import current_app

    with job_context() as app:
        settings = app.extensions["grc_settings"]
        now = utcnow()
        ids = outbox.messages_to_hand_over(
            db.session,
            now,
            timedelta(seconds=settings.sweep_after_seconds),
            timedelta(seconds=settings.delivery_lease_seconds),
            settings.max_delivery_attempts,
        )
        db.session.commit()
        if ids:
            dispatcher = current_app.extensions["grc_outbox_dispatcher"]
            dispatcher([(message_id, now) for message_id in ids])
            log.info("sweeper handed over %d message(s)", len(ids))
        return len(ids)


def watch_sla() -> str:
    from grc.claims.sla_watch import watch_sla as watch

    with job_context():
        report = watch(db.session, utcnow())
        db.session.commit()
        return f"checked={report.checked} warnings={report.warnings} breaches={report.breaches}"
