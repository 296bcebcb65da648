"""The reports: each a function returning a ``ReportTable`` (named columns, plain rows), so
that a page, the API or an export writes any of them the same way.

Counting is done by the database (GROUP BY over the claims' own columns, never claims
loaded as objects). Local days, weeks and months are those of Europe/Paris: PostgreSQL
truncates in that zone itself; SQLite, which has no zones, groups by UTC hour (Paris
offsets are whole hours) and the hours are folded into local buckets here.

SLA handling times are kept on each claim when it is responded to and resolved
(``grc.claims.handling``); PostgreSQL takes their medians and 90th percentiles itself
(``percentile_disc``), SQLite's are taken here over the plain numbers streamed from it."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from contractors.rating import PeriodKind, last_quarters, period_containing
from grc.claims.models import (
    OPEN_STATUSES,
    Category,
    Claim,
    ClaimCaller,
    ClaimStatus,
    TreatmentUnit,
)
from grc.contracts.models import Contractor
from grc.db import settings_for_large_counts
from grc.errors import InvalidInput
from grc.housing.models import Agency
from grc.people.models import User
from grc.ratings.operations import overall_by_period
from grc.reports.filters import ReportFilters
from grc.surveys.models import Survey, SurveyStatus
from grc.telephony.models import Call, CallStatus

Row = tuple[Any, ...]


@dataclass
class ReportTable:
    """A report's figures: ``columns`` name each value of every row; ``total`` is the row of
    the whole selection (None where a total means nothing, as in a list)."""

    name: str
    columns: tuple[str, ...]
    rows: list[Row] = field(default_factory=list)
    total: Row | None = None

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


# ---------------------------------------------------------------------------------------
# Grouping keys and their labels


def _key_column(by: str) -> tuple[Any, list[Any]]:
    """The claims' column a grouping is per, and the joins it needs."""
    if by == "channel":
        return Claim.channel, []
    if by == "category":
        return Claim.category_id, []
    if by == "domain":
        # A motive counts in its domain; a claim filed on a domain itself, in that domain.
        return sa.func.coalesce(Category.parent_id, Category.id), [Category]
    if by == "unit":
        return Claim.unit_id, []
    if by == "agency":
        return Claim.agency_id, []
    if by == "contractor":
        return Claim.contractor_id, []
    if by == "agent":
        return Claim.created_by_id, []
    raise InvalidInput({"by": [f"This report is not given per {by}."]})


# What each report may be given per, its default first (its page offers them in this order).
GROUPINGS: dict[str, tuple[str, ...]] = {
    "volumes": ("channel", "category", "domain", "unit", "agency"),
    "sla": ("unit", "category", "domain", "agency", "channel", "contractor"),
    "backlog": ("unit", "category", "domain", "agency", "channel", "contractor"),
    "first-contact": ("category", "domain", "agent", "channel", "unit"),
    "satisfaction": ("contractor", "category", "domain", "agency", "unit"),
}


def grouping(name: str, filters: ReportFilters) -> str:
    """What report ``name`` is given per: the filters' choice (refused, naming the field,
    when the report is not given per it), else its default."""
    allowed = GROUPINGS[name]
    by = filters.by or allowed[0]
    if by not in allowed:
        raise InvalidInput({"by": [f"This report is given per {', '.join(allowed)}."]})
    return by


def _join(stmt: sa.Select[Any], joins: list[Any]) -> sa.Select[Any]:
    for model in joins:
        if model is Category:
            stmt = stmt.join(Category, Category.id == Claim.category_id)
    return stmt


def labels(
    session: Session, by: str, keys: Iterable[Any], locale: str
) -> dict[Any, tuple[str, str]]:
    """(code, label) of each key of a grouping, looked up once per report."""
    wanted = {key for key in keys if key is not None}
    if not wanted:
        return {}
    if by == "channel":
        return {key: (str(key), str(key)) for key in wanted}
    if by in ("category", "domain"):
        categories = session.execute(
            sa.select(Category.id, Category.code, Category.label_fr, Category.label_en).where(
                Category.id.in_(wanted)
            )
        )
        return {i: (code, en if locale == "en" else fr) for i, code, fr, en in categories}
    model: Any = {"unit": TreatmentUnit, "agency": Agency, "contractor": Contractor}.get(by)
    if model is not None:
        rows = session.execute(
            sa.select(model.id, model.code, model.name).where(model.id.in_(wanted))
        )
        return {i: (code, name) for i, code, name in rows}
    users = session.execute(sa.select(User.id, User.name).where(User.id.in_(wanted)))
    return {i: (str(i), name) for i, name in users}


def _label(found: dict[Any, tuple[str, str]], key: Any) -> tuple[str, str]:
    if key is None:
        return ("", "—")
    return found.get(key, (str(key), str(key)))


# ---------------------------------------------------------------------------------------
# Local time buckets


def _bucket_of(day: date, bucket: str) -> date:
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    return day


def _bucket_expr(
    session: Session, column: Any, filters: ReportFilters
) -> tuple[sa.ColumnElement[Any], Callable[[Any], date]]:
    """An expression grouping ``column`` finely enough, and how to turn its value into the
    first local day of the report's bucket."""
    if session.get_bind().dialect.name == "postgresql":
        expr = sa.func.date_trunc(filters.bucket, sa.func.timezone(filters.tz.key, column))
        return expr, lambda value: value.date()
    expr = sa.func.strftime("%Y-%m-%d %H", column)

    def convert(value: str) -> date:
        moment = datetime.strptime(value, "%Y-%m-%d %H").replace(tzinfo=UTC)
        return _bucket_of(moment.astimezone(filters.tz).date(), filters.bucket)

    return expr, convert


def buckets(filters: ReportFilters) -> list[date]:
    """Every bucket of the period, empty ones included, so that a chart's axis is even."""
    found: list[date] = []
    day = filters.date_from
    while day <= filters.date_to:
        first = _bucket_of(day, filters.bucket)
        if not found or found[-1] != first:
            found.append(first)
        day += timedelta(days=1)
    return found


# ---------------------------------------------------------------------------------------
# a. Volumes


def volumes(session: Session, filters: ReportFilters, locale: str = "fr") -> ReportTable:
    """Per bucket and group: the claims received (one per problem), the further contacts
    recorded on claims already open (``claim_callers``), and both together. The channel of a
    further contact is its own; everything else is its claim's."""
    by = grouping("volumes", filters)
    counts: dict[tuple[date, Any], list[int]] = defaultdict(lambda: [0, 0])

    claim_key, joins = _key_column(by)
    claim_bucket, convert = _bucket_expr(session, Claim.created_at, filters)
    stmt = _join(
        sa.select(claim_bucket, claim_key, sa.func.count()).select_from(Claim), joins
    ).where(
        Claim.created_at >= filters.start,
        Claim.created_at < filters.end,
        *filters.claim_conditions(),
    )
    for raw, key, count in session.execute(stmt.group_by(claim_bucket, claim_key)):
        counts[(convert(raw), _plain(key))][0] += count

    caller_key = ClaimCaller.channel if by == "channel" else claim_key
    caller_bucket, convert = _bucket_expr(session, ClaimCaller.called_at, filters)
    conditions = _conditions_without(filters, channel=None)
    if filters.channel is not None:
        conditions.append(ClaimCaller.channel == filters.channel)
    stmt = _join(
        sa.select(caller_bucket, caller_key, sa.func.count())
        .select_from(ClaimCaller)
        .join(Claim, Claim.id == ClaimCaller.claim_id),
        joins,
    ).where(
        ClaimCaller.called_at >= filters.start, ClaimCaller.called_at < filters.end, *conditions
    )
    for raw, key, count in session.execute(stmt.group_by(caller_bucket, caller_key)):
        counts[(convert(raw), _plain(key))][1] += count

    found = labels(session, by, {key for _, key in counts}, locale)
    rows: list[Row] = []
    for (bucket, key), (claims, further) in sorted(
        counts.items(), key=lambda item: (item[0][0], _label(found, item[0][1])[0])
    ):
        code, label = _label(found, key)
        rows.append((bucket.isoformat(), code, label, claims, further, claims + further))
    claims_total = sum(row[3] for row in rows)
    further_total = sum(row[4] for row in rows)
    return ReportTable(
        "volumes",
        ("bucket", "code", "label", "claims", "further_contacts", "contacts"),
        rows,
        ("", "", "", claims_total, further_total, claims_total + further_total),
    )


def _plain(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value


# ---------------------------------------------------------------------------------------
# b. SLA compliance


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest rank: the smallest value with at least ``share`` of the values at or below
    it (the median of 1, 2, 3, 4 is 2)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(math.ceil(share * len(ordered)), 1)
    return ordered[rank - 1]


@dataclass
class _Deadline:
    on_time: int = 0
    late: int = 0
    median_seconds: float | None = None
    p90_seconds: float | None = None

    def count(self, on_time: int, late: int, median: Any, p90: Any) -> None:
        self.on_time, self.late = on_time, late
        self.median_seconds, self.p90_seconds = median, p90

    def figures(self) -> tuple[Any, ...]:
        measured = self.on_time + self.late
        share = round(self.on_time / measured, 4) if measured else None
        return (
            measured,
            self.on_time,
            share,
            _hours(self.median_seconds),
            _hours(self.p90_seconds),
        )


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


@dataclass
class _SlaGroup:
    claims: int = 0
    response: _Deadline = field(default_factory=_Deadline)
    resolution: _Deadline = field(default_factory=_Deadline)

    def row(self) -> tuple[Any, ...]:
        return (self.claims, *self.response.figures(), *self.resolution.figures())


SLA_COLUMNS = (
    "claims",
    "responses_measured",
    "responses_on_time",
    "response_on_time_share",
    "response_median_hours",
    "response_p90_hours",
    "resolutions_measured",
    "resolutions_on_time",
    "resolution_on_time_share",
    "resolution_median_hours",
    "resolution_p90_hours",
)


def sla(session: Session, filters: ReportFilters, now: datetime, locale: str = "fr") -> ReportTable:
    """Claims received in the period, cancelled ones aside. A response (or resolution) is
    measured once it happened, or once its deadline passed without it (late, no handling
    time); on time when it happened by the deadline, which pauses already pushed back.
    Handling time is the one each claim keeps (``grc.claims.handling``): from receipt to
    response (or resolution) in the claim's own clock, time waiting for the tenant taken
    out; its median and 90th percentile are nearest-rank."""
    by = grouping("sla", filters)
    key, joins = _key_column(by)
    conditions = [
        Claim.created_at >= filters.start,
        Claim.created_at < filters.end,
        Claim.status != ClaimStatus.CANCELLED,
        *filters.claim_conditions(),
    ]
    if session.get_bind().dialect.name == "postgresql":
        groups, total = _sla_in_database(session, key, joins, conditions, now)
    else:
        groups, total = _sla_over_rows(session, key, joins, conditions, now)
    found = labels(session, by, groups.keys(), locale)
    rows = [
        (*_label(found, group_key), *group.row())
        for group_key, group in sorted(groups.items(), key=lambda item: _label(found, item[0])[0])
    ]
    return ReportTable("sla", ("code", "label", *SLA_COLUMNS), rows, ("", "", *total.row()))


def _sla_in_database(
    session: Session,
    key: Any,
    joins: list[Any],
    conditions: list[sa.ColumnElement[bool]],
    now: datetime,
) -> tuple[dict[Any, _SlaGroup], _SlaGroup]:
    """PostgreSQL counts and takes the percentiles itself, per group and for the whole
    (ROLLUP), in one pass over the period's claims: ``percentile_disc`` is the nearest rank."""
    figures: list[sa.ColumnElement[Any]] = []
    for done, due, seconds in (
        (Claim.responded_at, Claim.response_due, Claim.response_seconds),
        (Claim.resolved_at, Claim.resolution_due, Claim.resolution_seconds),
    ):
        state = _measure(done, due, now)
        figures += [
            sa.func.count().filter(state == _ON_TIME),
            sa.func.count().filter(state == _LATE),
            sa.func.percentile_disc(0.5).within_group(seconds),
            sa.func.percentile_disc(0.9).within_group(seconds),
        ]
    stmt = _join(
        sa.select(sa.func.grouping(key), key, sa.func.count(), *figures).select_from(Claim),
        joins,
    ).where(*conditions)
    groups: dict[Any, _SlaGroup] = {}
    total = _SlaGroup()
    for is_total, group_key, claims, *values in session.execute(stmt.group_by(sa.func.rollup(key))):
        group = _SlaGroup(claims)
        group.response.count(*values[:4])
        group.resolution.count(*values[4:])
        if is_total:
            total = group
        else:
            groups[_plain(group_key)] = group
    return groups, total


def _sla_over_rows(
    session: Session,
    key: Any,
    joins: list[Any],
    conditions: list[sa.ColumnElement[bool]],
    now: datetime,
) -> tuple[dict[Any, _SlaGroup], _SlaGroup]:
    """The same figures where the database has no percentiles (SQLite, a small landlord's
    embedded database): over the claims' plain numbers, streamed."""
    selected = _join(
        sa.select(
            key,
            _measure(Claim.responded_at, Claim.response_due, now),
            Claim.response_seconds,
            _measure(Claim.resolved_at, Claim.resolution_due, now),
            Claim.resolution_seconds,
        ).select_from(Claim),
        joins,
    ).where(*conditions)
    measured: dict[Any, tuple[_SlaGroup, list[float], list[float]]] = {}
    whole: tuple[_SlaGroup, list[float], list[float]] = (_SlaGroup(), [], [])
    result = session.connection().execute(selected.execution_options(stream_results=True))
    for group_key, response_state, response_seconds, resolution_state, resolution_seconds in result:
        plain = _plain(group_key)
        if plain not in measured:
            measured[plain] = (_SlaGroup(), [], [])
        for group, response_times, resolution_times in (measured[plain], whole):
            group.claims += 1
            for state, seconds, deadline, times in (
                (response_state, response_seconds, group.response, response_times),
                (resolution_state, resolution_seconds, group.resolution, resolution_times),
            ):
                deadline.on_time += state == _ON_TIME
                deadline.late += state == _LATE
                if seconds is not None:
                    times.append(seconds)
    for group, response_times, resolution_times in (*measured.values(), whole):
        for deadline, times in (
            (group.response, response_times),
            (group.resolution, resolution_times),
        ):
            deadline.median_seconds = percentile(times, 0.5)
            deadline.p90_seconds = percentile(times, 0.9)
    return {k: v[0] for k, v in measured.items()}, whole[0]


_NOT_MEASURED, _ON_TIME, _LATE = 0, 1, 2


def _measure(done: Any, due: Any, now: datetime) -> sa.ColumnElement[int]:
    """Whether a deadline is met (1), missed (2: done late, or passed undone while the claim
    was not paused), or not yet to be judged (0), decided by the database."""
    return sa.case(
        (done.is_not(None), sa.case((done <= due, _ON_TIME), else_=_LATE)),
        (sa.and_(Claim.status != ClaimStatus.WAITING_TENANT, due < now), _LATE),
        else_=_NOT_MEASURED,
    )


# ---------------------------------------------------------------------------------------
# c. Backlog and overdue list

AGE_BUCKETS = ("under_2_days", "2_to_7_days", "8_to_30_days", "over_30_days")


def backlog(
    session: Session, filters: ReportFilters, now: datetime, locale: str = "fr"
) -> ReportTable:
    """The claims open now (received, assigned, in progress or waiting for the tenant), by
    age in whole days since receipt: under 2, 2 to 7, 8 to 30, over 30; and how many of
    them are overdue (past their resolution deadline, not paused). The period does not
    apply: this is today's backlog."""
    by = grouping("backlog", filters)
    key, joins = _key_column(by)
    age = sa.case(
        (Claim.created_at > now - timedelta(days=2), 0),
        (Claim.created_at > now - timedelta(days=8), 1),
        (Claim.created_at > now - timedelta(days=31), 2),
        else_=3,
    )
    overdue = sa.case((Claim.overdue_condition(now), 1), else_=0)
    stmt = _join(
        sa.select(key, age, sa.func.count(), sa.func.sum(overdue)).select_from(Claim), joins
    ).where(Claim.status.in_(OPEN_STATUSES), *filters.claim_conditions())
    groups: dict[Any, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for group_key, bucket, count, late in session.execute(stmt.group_by(key, age)):
        figures = groups[_plain(group_key)]
        figures[bucket] += count
        figures[4] += int(late or 0)
    found = labels(session, by, groups.keys(), locale)
    rows: list[Row] = []
    for group_key, figures in sorted(groups.items(), key=lambda item: _label(found, item[0])[0]):
        rows.append((*_label(found, group_key), *figures[:4], sum(figures[:4]), figures[4]))
    total = tuple(sum(row[i] for row in rows) for i in range(2, 8))
    return ReportTable(
        "backlog", ("code", "label", *AGE_BUCKETS, "open", "overdue"), rows, ("", "", *total)
    )


OVERDUE_LIMIT = 500


def overdue(
    session: Session,
    filters: ReportFilters,
    now: datetime,
    locale: str = "fr",
    limit: int | None = OVERDUE_LIMIT,
) -> ReportTable:
    """The overdue claims, latest deadline last: open, not waiting for the tenant, past
    their resolution deadline; on a page at most the 500 longest overdue (the total counts
    them all), in an export every one (``limit`` None)."""
    label = Category.label_en if locale == "en" else Category.label_fr
    conditions = [Claim.overdue_condition(now), *filters.claim_conditions()]
    stmt = (
        sa.select(
            Claim.reference,
            Category.code,
            label,
            TreatmentUnit.code,
            TreatmentUnit.name,
            Claim.resolution_due,
        )
        .join(Category, Category.id == Claim.category_id)
        .join(TreatmentUnit, TreatmentUnit.id == Claim.unit_id)
        .where(*conditions)
        .order_by(Claim.resolution_due, Claim.id)
        .limit(limit)
    )
    rows = [
        (
            reference,
            code,
            category,
            unit_code,
            unit,
            due.isoformat(),
            round((now - due).total_seconds() / 3600, 1),
        )
        for reference, code, category, unit_code, unit, due in session.execute(stmt)
    ]
    count = session.execute(
        sa.select(sa.func.count()).select_from(Claim).where(*conditions)
    ).scalar_one()
    return ReportTable(
        "overdue",
        (
            "reference",
            "category_code",
            "category",
            "unit_code",
            "unit",
            "resolution_due",
            "hours_late",
        ),
        rows,
        ("", "", "", "", "", "", count),
    )


# ---------------------------------------------------------------------------------------
# d. Call centre


def _handling_seconds() -> sa.ColumnElement[Any]:
    return sa.case(
        (
            sa.and_(
                Call.status == CallStatus.ANSWERED,
                Call.duration_seconds.is_not(None),
                Call.wait_seconds.is_not(None),
            ),
            Call.duration_seconds - Call.wait_seconds,
        ),
        else_=None,
    )


def _call_figures(received: int, answered: int, abandoned: int, handling: Any) -> tuple[Any, ...]:
    rate = round(answered / (answered + abandoned), 4) if answered + abandoned else None
    average = None if handling is None else round(float(handling), 1)
    return (received, answered, abandoned, rate, average)


CALL_COLUMNS = ("received", "answered", "abandoned", "answer_rate", "average_handling_seconds")


def calls(session: Session, filters: ReportFilters) -> ReportTable:
    """Calls received on the call centre's number in the period, per bucket (day, week or
    month): answered, abandoned, the answer rate (answered among the calls that ended) and
    the average time spent with an agent (the call's duration less its wait, answered calls).
    Calls are not tied to a claim's place or category: only the period applies."""
    bucket, convert = _bucket_expr(session, Call.received_at, filters)
    stmt = (
        sa.select(
            bucket,
            sa.func.count(),
            sa.func.sum(sa.case((Call.status == CallStatus.ANSWERED, 1), else_=0)),
            sa.func.sum(sa.case((Call.status == CallStatus.ABANDONED, 1), else_=0)),
            sa.func.sum(_handling_seconds()),
            sa.func.count(_handling_seconds()),
        )
        .where(Call.received_at >= filters.start, Call.received_at < filters.end)
        .group_by(bucket)
    )
    sums: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for raw, *figures in session.execute(stmt):
        target = sums[convert(raw)]
        for i, value in enumerate(figures):
            target[i] += int(value or 0)
    rows = [
        (day.isoformat(), *_call_figures(r, a, b, h / n if n else None))
        for day, (r, a, b, h, n) in sorted(sums.items())
    ]
    totals = [sum(figures[i] for figures in sums.values()) for i in range(5)]
    average = totals[3] / totals[4] if totals[4] else None
    total = ("", *_call_figures(totals[0], totals[1], totals[2], average))
    return ReportTable("calls", ("bucket", *CALL_COLUMNS), rows, total)


def calls_by_agent(session: Session, filters: ReportFilters) -> ReportTable:
    """The same figures per agent who took the call; calls nobody took (abandoned in the
    queue, or still waiting) are on a row of their own, with no agent."""
    stmt = (
        sa.select(
            Call.taken_by_id,
            sa.func.count(),
            sa.func.sum(sa.case((Call.status == CallStatus.ANSWERED, 1), else_=0)),
            sa.func.sum(sa.case((Call.status == CallStatus.ABANDONED, 1), else_=0)),
            sa.func.avg(_handling_seconds()),
        )
        .where(Call.received_at >= filters.start, Call.received_at < filters.end)
        .group_by(Call.taken_by_id)
    )
    raw = list(session.execute(stmt))
    found = labels(session, "agent", (row[0] for row in raw), "fr")
    rows = [
        (*_label(found, agent), *_call_figures(int(r), int(a or 0), int(b or 0), h))
        for agent, r, a, b, h in sorted(raw, key=lambda row: _label(found, row[0])[1])
    ]
    return ReportTable("calls_by_agent", ("code", "label", *CALL_COLUMNS), rows, None)


def first_contact(session: Session, filters: ReportFilters, locale: str = "fr") -> ReportTable:
    """Claims received in the period that were resolved during the first contact (the
    agent closed them while registering them), per category or per agent who registered
    them; the rate is over all the claims received."""
    by = grouping("first-contact", filters)
    key, joins = _key_column(by)
    fcr = sa.func.sum(sa.case((Claim.first_contact_resolution.is_(True), 1), else_=0))
    stmt = (
        _join(sa.select(key, sa.func.count(), fcr).select_from(Claim), joins)
        .where(
            Claim.created_at >= filters.start,
            Claim.created_at < filters.end,
            *filters.claim_conditions(),
        )
        .group_by(key)
    )
    raw = [(_plain(k), int(c), int(f or 0)) for k, c, f in session.execute(stmt)]
    found = labels(session, by, (row[0] for row in raw), locale)
    rows = [
        (*_label(found, k), c, f, round(f / c, 4) if c else None)
        for k, c, f in sorted(raw, key=lambda row: _label(found, row[0])[1])
    ]
    claims, resolved = sum(r[2] for r in rows), sum(r[3] for r in rows)
    return ReportTable(
        "first_contact",
        ("code", "label", "claims", "resolved_at_first_contact", "rate"),
        rows,
        ("", "", claims, resolved, round(resolved / claims, 4) if claims else None),
    )


# ---------------------------------------------------------------------------------------
# e. Satisfaction


def satisfaction(session: Session, filters: ReportFilters, locale: str = "fr") -> ReportTable:
    """Hot surveys answered in the period, per contractor (who did the work; none when a
    unit did), category or agency: answers, mean score (1 to 5), share satisfied (4 or 5)
    and the answers saying the work was not done (which carry no score)."""
    by = grouping("satisfaction", filters)
    if by == "contractor":
        key: Any = Survey.contractor_id
        joins: list[Any] = []
    else:
        key, joins = _key_column(by)
    conditions = filters.claim_conditions()
    if filters.contractor_id is not None:
        # The survey names who did the work answered about, which a reroute may have changed.
        conditions = [
            *_conditions_without(filters, contractor_id=None),
            Survey.contractor_id == filters.contractor_id,
        ]
    stmt = (
        _join(
            sa.select(
                key,
                sa.func.count(),
                sa.func.count(Survey.score),
                sa.func.sum(Survey.score),
                sa.func.sum(sa.case((Survey.score >= 4, 1), else_=0)),
                sa.func.sum(sa.case((Survey.not_done.is_(True), 1), else_=0)),
            )
            .select_from(Survey)
            .join(Claim, Claim.id == Survey.claim_id),
            joins,
        )
        .where(
            Survey.status == SurveyStatus.ANSWERED,
            Survey.answered_at >= filters.start,
            Survey.answered_at < filters.end,
            *conditions,
        )
        .group_by(key)
    )
    raw = [
        (_plain(k), int(n), int(scored), int(total or 0), int(happy or 0), int(nd or 0))
        for k, n, scored, total, happy, nd in session.execute(stmt)
    ]
    found = labels(session, by, (row[0] for row in raw), locale)

    def figures(n: int, scored: int, total: int, happy: int, nd: int) -> tuple[Any, ...]:
        mean = round(total / scored, 2) if scored else None
        share = round(happy / scored, 4) if scored else None
        return (n, scored, mean, share, nd)

    rows = [
        (*_label(found, k), *figures(*rest))
        for k, *rest in sorted(raw, key=lambda row: _label(found, row[0])[1])
    ]
    sums = [sum(row[i] for row in raw) for i in range(1, 6)]
    return ReportTable(
        "satisfaction",
        ("code", "label", "answers", "scores", "mean_score", "satisfied_share", "not_done"),
        rows,
        ("", "", *figures(*sums)),
    )


def _conditions_without(filters: ReportFilters, **changes: Any) -> list[sa.ColumnElement[bool]]:
    """The claims' conditions of ``filters`` with some of them lifted (set to None)."""
    return replace(filters, **changes).claim_conditions()


def ratings_trend(session: Session, filters: ReportFilters) -> ReportTable:
    """Each contractor's stored overall rating (score out of 100, grade) for the four
    quarters ending with the period's last day, side by side, oldest first."""
    end = datetime.combine(filters.date_to, datetime.min.time(), filters.tz)
    quarters = last_quarters(period_containing(end, PeriodKind.QUARTER, tz=filters.tz))
    stored = overall_by_period(session, quarters)
    if filters.contractor_id is not None:
        stored = {k: v for k, v in stored.items() if k == filters.contractor_id}
    found = labels(session, "contractor", stored.keys(), "fr")
    columns = ["code", "label"]
    for quarter in quarters:
        columns += [f"score_{quarter.label}", f"grade_{quarter.label}"]
    rows: list[Row] = []
    for contractor_id, by_period in sorted(stored.items(), key=lambda i: _label(found, i[0])[1]):
        row: list[Any] = list(_label(found, contractor_id))
        for quarter in quarters:
            rating = by_period.get(quarter.label)
            score = None if rating is None or rating.score is None else round(rating.score, 1)
            grade = None if rating is None or rating.grade is None else rating.grade.value
            row += [score, grade]
        rows.append(tuple(row))
    return ReportTable("ratings", tuple(columns), rows, None)


# ---------------------------------------------------------------------------------------
# Every report by the name the API and the pages give it.

REPORTS: dict[str, Callable[[Session, ReportFilters, datetime, str], ReportTable]] = {
    "volumes": lambda s, f, now, locale: volumes(s, f, locale),
    "sla": sla,
    "backlog": backlog,
    "overdue": overdue,
    "calls": lambda s, f, now, locale: calls(s, f),
    "calls-by-agent": lambda s, f, now, locale: calls_by_agent(s, f),
    "first-contact": lambda s, f, now, locale: first_contact(s, f, locale),
    "satisfaction": lambda s, f, now, locale: satisfaction(s, f, locale),
    "ratings": lambda s, f, now, locale: ratings_trend(s, f),
}

# The reports whose totals the dashboard shows, in its order.
DASHBOARD = ("volumes", "sla", "backlog", "calls", "first-contact", "satisfaction")


def dashboard_totals(
    session: Session, filters: ReportFilters, now: datetime, locale: str = "fr"
) -> dict[str, Row]:
    """The total rows the managers' dashboard shows, by report name."""
    settings_for_large_counts(session)
    return {name: REPORTS[name](session, filters, now, locale).total or () for name in DASHBOARD}


def run(
    name: str, session: Session, filters: ReportFilters, now: datetime, locale: str = "fr"
) -> ReportTable:
    settings_for_large_counts(session)
    return REPORTS[name](session, filters, now, locale)
