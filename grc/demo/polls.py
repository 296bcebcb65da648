"""The demo's two yearly quality-of-service polls: last year's (closed) and this year's
(launched twelve days ago, still open), each on about one tenant in ten, both asking about
the cleanliness of common areas, with believable answers: cleanliness the weakest theme,
better this year, varying by agency. The samples are drawn by the product's own
``launch_poll``; the answers go in with bulk inserts."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grc.db import among_ids, insert_many
from grc.people.models import Lease, Role, User
from grc.polls.models import (
    AnswerSource,
    Poll,
    PollAnswer,
    PollRecipient,
    PollStatus,
    RecipientChannel,
    RecipientStatus,
    Theme,
)
from grc.polls.operations import NewPoll, NewQuestion, launch_poll

THEMES = (Theme.CLEANLINESS, Theme.TECHNICAL_REQUESTS, Theme.INFORMATION, Theme.OVERALL)
# The share of satisfied answers per theme, last year then this year.
SATISFACTION = {
    Theme.CLEANLINESS: (0.61, 0.67),
    Theme.TECHNICAL_REQUESTS: (0.72, 0.75),
    Theme.INFORMATION: (0.78, 0.79),
    Theme.OVERALL: (0.82, 0.84),
}
RESPONSE = {RecipientChannel.SMS: 0.55, RecipientChannel.EMAIL: 0.4, RecipientChannel.CALL: 0.7}


def load_polls(session: Session, rng: random.Random, anchor: datetime) -> list[str]:
    """Both polls; a summary line for the CLI."""
    manager = session.execute(
        sa.select(User).where(User.role == Role.MANAGER).order_by(User.id).limit(1)
    ).scalar_one_or_none()
    lines = ["Quality-of-service polls:"]
    for year, (launched, title) in enumerate(
        (
            (anchor - timedelta(days=372), "Enquête de satisfaction annuelle (année dernière)"),
            (anchor - timedelta(days=12), "Enquête de satisfaction annuelle"),
        )
    ):
        poll, drawn, answered = _poll(session, rng, launched, title, manager, year)
        lines.append(f"  {poll.title}: {drawn:,} tenants drawn, {answered:,} answered")
        session.commit()
    return lines


def _poll(
    session: Session,
    rng: random.Random,
    launched: datetime,
    title: str,
    manager: User | None,
    year: int,
) -> tuple[Poll, int, int]:
    population = _population(session, launched)
    poll = launch_poll(
        session,
        NewPoll(title, [NewQuestion(theme) for theme in THEMES], max(1, population // 10)),
        manager,
        launched,
        rng,
    )
    closed = year == 0
    if closed:
        poll.status = PollStatus.CLOSED
    recipients = list(
        session.execute(
            sa.select(PollRecipient.id, PollRecipient.agency_id, PollRecipient.channel)
            .where(PollRecipient.poll_id == poll.id)
            .order_by(PollRecipient.id)
        )
    )
    agencies = sorted({agency for _, agency, _ in recipients})
    # Some agencies do better than others (their caretakers, their cleaning contracts).
    offsets = {agency: (index - len(agencies) / 2) * 0.035 for index, agency in enumerate(agencies)}
    answered: list[int] = []
    rows: list[dict[str, object]] = []
    for recipient_id, agency, channel in recipients:
        if rng.random() >= RESPONSE[RecipientChannel(channel)]:
            continue
        answered.append(recipient_id)
        moment = launched + timedelta(hours=rng.randint(1, 24 * 10))
        source = {
            RecipientChannel.SMS: AnswerSource.SMS,
            RecipientChannel.EMAIL: AnswerSource.EMAIL,
            RecipientChannel.CALL: AnswerSource.CALL,
        }[RecipientChannel(channel)]
        for question in poll.questions:
            share = SATISFACTION[question.theme][year] + offsets[agency]
            if rng.random() < share:
                value = 1 if rng.random() < 0.4 else 2
            else:
                value = 3 if rng.random() < 0.65 else 4
            rows.append(
                {
                    "recipient_id": recipient_id,
                    "question_id": question.id,
                    "value": value,
                    "source": str(source),
                    "answered_at": moment,
                }
            )
    insert_many(session, cast("sa.Table", PollAnswer.__table__), rows)  # a mapped class's Table
    others = [r for r, _, _ in recipients if r not in set(answered)]
    for ids, status in ((answered, RecipientStatus.ANSWERED), (others, _unanswered(closed))):
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            values: dict[str, object] = {"status": status, "asked_at": launched}
            if status == RecipientStatus.ANSWERED:
                values["answered_at"] = launched + timedelta(days=3)
            session.execute(
                sa.update(PollRecipient)
                .where(among_ids(session, PollRecipient.id, chunk))
                .values(**values)
                .execution_options(synchronize_session=False)
            )
    return poll, len(recipients), len(answered)


def _unanswered(closed: bool) -> RecipientStatus:
    return RecipientStatus.CLOSED if closed else RecipientStatus.ASKED


def _population(session: Session, moment: datetime) -> int:
    return int(
        session.execute(
            sa.select(sa.func.count(sa.distinct(Lease.tenant_id))).where(
                Lease.current_on(moment.date())
            )
        ).scalar_one()
    )
