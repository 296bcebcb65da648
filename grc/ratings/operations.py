"""A period's ratings: the facts read in one query, computed by ``contractors.rating``,
stored in place of the period's previous rows; the administrator's settings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from contractors.rating import (
    PARIS,
    CellCounts,
    GradeThresholds,
    GroupKind,
    OrderCounts,
    Period,
    PeriodKind,
    Rating,
    RatingSettings,
    Weights,
    WorkOrderFacts,
    period_containing,
    rate_counts,
)
from grc.claims.models import Category, Claim, ClaimEvent
from grc.contracts.models import WorkOrder, WorkOrderStatus
from grc.db import one_at_a_time, settings_for_large_counts
from grc.errors import InvalidInput
from grc.housing.models import Agency
from grc.people.models import User
from grc.ratings.models import ContractorRating, RatingConfig
from grc.surveys.models import Survey, SurveyStatus

_CANCELLED = (WorkOrderStatus.CANCELLED, WorkOrderStatus.SUPERSEDED)


# --- settings ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CurrentSettings:
    weights: Weights
    settings: RatingSettings


def current_settings(session: Session) -> CurrentSettings:
    """The administrator's weights and settings, or the defaults when none were set."""
    row = session.get(RatingConfig, 1)
    if row is None:
        return CurrentSettings(Weights(), RatingSettings())
    return CurrentSettings(
        Weights(
            satisfaction=row.weight_satisfaction,
            acknowledged_on_time=row.weight_acknowledged_on_time,
            completed_on_time=row.weight_completed_on_time,
            not_reopened=row.weight_not_reopened,
        ),
        RatingSettings(
            min_answers=row.min_answers,
            thresholds=GradeThresholds(
                a=row.threshold_a, b=row.threshold_b, c=row.threshold_c, d=row.threshold_d
            ),
        ),
    )


def set_settings(
    session: Session,
    *,
    weights: dict[str, int],
    min_answers: int,
    thresholds: dict[str, float],
    user: User | None,
) -> CurrentSettings:
    """Replace the current settings (the next computation uses them; stored periods keep
    theirs). Each error is named on its field: ``weights`` when they do not add up to 100,
    ``thresholds`` when they do not go down from A to D, ``min_answers``."""
    errors: dict[str, list[str]] = {}
    try:
        new_weights = Weights(**weights)
    except (TypeError, ValueError) as exc:
        errors["weights"] = [_sentence(exc)]
    try:
        new_settings = RatingSettings(
            min_answers=min_answers, thresholds=GradeThresholds(**thresholds)
        )
    except (TypeError, ValueError) as exc:
        field = "min_answers" if "min_answers" in str(exc) else "thresholds"
        errors[field] = [_sentence(exc)]
    if errors:
        raise InvalidInput(errors)
    row = session.get(RatingConfig, 1)
    if row is None:
        row = RatingConfig(id=1)
        session.add(row)
    row.weight_satisfaction = new_weights.satisfaction
    row.weight_acknowledged_on_time = new_weights.acknowledged_on_time
    row.weight_completed_on_time = new_weights.completed_on_time
    row.weight_not_reopened = new_weights.not_reopened
    row.min_answers = new_settings.min_answers
    row.threshold_a = new_settings.thresholds.a
    row.threshold_b = new_settings.thresholds.b
    row.threshold_c = new_settings.thresholds.c
    row.threshold_d = new_settings.thresholds.d
    row.updated_by_id = user.id if user is not None else None
    session.flush()
    return CurrentSettings(new_weights, new_settings)


def _sentence(exc: Exception) -> str:
    text = str(exc)
    return text[:1].upper() + text[1:] + "."


# --- the facts -----------------------------------------------------------------------------


def facts_query(period: Period) -> sa.Select[Any]:
    """One row per work order sent (created) in ``period``: its contractor, its claim's
    category and agency, its deadlines and moments, whether it was cancelled, the score of
    the survey of the resolution that followed it and whether it was reopened (the claim
    reopened after the order's work was reported done, or the tenant said it was not
    done).

    The survey of an order is the claim's first survey about the same contractor planned
    at or after the order left: a claim reopened and sent a new order has a survey per
    order.

    Set-based, for a quarter of a few hundred thousand orders: the surveys planned since
    the period began are joined to the orders and ranked (the first one per order kept),
    and each claim's last reopening is read once from the reopenings' index, instead of a
    lookup of each per order."""
    in_period = sa.and_(WorkOrder.created_at >= period.start, WorkOrder.created_at < period.end)
    ranked = (
        sa.select(
            WorkOrder.id.label("order_id"),
            Survey.status,
            Survey.score,
            Survey.not_done,
            sa.func.row_number()
            .over(partition_by=WorkOrder.id, order_by=(Survey.created_at, Survey.id))
            .label("rank"),
        )
        .join(
            Survey,
            sa.and_(
                Survey.claim_id == WorkOrder.claim_id,
                Survey.contractor_id == WorkOrder.contractor_id,
                Survey.created_at >= WorkOrder.created_at,
            ),
        )
        # Implied by the line above; lets the database leave older surveys out first.
        .where(in_period, Survey.created_at >= period.start)
        .subquery()
    )
    survey = sa.select(ranked).where(ranked.c.rank == 1).subquery()
    reopenings = (
        sa.select(ClaimEvent.claim_id, sa.func.max(ClaimEvent.created_at).label("last"))
        .where(ClaimEvent.action == "reopen")
        .group_by(ClaimEvent.claim_id)
        .subquery()
    )
    answered = survey.c.status == SurveyStatus.ANSWERED
    return (
        sa.select(
            WorkOrder.contractor_id,
            Category.code.label("category"),
            Agency.code.label("agency"),
            WorkOrder.created_at,
            WorkOrder.acknowledge_due,
            WorkOrder.acknowledged_at,
            WorkOrder.complete_due,
            WorkOrder.completed_at,
            WorkOrder.status.in_(_CANCELLED).label("cancelled"),
            sa.case((answered, survey.c.score), else_=None).label("score"),
            sa.or_(
                sa.and_(
                    WorkOrder.completed_at.is_not(None),
                    reopenings.c.last >= WorkOrder.completed_at,
                ),
                sa.and_(answered, survey.c.not_done),
            ).label("reopened"),
        )
        .join(Claim, Claim.id == WorkOrder.claim_id)
        .join(Category, Category.id == Claim.category_id)
        .join(Agency, Agency.id == Claim.agency_id)
        .outerjoin(survey, survey.c.order_id == WorkOrder.id)
        .outerjoin(reopenings, reopenings.c.claim_id == WorkOrder.claim_id)
        .where(in_period)
    )


def load_facts(session: Session, period: Period) -> list[WorkOrderFacts]:
    return [
        WorkOrderFacts(
            contractor_id=row.contractor_id,
            category=row.category,
            agency=row.agency,
            sent_at=row.created_at,
            acknowledge_due=row.acknowledge_due,
            acknowledged_at=row.acknowledged_at,
            complete_due=row.complete_due,
            completed_at=row.completed_at,
            cancelled=bool(row.cancelled),
            reopened=bool(row.reopened),
            score=row.score,
        )
        for row in session.execute(facts_query(period))
    ]


def counts_query(period: Period, as_of: datetime) -> sa.Select[Any]:
    """The period's orders (:func:`facts_query`) counted in the database, one row per
    contractor, category and agency, as ``contractors.rating.order_counts`` counts each
    order at ``as_of``; cancelled and superseded orders count nowhere. A quarter holds a
    few hundred thousand orders and only a few hundred cells: adding them up where they
    are keeps them from crossing over to Python one by one."""
    facts = facts_query(period).subquery()

    def total(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    acknowledged = facts.c.acknowledged_at.is_not(None)
    completed = facts.c.completed_at.is_not(None)
    reopened = sa.func.coalesce(facts.c.reopened, sa.false())
    return (
        sa.select(
            facts.c.contractor_id,
            facts.c.category,
            facts.c.agency,
            sa.func.count().label("orders"),
            sa.func.count(facts.c.score).label("answers"),
            sa.func.coalesce(sa.func.sum(facts.c.score), 0).label("score_sum"),
            total(sa.or_(acknowledged, facts.c.acknowledge_due < as_of)).label("ack_counted"),
            total(sa.and_(acknowledged, facts.c.acknowledged_at <= facts.c.acknowledge_due)).label(
                "ack_on_time"
            ),
            total(sa.or_(completed, facts.c.complete_due < as_of)).label("done_counted"),
            total(sa.and_(completed, facts.c.completed_at <= facts.c.complete_due)).label(
                "done_on_time"
            ),
            total(sa.or_(completed, reopened)).label("reopen_counted"),
            total(reopened).label("reopened"),
        )
        .where(sa.not_(facts.c.cancelled))
        .group_by(facts.c.contractor_id, facts.c.category, facts.c.agency)
    )


def load_counts(session: Session, period: Period, as_of: datetime) -> list[CellCounts]:
    # One statement over a quarter's orders: a few hundred thousand rows sorted and hashed.
    settings_for_large_counts(session)
    return [
        CellCounts(
            contractor_id=row.contractor_id,
            category=row.category,
            agency=row.agency,
            counts=OrderCounts(
                orders=row.orders,
                answers=row.answers,
                score_sum=row.score_sum,
                ack_counted=row.ack_counted,
                ack_on_time=row.ack_on_time,
                done_counted=row.done_counted,
                done_on_time=row.done_on_time,
                reopen_counted=row.reopen_counted,
                reopened=row.reopened,
            ),
        )
        for row in session.execute(counts_query(period, as_of))
    ]


# --- computing and storing -----------------------------------------------------------------


def compute_period(session: Session, period: Period, now: datetime) -> list[Rating]:
    """Compute ``period``'s ratings with the current settings and store them in place of
    the period's previous rows (in the caller's transaction: the caller commits). Other
    periods are not touched. Two computations of one period at once (the daily job and a
    command) take turns: the second replaces what the first stored."""
    one_at_a_time(session, f"ratings {period.label}")
    current = current_settings(session)
    ratings = rate_counts(
        load_counts(session, period, now), weights=current.weights, settings=current.settings
    )
    session.execute(sa.delete(ContractorRating).where(ContractorRating.period == period.label))
    thresholds = current.settings.thresholds
    session.add_all(
        ContractorRating(
            contractor_id=rating.contractor_id,
            period=period.label,
            period_kind=period.kind,
            group_kind=rating.group,
            group_code=rating.code or "",
            orders=rating.orders,
            answers=rating.answers,
            mean_satisfaction=rating.mean_satisfaction,
            acknowledged_on_time=rating.acknowledged_on_time,
            completed_on_time=rating.completed_on_time,
            reopen_rate=rating.reopen_rate,
            score=rating.score,
            grade=rating.grade,
            enough_answers=rating.enough_answers,
            weight_satisfaction=rating.weights.satisfaction,
            weight_acknowledged_on_time=rating.weights.acknowledged_on_time,
            weight_completed_on_time=rating.weights.completed_on_time,
            weight_not_reopened=rating.weights.not_reopened,
            min_answers=current.settings.min_answers,
            threshold_a=thresholds.a,
            threshold_b=thresholds.b,
            threshold_c=thresholds.c,
            threshold_d=thresholds.d,
            computed_at=now,
        )
        for rating in ratings
    )
    session.flush()
    return ratings


def periods_to_compute(now: datetime, tz: ZoneInfo = PARIS) -> list[Period]:
    """What the daily job recomputes: the current and previous quarter and month."""
    month = period_containing(now, PeriodKind.MONTH, tz=tz)
    quarter = period_containing(now, PeriodKind.QUARTER, tz=tz)
    return [quarter.previous(), quarter, month.previous(), month]


def compute_recent(session: Session, now: datetime, tz: ZoneInfo = PARIS) -> list[str]:
    """Recompute :func:`periods_to_compute`; their labels."""
    periods = periods_to_compute(now, tz)
    for period in periods:
        compute_period(session, period, now)
    return [period.label for period in periods]


# --- reading -------------------------------------------------------------------------------


def stored_ratings(
    session: Session,
    period: Period,
    *,
    contractor_id: int | None = None,
    group: GroupKind | None = None,
) -> Sequence[ContractorRating]:
    """The stored rows of ``period``: one contractor's (every group), or every
    contractor's of one group."""
    stmt = sa.select(ContractorRating).where(ContractorRating.period == period.label)
    if contractor_id is not None:
        stmt = stmt.where(ContractorRating.contractor_id == contractor_id)
    if group is not None:
        stmt = stmt.where(ContractorRating.group_kind == group)
    stmt = stmt.order_by(
        ContractorRating.contractor_id,
        sa.case(
            (ContractorRating.group_kind == GroupKind.OVERALL, 0),
            (ContractorRating.group_kind == GroupKind.CATEGORY, 1),
            else_=2,
        ),
        ContractorRating.group_code,
    )
    return session.execute(stmt).scalars().all()


def overall_by_period(
    session: Session, periods: Sequence[Period]
) -> dict[int, dict[str, ContractorRating]]:
    """Each contractor's stored overall rating of each of ``periods`` (a trend), by
    contractor id and period label; a period not computed is simply absent."""
    rows = session.execute(
        sa.select(ContractorRating).where(
            ContractorRating.period.in_([period.label for period in periods]),
            ContractorRating.group_kind == GroupKind.OVERALL,
        )
    ).scalars()
    found: dict[int, dict[str, ContractorRating]] = {}
    for row in rows:
        found.setdefault(row.contractor_id, {})[row.period] = row
    return found
