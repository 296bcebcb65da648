"""Launching a poll (the stratified random sample, one poll per tenant per quarter by a
unique key), sending it (the SMS first question, the e-mail's signed link; never in quiet
hours; batched) and closing it. Every function flushes and never commits.

A message is an outbox row keyed by the recipient and the question: a run repeated (the job
retried, the command run by hand at the same time) writes nothing twice; a recipient moves
from pending to asked by a conditional UPDATE, so two runs never both ask them.
"""

from __future__ import annotations

import functools
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from grc.claims.notify import local_datetime_text
from grc.clock import settings
from grc.db import among_ids, insert_many
from grc.errors import InvalidInput
from grc.housing.models import Building, Dwelling, Residence
from grc.messaging.models import MessageChannel, Purpose
from grc.messaging.operations import NewMessage, after_quiet_hours, queue_message
from grc.messaging.rendering import render_email, render_sms
from grc.people.models import Channel, Lease, PhoneKind, Tenant, TenantPhone, User
from grc.polls.figures import allocate
from grc.polls.models import (
    Poll,
    PollOptOut,
    PollQuestion,
    PollRecipient,
    PollStatus,
    RecipientChannel,
    RecipientStatus,
    Theme,
)

POLL_LIFE = timedelta(days=21)
MAX_QUESTIONS = 8
MAX_SAMPLE = 100_000
MAX_TITLE = 200
MAX_QUESTION = 300
# Recipients asked per run of the job (one a minute): a sample of thousands leaves within
# the hour without one long transaction.
BATCH = 500
_LINK_SALT = "grc-poll-page"

# The standard wording of each theme's question, in French and English (a manager may
# write their own).
STANDARD_QUESTIONS: dict[Theme, tuple[str, str]] = {
    Theme.CLEANLINESS: (
        "Êtes-vous satisfait de la propreté des parties communes de votre immeuble ?",
        "Are you satisfied with the cleanliness of your building's common areas?",
    ),
    Theme.COLLECTIVE_EQUIPMENT: (
        "Êtes-vous satisfait du fonctionnement des équipements collectifs "
        "(ascenseur, éclairage, portes, interphone) ?",
        "Are you satisfied with the working of the shared equipment "
        "(lift, lighting, doors, intercom)?",
    ),
    Theme.DWELLING_EQUIPMENT: (
        "Êtes-vous satisfait des équipements de votre logement ?",
        "Are you satisfied with your home's equipment?",
    ),
    Theme.TECHNICAL_REQUESTS: (
        "Êtes-vous satisfait du traitement de vos demandes techniques ?",
        "Are you satisfied with how your repair requests are handled?",
    ),
    Theme.INFORMATION: (
        "Êtes-vous satisfait de l'information que vous donne votre bailleur ?",
        "Are you satisfied with the information your landlord gives you?",
    ),
    Theme.OVERALL: (
        "Dans l'ensemble, êtes-vous satisfait de votre bailleur ?",
        "Overall, are you satisfied with your landlord?",
    ),
}


@dataclass(frozen=True)
class NewQuestion:
    theme: Theme
    text_fr: str = ""
    text_en: str = ""


@dataclass(frozen=True)
class NewPoll:
    title: str
    questions: list[NewQuestion]
    sample_size: int


def quarter_of(moment: datetime) -> str:
    local = moment.astimezone(settings().tz)
    return f"{local.year}-Q{(local.month - 1) // 3 + 1}"


def _checked(new: NewPoll) -> tuple[str, list[tuple[Theme, str, str]]]:
    errors: dict[str, list[str]] = {}
    title = " ".join(new.title.split())
    if not title:
        errors["title"] = ["A title is required."]
    elif len(title) > MAX_TITLE:
        errors["title"] = [f"At most {MAX_TITLE} characters."]
    if not 1 <= len(new.questions) <= MAX_QUESTIONS:
        errors["questions"] = [f"From 1 to {MAX_QUESTIONS} questions."]
    if not 1 <= new.sample_size <= MAX_SAMPLE:
        errors["sample_size"] = [f"From 1 to {MAX_SAMPLE}."]
    questions = []
    for number, question in enumerate(new.questions, start=1):
        standard = STANDARD_QUESTIONS.get(question.theme, ("", ""))
        text_fr = " ".join(question.text_fr.split()) or standard[0]
        text_en = " ".join(question.text_en.split()) or standard[1] or text_fr
        if not text_fr:
            errors[f"questions.{number}.text_fr"] = ["A question of this theme needs its text."]
        elif max(len(text_fr), len(text_en)) > MAX_QUESTION:
            errors[f"questions.{number}.text_fr"] = [f"At most {MAX_QUESTION} characters."]
        questions.append((question.theme, text_fr, text_en))
    if errors:
        raise InvalidInput(errors)
    return title, questions


@dataclass(frozen=True)
class _Candidate:
    tenant_id: int
    agency_id: int
    residence_id: int
    building_id: int
    channel: RecipientChannel
    address: str | None
    locale: str


def launch_poll(
    session: Session,
    new: NewPoll,
    user: User | None,
    now: datetime,
    rng: random.Random | None = None,
) -> Poll:
    """Create the poll and draw its sample: tenants with a current lease, stratified by
    agency with proportional allocation (largest remainder), at random within each agency;
    tenants who opted out of polls, or with no way to reach them, are not drawn; nor those
    drawn for another poll this quarter (the unique key decides between two launches at
    once: a tenant the other one took is replaced by the next one drawn)."""
    title, questions = _checked(new)
    rng = rng or random.Random()  # noqa: S311 - a sample, not a secret
    quarter = quarter_of(now)
    populations, frame = _frame(session, now, quarter)
    poll = Poll(
        title=title,
        quarter=quarter,
        sample_size=new.sample_size,
        status=PollStatus.OPEN,
        launched_by_id=user.id if user is not None else None,
        launched_at=now,
        closes_at=now + POLL_LIFE,
        populations=populations,
    )
    session.add(poll)
    for position, (theme, text_fr, text_en) in enumerate(questions, start=1):
        session.add(
            PollQuestion(
                poll=poll, position=position, theme=theme, text_fr=text_fr, text_en=text_en
            )
        )
    session.flush()
    by_agency: dict[int, list[_Candidate]] = defaultdict(list)
    for candidate in frame:
        by_agency[candidate.agency_id].append(candidate)
    quotas = allocate(
        {agency: populations.get(f"agency:{agency}", 0) for agency in sorted(by_agency)},
        new.sample_size,
    )
    for agency in sorted(by_agency):
        pool = sorted(by_agency[agency], key=lambda c: c.tenant_id)
        rng.shuffle(pool)
        _draw(session, poll, pool, min(quotas[agency], len(pool)))
    session.flush()
    return poll


def _draw(session: Session, poll: Poll, pool: list[_Candidate], wanted: int) -> int:
    """Insert the first ``wanted`` of ``pool``; those another poll took meanwhile this
    quarter are skipped by the unique key and replaced by the next ones."""
    table: Any = PollRecipient.__table__
    taken = 0
    start = 0
    while taken < wanted and start < len(pool):
        chunk = pool[start : start + wanted - taken]
        start += len(chunk)
        rows = [
            {
                "poll_id": poll.id,
                "tenant_id": c.tenant_id,
                "quarter": poll.quarter,
                "agency_id": c.agency_id,
                "residence_id": c.residence_id,
                "building_id": c.building_id,
                "channel": str(c.channel),
                "address": c.address,
                "locale": c.locale,
                "status": str(RecipientStatus.PENDING),
                "needs_person": False,
                "call_attempts": 0,
            }
            for c in chunk
        ]
        taken += len(
            insert_many(
                session, table, rows, skip_conflicts_on=("tenant_id", "quarter"), returning=("id",)
            )
        )
    return taken


def _frame(
    session: Session, now: datetime, quarter: str
) -> tuple[dict[str, int], list[_Candidate]]:
    """The tenants with a current lease (their first one), counted per group (the
    populations), and those of them who may be drawn, with their channel."""
    day = now.astimezone(settings().tz).date()
    first_lease = (
        sa.select(Lease.tenant_id, sa.func.min(Lease.id).label("lease_id"))
        .where(Lease.current_on(day))
        .group_by(Lease.tenant_id)
        .subquery()
    )
    opted_out = sa.select(PollOptOut.tenant_id).where(PollOptOut.tenant_id == Tenant.id).exists()
    polled = (
        sa.select(PollRecipient.id)
        .where(PollRecipient.tenant_id == Tenant.id, PollRecipient.quarter == quarter)
        .exists()
    )
    rows = session.execute(
        sa.select(
            Tenant.id,
            Tenant.email,
            Tenant.email_opt_out,
            Tenant.sms_opt_out,
            Tenant.preferred_channel,
            Tenant.locale,
            Building.id,
            Residence.id,
            Residence.agency_id,
            opted_out,
            polled,
        )
        .join(first_lease, first_lease.c.tenant_id == Tenant.id)
        .join(Lease, Lease.id == first_lease.c.lease_id)
        .join(Dwelling, Dwelling.id == Lease.dwelling_id)
        .join(Building, Building.id == Dwelling.building_id)
        .join(Residence, Residence.id == Building.residence_id)
    ).all()
    phones: dict[int, list[tuple[str, PhoneKind]]] = defaultdict(list)
    for tenant_id, number, kind in session.execute(
        sa.select(TenantPhone.tenant_id, TenantPhone.number, TenantPhone.kind).order_by(
            TenantPhone.id
        )
    ):
        phones[tenant_id].append((number, kind))
    populations: dict[str, int] = defaultdict(int)
    frame: list[_Candidate] = []
    for row in rows:
        (tenant_id, email, email_out, sms_out, preferred, locale, building, residence, agency,
         is_out, is_polled) = row  # fmt: skip
        populations["all"] += 1
        populations[f"agency:{agency}"] += 1
        populations[f"residence:{residence}"] += 1
        populations[f"building:{building}"] += 1
        if is_out or is_polled:
            continue
        route = _route(phones.get(tenant_id, []), email, email_out, sms_out, preferred)
        if route is None:
            continue
        frame.append(
            _Candidate(tenant_id, agency, residence, building, route[0], route[1], locale or "fr")
        )
    return dict(populations), frame


def _route(
    phones: list[tuple[str, PhoneKind]],
    email: str | None,
    email_out: bool,
    sms_out: bool,
    preferred: Channel,
) -> tuple[RecipientChannel, str] | None:
    """SMS to a mobile not opted out, else the e-mail not opted out (in the tenant's order
    of preference), else a call to any number; a tenant who wants letters only is called.
    None: no way to reach them."""
    mobile = next((n for n, kind in phones if kind == PhoneKind.MOBILE), None)
    if preferred != Channel.LETTER:
        sms = (RecipientChannel.SMS, mobile) if mobile and not sms_out else None
        mail = (RecipientChannel.EMAIL, email) if email and not email_out else None
        order = [mail, sms] if preferred == Channel.EMAIL else [sms, mail]
        chosen = next((choice for choice in order if choice), None)
        if chosen is not None:
            return chosen
    number = mobile or next((n for n, _ in phones), None)
    return (RecipientChannel.CALL, number) if number else None


# --- sending -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PollRun:
    sms: int = 0
    emails: int = 0
    closed: int = 0

    def __str__(self) -> str:
        return f"sms={self.sms} emails={self.emails} closed={self.closed}"


def send_due_polls(session: Session, now: datetime) -> PollRun:
    """One run of the poll job: close the polls past their date, then (outside quiet
    hours) ask a batch of the tenants drawn: the first question by SMS, or the e-mail."""
    closed = close_polls(session, now)
    config = settings()
    if after_quiet_hours(now, config.quiet_hours, config.tz) != now:
        return PollRun(closed=closed)
    due = list(
        session.execute(
            sa.select(PollRecipient)
            .join(Poll, Poll.id == PollRecipient.poll_id)
            .where(
                PollRecipient.status == RecipientStatus.PENDING,
                PollRecipient.channel.in_([RecipientChannel.SMS, RecipientChannel.EMAIL]),
                Poll.status == PollStatus.OPEN,
                Poll.closes_at > now,
            )
            .order_by(PollRecipient.id)
            .limit(BATCH)
        ).scalars()
    )
    if not due:
        return PollRun(closed=closed)
    moved = set(
        session.execute(
            sa.update(PollRecipient)
            .where(
                among_ids(session, PollRecipient.id, [r.id for r in due]),
                PollRecipient.status == RecipientStatus.PENDING,
            )
            .values(status=RecipientStatus.ASKED, asked_at=now)
            .returning(PollRecipient.id)
            .execution_options(synchronize_session=False)
        ).scalars()
    )
    polls = {r.poll_id: r.poll for r in due}
    questions = {poll_id: poll.questions for poll_id, poll in polls.items()}
    names: dict[int, str] = {
        tenant_id: f"{first} {last}"
        for tenant_id, first, last in session.execute(
            sa.select(Tenant.id, Tenant.first_name, Tenant.last_name).where(
                among_ids(session, Tenant.id, sorted({r.tenant_id for r in due}))
            )
        )
    }
    sms = emails = 0
    for recipient in due:
        if recipient.id not in moved:
            continue  # another run asked them
        recipient.status, recipient.asked_at = RecipientStatus.ASKED, now
        if recipient.channel == RecipientChannel.SMS:
            recipient.next_position, recipient.last_sms_at = 1, now
            ask_question(session, recipient, questions[recipient.poll_id][0], now)
            sms += 1
        else:
            _invite(
                session,
                recipient,
                polls[recipient.poll_id],
                names.get(recipient.tenant_id, ""),
                now,
            )
            emails += 1
    session.flush()
    return PollRun(sms=sms, emails=emails, closed=closed)


def close_polls(session: Session, now: datetime) -> int:
    """Polls past their closing date close; their tenants not finished are closed too."""
    ids = list(
        session.execute(
            sa.update(Poll)
            .where(Poll.status == PollStatus.OPEN, Poll.closes_at <= now)
            .values(status=PollStatus.CLOSED)
            .returning(Poll.id)
            .execution_options(synchronize_session=False)
        ).scalars()
    )
    if ids:
        session.execute(
            sa.update(PollRecipient)
            .where(
                PollRecipient.poll_id.in_(ids),
                PollRecipient.status.in_([RecipientStatus.PENDING, RecipientStatus.ASKED]),
            )
            .values(status=RecipientStatus.CLOSED)
            .execution_options(synchronize_session=False)
        )
    return len(ids)


def ask_question(
    session: Session, recipient: PollRecipient, question: PollQuestion, now: datetime
) -> bool:
    """The SMS asking ``question`` (once per recipient and question)."""
    count = len(recipient.poll.questions)
    text = render_sms(
        Purpose.POLL_QUESTION,
        recipient.locale,
        landlord=settings().landlord_name,
        position=question.position,
        count=count,
        question=question.text(recipient.locale),
    )
    return send_sms(session, recipient, Purpose.POLL_QUESTION, f"q{question.position}", text, now)


def send_sms(
    session: Session,
    recipient: PollRecipient,
    purpose: Purpose,
    suffix: str,
    text: str,
    now: datetime,
) -> bool:
    """A poll SMS; one answering a tenant's late-evening text waits for the end of quiet
    hours (no poll SMS ever leaves during them)."""
    config = settings()
    message = queue_message(
        session,
        NewMessage(
            idempotency_key=f"poll:{recipient.id}:{suffix}",
            channel=MessageChannel.SMS,
            purpose=purpose,
            recipient=recipient.address or "",
            body_text=text,
            locale=recipient.locale,
            available_at=after_quiet_hours(now, config.quiet_hours, config.tz),
        ),
        now,
    )
    return message is not None


def _invite(
    session: Session, recipient: PollRecipient, poll: Poll, tenant_name: str, now: datetime
) -> bool:
    email = render_email(
        Purpose.POLL_INVITATION,
        recipient.locale,
        landlord=settings().landlord_name,
        tenant_name=tenant_name,
        count=len(poll.questions),
        link=page_link(recipient.id, recipient.locale),
        closes=local_datetime_text(poll.closes_at, recipient.locale),
    )
    message = queue_message(
        session,
        NewMessage(
            idempotency_key=f"poll:{recipient.id}:invitation",
            channel=MessageChannel.EMAIL,
            purpose=Purpose.POLL_INVITATION,
            recipient=recipient.address or "",
            subject=email.subject,
            body_text=email.text,
            body_html=email.html,
            locale=recipient.locale,
            available_at=now,
        ),
        now,
    )
    return message is not None


# --- the e-mail's signed link --------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _serializer_for(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_LINK_SALT)


def page_token(recipient_id: int) -> str:
    """The link's token: one recipient's page, for answering only."""
    return _serializer_for(settings().secret_key).dumps(["poll", recipient_id])


def read_page_token(token: str) -> int | None:
    """The recipient a token names, if signed by us and not older than a poll lives (the
    poll's own closing is checked by the caller)."""
    try:
        purpose, recipient_id = _serializer_for(settings().secret_key).loads(
            token, max_age=int((POLL_LIFE + timedelta(days=1)).total_seconds())
        )
    except (BadSignature, ValueError, TypeError):
        return None
    if purpose != "poll" or not isinstance(recipient_id, int) or isinstance(recipient_id, bool):
        return None
    return recipient_id


def page_link(recipient_id: int, locale: str = "fr") -> str:
    public = settings().public_url or ""
    lang = "?lang=en" if locale == "en" else ""
    return f"{public}/sondage/{page_token(recipient_id)}{lang}"


def opt_out(session: Session, tenant_id: int, now: datetime) -> None:
    """The tenant asks not to be polled again (idempotent)."""
    insert_many(
        session,
        cast("sa.Table", PollOptOut.__table__),  # a mapped class's Table
        [{"tenant_id": tenant_id, "created_at": now}],
        skip_conflicts_on=("tenant_id",),
    )
