"""The managers' weekly digest: the week's key figures against the week before, e-mailed to
each active manager on Monday morning, with a link to the reports.

The figures are plain SQL aggregates, all in ``week_figures`` (the reports may share it):

- received: claims created in the week; resolved: claims whose resolution is dated in it;
- resolved on time: of those, the share resolved by their resolution deadline;
- open backlog and overdue: claims open at the week's end (created before it, neither
  resolved, closed nor cancelled by then), and those of them past their resolution deadline
  then; read from the claims' dates, so a past week's backlog is as it stood then;
- calls received, and the answer rate (answered of the calls that ended: answered or
  abandoned); mean satisfaction: the hot surveys' scores (1 to 5) answered in the week.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grc.claims.models import Claim
from grc.messaging.models import MessageChannel, Purpose
from grc.messaging.operations import NewMessage, queue_messages
from grc.messaging.rendering import render_email
from grc.people.models import Role, User
from grc.surveys.models import Survey
from grc.telephony.models import Call, CallStatus

# The digest leaves on Monday from this hour, the landlord's time.
SEND_FROM = time(7, 0)


@dataclass(frozen=True)
class WeekFigures:
    received: int
    resolved: int
    resolved_on_time: int
    backlog: int
    overdue: int
    calls: int
    calls_answered: int
    calls_ended: int
    satisfaction: float | None
    answers: int

    @property
    def on_time_share(self) -> float | None:
        return self.resolved_on_time / self.resolved if self.resolved else None

    @property
    def answer_rate(self) -> float | None:
        return self.calls_answered / self.calls_ended if self.calls_ended else None


def _count(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def week_figures(session: Session, start: datetime, end: datetime) -> WeekFigures:
    """The key figures of [start, end) (UTC instants): three aggregate statements."""
    open_at_end = sa.and_(
        Claim.created_at < end,
        sa.or_(Claim.resolved_at.is_(None), Claim.resolved_at >= end),
        sa.or_(Claim.closed_at.is_(None), Claim.closed_at >= end),
        sa.or_(Claim.cancelled_at.is_(None), Claim.cancelled_at >= end),
    )
    resolved_in = sa.and_(Claim.resolved_at >= start, Claim.resolved_at < end)
    claims = session.execute(
        sa.select(
            _count(sa.and_(Claim.created_at >= start, Claim.created_at < end)),
            _count(resolved_in),
            _count(sa.and_(resolved_in, Claim.resolved_at <= Claim.resolution_due)),
            _count(open_at_end),
            _count(sa.and_(open_at_end, Claim.resolution_due < end)),
        ).where(Claim.created_at < end)
    ).one()
    calls = session.execute(
        sa.select(
            sa.func.count(Call.id),
            _count(Call.status == CallStatus.ANSWERED),
            _count(Call.status.in_((CallStatus.ANSWERED, CallStatus.ABANDONED))),
        ).where(Call.received_at >= start, Call.received_at < end)
    ).one()
    surveys = session.execute(
        sa.select(sa.func.avg(Survey.score), sa.func.count(Survey.score)).where(
            Survey.answered_at >= start, Survey.answered_at < end, Survey.score.is_not(None)
        )
    ).one()
    return WeekFigures(
        received=int(claims[0]),
        resolved=int(claims[1]),
        resolved_on_time=int(claims[2]),
        backlog=int(claims[3]),
        overdue=int(claims[4]),
        calls=int(calls[0]),
        calls_answered=int(calls[1]),
        calls_ended=int(calls[2]),
        satisfaction=float(surveys[0]) if surveys[0] is not None else None,
        answers=int(surveys[1]),
    )


@dataclass(frozen=True)
class DigestWeek:
    """The week a digest reports (Monday 00:00 to the next, the landlord's time), as UTC
    instants, and the week before it."""

    start: datetime
    end: datetime
    previous_start: datetime
    label: str  # ISO week, e.g. 2026-W49: the messages' key
    first_day: str
    last_day: str


def digest_week(now: datetime, tz: ZoneInfo) -> DigestWeek | None:
    """The week just over, from Monday ``SEND_FROM`` (None before that hour on Monday; a
    run later in the week, after a missed Monday, still sends it)."""
    local = now.astimezone(tz)
    monday = local.date() - timedelta(days=local.weekday())
    if local < datetime.combine(monday, SEND_FROM, tz):
        # Before the Monday hour: the week's digest is not due yet (the last one was sent).
        return None
    start_day = monday - timedelta(days=7)
    year, week, _ = start_day.isocalendar()

    def instant(day: date) -> datetime:
        return datetime.combine(day, time(0), tz).astimezone(UTC)

    return DigestWeek(
        start=instant(start_day),
        end=instant(monday),
        previous_start=instant(start_day - timedelta(days=7)),
        label=f"{year}-W{week:02d}",
        first_day=start_day.strftime("%d/%m/%Y"),
        last_day=(monday - timedelta(days=1)).strftime("%d/%m/%Y"),
    )


def _number(value: float | int | None, *, share: bool = False, decimals: int = 0) -> str:
    if value is None:
        return "—"
    if share:
        return f"{value * 100:.0f} %"
    return f"{value:,.{decimals}f}".replace(",", "\u202f").replace(".", ",")


def _change(this: float | None, before: float | None, *, share: bool = False) -> str:
    if this is None or before is None:
        return ""
    delta = (this - before) * (100 if share else 1)
    if round(delta, 1) == 0:
        return "="
    unit = " pt" if share else ""
    shown = f"{abs(delta):.0f}" if share or float(delta).is_integer() else f"{abs(delta):.1f}"
    return f"{'+' if delta > 0 else '−'}{shown.replace('.', ',')}{unit}"


@dataclass(frozen=True)
class Line:
    label: str
    this: str
    before: str
    change: str


def digest_lines(this: WeekFigures, before: WeekFigures) -> list[Line]:
    """The digest's lines, in French (the e-mail's language)."""

    def line(
        label: str, now: float | None, then: float | None, *, share: bool = False, decimals: int = 0
    ) -> Line:
        return Line(
            label,
            _number(now, share=share, decimals=decimals),
            _number(then, share=share, decimals=decimals),
            _change(now, then, share=share),
        )

    return [
        line("Demandes reçues", this.received, before.received),
        line("Demandes résolues", this.resolved, before.resolved),
        line("Résolues dans les délais", this.on_time_share, before.on_time_share, share=True),
        line("Demandes ouvertes en fin de semaine", this.backlog, before.backlog),
        line("dont en retard", this.overdue, before.overdue),
        line("Appels reçus", this.calls, before.calls),
        line("Taux de décroché", this.answer_rate, before.answer_rate, share=True),
        line("Satisfaction moyenne (sur 5)", this.satisfaction, before.satisfaction, decimals=1),
    ]


def queue_weekly_digests(session: Session, now: datetime, tz: ZoneInfo) -> int | None:
    """Queue the digest of the week just over to every active manager with an e-mail
    address: once per manager and week (the outbox's idempotency key), however many times
    the job runs. None before Monday ``SEND_FROM``; else how many were queued now."""
    from grc.clock import settings

    week = digest_week(now, tz)
    if week is None:
        return None
    this = week_figures(session, week.start, week.end)
    before = week_figures(session, week.previous_start, week.start)
    base = settings().public_url or ""
    email = render_email(
        Purpose.WEEKLY_DIGEST,
        "fr",
        week=week,
        lines=digest_lines(this, before),
        reports_url=f"{base}/reports",
        answers=this.answers,
    )
    managers = session.execute(
        sa.select(User.id, User.email).where(User.role == Role.MANAGER, User.active.is_(True))
    ).all()
    written = queue_messages(
        session,
        [
            NewMessage(
                idempotency_key=f"weekly_digest:{week.label}:{user_id}",
                channel=MessageChannel.EMAIL,
                purpose=Purpose.WEEKLY_DIGEST,
                recipient=address,
                subject=email.subject,
                body_text=email.text,
                body_html=email.html,
                available_at=now,
            )
            for user_id, address in managers
        ],
        now,
    )
    return len(written)
