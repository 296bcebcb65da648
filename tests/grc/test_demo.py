"""The demo landlord: a small load checked for the properties the README and the bench rely on."""

from __future__ import annotations

import json
import re
import tomllib
from collections import Counter
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatch
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask

import grc.demo
from contractors.rating import (
    Grade,
    GradeThresholds,
    GroupKind,
    PeriodKind,
    Weights,
    period_containing,
)
from grc.claims.models import Category, Claim, ClaimEvent, ClaimStatus, RouteKind, TreatmentUnit
from grc.contracts.models import Contractor, WorkOrder
from grc.demo import DEMO_PROVIDER, TOKENS_FILE, DemoError, DemoSizes, load_demo
from grc.demo.reference import CONTRACTOR_BEHAVIOUR, CONTRACTORS, ContractorBehaviour
from grc.demo.satisfaction import demo_periods
from grc.extensions import db
from grc.housing.models import Agency, Building, Dwelling, Residence, Territory
from grc.messaging.models import DeliveryStatus, OutboxMessage
from grc.people.models import Lease, Tenant, TenantPhone
from grc.ratings.models import ContractorRating
from grc.surveys.answers import read_answer
from grc.surveys.models import AnswerSource, Survey, SurveyAnswer, SurveyStatus
from grc.surveys.operations import SURVEY_LIFE
from grc.text import search_key
from tests.conftest import _empty_all_tables

SIZES = DemoSizes(dwellings=300, claims=60)
ALSACE_MOSELLE = {"57", "67", "68"}


def _load(seed: int = 7, now: datetime | None = None) -> list[str]:
    return load_demo(db.session, SIZES, seed=seed, echo=lambda _line: None, now=now)


def _count(model: type) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def _current_dwelling(agency_code: str) -> Dwelling:
    today = datetime.now(UTC).date()
    return db.session.execute(
        sa.select(Dwelling)
        .join(Building)
        .join(Residence)
        .join(Agency)
        .join(Lease, Lease.dwelling_id == Dwelling.id)
        .where(Agency.code == agency_code, Lease.start_date <= today, Lease.end_date.is_(None))
        .order_by(Dwelling.id)
        .limit(1)
    ).scalar_one()


def test_stock_organisation_and_tenants(app_ctx: Flask) -> None:
    lines = _load()

    assert _count(Dwelling) == SIZES.dwellings
    assert _count(Claim) == SIZES.claims
    assert _count(Territory) == 2
    agencies = set(db.session.execute(sa.select(Agency.code)).scalars())
    assert {"METZ", "WOIPPY", "THIONVILLE", "STAVOLD", "FORBACH", "NANCY"} == agencies
    units = db.session.execute(sa.select(TreatmentUnit)).scalars().all()
    assert {u.kind for u in units if u.agency_id is None} == {
        "tranquillite",
        "sinistres",
        "astreinte",
    }
    assert len([u for u in units if u.agency_id is not None]) == 6 * 5
    assert any(u.code == "METZ-TECH" for u in units)

    departments = set(db.session.execute(sa.select(Residence.department_code)).scalars())
    assert "57" in departments
    assert departments - ALSACE_MOSELLE, "a residence must use the national holiday calendar"

    current = db.session.execute(
        sa.select(sa.func.count(sa.distinct(Lease.dwelling_id))).where(Lease.end_date.is_(None))
    ).scalar_one()
    assert 0.88 <= current / SIZES.dwellings <= 0.99
    tenants = db.session.execute(sa.select(Tenant)).scalars().all()
    assert all(t.search_name == search_key(t.last_name, t.first_name) for t in tenants)
    assert any(t.first_name != search_key(t.first_name).title() for t in tenants), "accents"
    numbers = db.session.execute(sa.select(TenantPhone.number)).scalars().all()
    assert numbers
    assert all(re.fullmatch(r"\+33[1-9]\d{8}", n) for n in numbers)
    assert _count(TenantPhone) >= len(tenants)
    assert not db.session.execute(
        sa.select(Building.id).where(Building.search_address == "")
    ).first()
    assert any(line.startswith("Stock: ") for line in lines)


def test_every_claim_has_a_timeline_within_the_last_year(app_ctx: Flask) -> None:
    now = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    _load(now=now)

    claims = db.session.execute(sa.select(Claim)).scalars().all()
    first_events = dict(
        db.session.execute(
            sa.select(ClaimEvent.claim_id, sa.func.min(ClaimEvent.id)).group_by(ClaimEvent.claim_id)
        ).all()
    )
    assert set(first_events) == {c.id for c in claims}
    for claim in claims:
        assert now - timedelta(days=367) < claim.created_at < now
        assert claim.events[0].kind == "created"
        assert all(claim.created_at <= e.created_at < now for e in claim.events)
        if claim.first_contact_resolution:
            assert claim.status in (ClaimStatus.RESOLVED, ClaimStatus.CLOSED)
    assert {c.status for c in claims} & {ClaimStatus.CLOSED}
    assert {c.route_kind for c in claims} == {RouteKind.UNIT, RouteKind.CONTRACTOR}


def test_history_notifications_are_never_handed_to_a_provider(app_ctx: Flask) -> None:
    _load()

    outbox = db.session.execute(sa.select(OutboxMessage)).scalars().all()
    assert outbox, "the operations notify tenants of the history too"
    assert {(m.status, m.provider) for m in outbox} == {(DeliveryStatus.SENT, DEMO_PROVIDER)}


def test_multiservice_contract_takes_the_leaks_of_its_agencies(app_ctx: Flask) -> None:
    _load()
    tokens = json.loads((Path(app_ctx.instance_path) / TOKENS_FILE).read_text())
    client = app_ctx.test_client()
    headers = {"Authorization": f"Bearer {tokens['agent']}"}

    covered = _current_dwelling("METZ")
    response = client.post(
        "/api/v1/claims",
        headers=headers,
        json={
            "category": "PLB-FUITE",
            "channel": "phone",
            "description": "Fuite sous l'évier.",
            "dwelling_id": covered.id,
        },
    )
    assert response.status_code == 201, response.json
    assert response.json["route"]["kind"] == "contractor"
    assert response.json["route"]["contractor"]["code"] == "MULTI"
    assert response.json["tenant_id"] is not None

    uncovered = _current_dwelling("NANCY")
    response = client.post(
        "/api/v1/claims",
        headers=headers,
        json={
            "category": "PLB-FUITE",
            "channel": "phone",
            "description": "Fuite sous l'évier.",
            "dwelling_id": uncovered.id,
        },
    )
    assert response.status_code == 201, response.json
    assert response.json["route"]["kind"] == "unit"
    assert response.json["route"]["unit"]["code"] == "NANCY-TECH"

    # The demo's own history went through the same routing.
    multiservice = db.session.execute(
        sa.select(Contractor.id).where(Contractor.code == "MULTI")
    ).scalar_one()
    leaks_in_covered_agencies = (
        db.session.execute(
            sa.select(Claim.contractor_id)
            .join(Category)
            .join(Agency, Agency.id == Claim.agency_id)
            .where(
                Category.default_route_target == "multiservice",
                Agency.code.in_(("METZ", "WOIPPY", "THIONVILLE")),
            )
        )
        .scalars()
        .all()
    )
    assert leaks_in_covered_agencies
    assert set(leaks_in_covered_agencies) == {multiservice}


def test_tokens_file_authenticates_each_role(app_ctx: Flask) -> None:
    lines = _load()
    path = Path(app_ctx.instance_path) / TOKENS_FILE
    tokens = json.loads(path.read_text())
    assert set(tokens) == {"agent", "unit", "manager", "admin"}
    client = app_ctx.test_client()

    totals = {}
    for role, secret in tokens.items():
        assert any(secret in line for line in lines), f"{role} token missing from the summary"
        response = client.get("/api/v1/claims", headers={"Authorization": f"Bearer {secret}"})
        assert response.status_code == 200, (role, response.json)
        totals[role] = json.loads(response.headers["X-Pagination"])["total"]
    assert totals["agent"] == totals["manager"] == totals["admin"] == SIZES.claims
    metz_tech = db.session.execute(
        sa.select(TreatmentUnit.id).where(TreatmentUnit.code == "METZ-TECH")
    ).scalar_one()
    assert totals["unit"] == _count_where(Claim.unit_id == metz_tech)
    refused = client.get("/api/v1/claims", headers={"Authorization": "Bearer grc_nope"})
    assert refused.status_code == 401


def _count_where(condition: sa.ColumnElement[bool]) -> int:
    return db.session.execute(sa.select(sa.func.count(Claim.id)).where(condition)).scalar_one()


def _claims_signature() -> list[tuple[str, str, str]]:
    rows = db.session.execute(
        sa.select(Claim.reference, Category.code, Claim.status)
        .join(Category)
        .order_by(Claim.reference)
    )
    return [(reference, code, str(status)) for reference, code, status in rows]


def _empty_database() -> None:
    db.session.remove()
    _empty_all_tables()
    # On PostgreSQL claim numbers come from per-year sequences that TRUNCATE does not reset.
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            for name in conn.execute(
                sa.text(
                    "SELECT relname FROM pg_class WHERE relkind = 'S' "
                    "AND relname LIKE 'claim\\_reference\\_%'"
                )
            ).scalars():
                conn.execute(sa.text(f'ALTER SEQUENCE "{name}" RESTART'))


def _surveys_signature() -> list[tuple[object, ...]]:
    rows = db.session.execute(
        sa.select(
            Claim.reference,
            Survey.resolution_number,
            Survey.status,
            Survey.sent_at,
            Survey.answered_at,
            Survey.score,
            Survey.not_done,
        )
        .join(Claim, Claim.id == Survey.claim_id)
        .order_by(Claim.reference, Survey.resolution_number)
    )
    return [tuple(row) for row in rows]


def _ratings_signature() -> list[tuple[object, ...]]:
    rows = db.session.execute(
        sa.select(
            Contractor.code,
            ContractorRating.period,
            ContractorRating.group_kind,
            ContractorRating.group_code,
            ContractorRating.score,
            ContractorRating.grade,
        )
        .join(Contractor, Contractor.id == ContractorRating.contractor_id)
        .order_by(Contractor.code, ContractorRating.period, ContractorRating.group_kind)
        .order_by(ContractorRating.group_code)
    )
    return [tuple(row) for row in rows]


def test_same_seed_same_claims(app_ctx: Flask) -> None:
    now = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    _empty_database()  # earlier tests may have advanced the reference sequences
    _load(seed=11, now=now)
    first = _claims_signature()
    surveys, ratings = _surveys_signature(), _ratings_signature()
    assert surveys
    assert ratings
    with pytest.raises(DemoError):
        _load(seed=11, now=now)

    _empty_database()
    _load(seed=11, now=now)
    assert _claims_signature() == first
    assert _surveys_signature() == surveys
    assert _ratings_signature() == ratings

    _empty_database()
    _load(seed=12, now=now)
    assert _claims_signature() != first


@pytest.mark.parametrize("seed", [7, 8])
def test_the_readme_phone_number_finds_one_current_tenant(app_ctx: Flask, seed: int) -> None:
    """The README's example search (`q=06 12 34 56 78`) answers with a demo tenant who lives
    in one of the demo's dwellings, whatever the seed."""
    _empty_database()
    _load(seed=seed)
    tokens = json.loads((Path(app_ctx.instance_path) / TOKENS_FILE).read_text())
    response = app_ctx.test_client().get(
        "/api/v1/tenants",
        query_string={"q": "06 12 34 56 78"},
        headers={"Authorization": f"Bearer {tokens['agent']}"},
    )
    assert response.status_code == 200
    [match] = response.json
    assert match["matched_by"] == "phone"
    assert "+33612345678" in match["tenant"]["phones"]
    assert match["dwelling"] is not None
    holders = db.session.scalars(
        sa.select(TenantPhone.tenant_id).where(TenantPhone.number == "+33612345678")
    ).all()
    assert holders == [match["tenant"]["id"]]


def test_demo_agencies_have_on_call_numbers(app_ctx: Flask) -> None:
    _load()
    on_call = db.session.execute(sa.select(Agency.code, Agency.on_call_phone)).all()
    assert len(on_call) == 6
    assert all(re.fullmatch(r"\+3363998\d{4}", phone or "") for _code, phone in on_call)
    assert len({phone for _code, phone in on_call}) == 6


def test_every_demo_data_file_is_declared_as_package_data() -> None:
    # An installed GRC (not a checkout) must still find the tables the demo draws from.
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    config = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["grc.demo"]
    package = Path(grc.demo.__file__).parent
    files = [p.relative_to(package).as_posix() for p in (package / "data").iterdir()]
    assert files
    assert [f for f in files if not any(fnmatch(f, pattern) for pattern in patterns)] == []


def test_demo_staff_sign_in_to_the_screens_with_the_printed_password(app_ctx: Flask) -> None:
    from grc.demo import ACCOUNTS_FILE
    from tests.pages import PageClient, csrf_token

    lines = _load()
    accounts = json.loads((Path(app_ctx.instance_path) / ACCOUNTS_FILE).read_text())
    assert any(accounts["password"] in line for line in lines)
    browser = PageClient(app_ctx, app_ctx.response_class, use_cookies=True)
    for role in ("agent", "unit", "manager", "admin"):
        signed_in = browser.post(
            "/sign-in",
            data={
                "email": accounts[role],
                "password": accounts["password"],
                "csrf_token": csrf_token(browser),
            },
        )
        assert signed_in.status_code == 302, role
        browser.post("/sign-out", data={"csrf_token": csrf_token(browser, "/account/password")})


SURVEY_SIZES = DemoSizes(dwellings=800, claims=400)


def test_resolved_claims_have_their_hot_survey_and_the_contractors_a_rating(
    app_ctx: Flask,
) -> None:
    now = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    tz = ZoneInfo("Europe/Paris")
    anchor = datetime(2026, 11, 23, tzinfo=tz)
    lines = load_demo(db.session, SURVEY_SIZES, seed=5, echo=lambda _line: None, now=now)

    surveys = db.session.execute(sa.select(Survey)).scalars().all()
    statuses = Counter(s.status for s in surveys)
    assert statuses[SurveyStatus.ANSWERED] > 0.3 * len(surveys)
    assert statuses[SurveyStatus.EXPIRED] > 0
    assert statuses[SurveyStatus.REMINDED] + statuses[SurveyStatus.SENT] > 0, "live surveys"
    for survey in surveys:
        if survey.status in (SurveyStatus.PLANNED, SurveyStatus.CANCELLED):
            continue
        # Sent when the product planned it: after the delay, outside quiet hours.
        assert survey.sent_at == survey.planned_for < anchor
        assert 8 <= survey.sent_at.astimezone(tz).hour < 20
        assert survey.sent_at >= survey.created_at + timedelta(minutes=120)  # its resolution
        assert survey.expires_at == survey.sent_at + SURVEY_LIFE
        if survey.status == SurveyStatus.EXPIRED:
            assert survey.expires_at <= anchor
            assert survey.reminded_at is not None
        elif survey.is_open:
            assert survey.expires_at > anchor
        if survey.status != SurveyStatus.ANSWERED:
            assert not survey.answers
            continue
        assert survey.sent_at < survey.answered_at < anchor
        counted = [a for a in survey.answers if a.counted]
        assert len(counted) == 1
        answer = counted[0]
        assert answer.score == survey.score
        assert (answer.reading == "not_done") == survey.not_done
        if answer.source == AnswerSource.SMS:
            reading = read_answer(answer.text)  # as written, read again as the product reads
            assert reading.score == answer.score
        if survey.not_done:
            reopened = [e for e in survey.claim.events if e.action == "reopen"]
            assert any(e.created_at == survey.answered_at for e in reopened)
    sources = {a.source for a in db.session.execute(sa.select(SurveyAnswer)).scalars()}
    assert sources == {AnswerSource.SMS, AnswerSource.EMAIL}
    assert any(s.comment for s in surveys), "some answers carry a comment"
    assert any(line.startswith("Surveys: ") for line in lines)

    # Every month and quarter of the year computed; each contractor that had orders in the
    # last full quarter has its overall rating there.
    periods = {p.label for p in demo_periods(anchor, tz)}
    stored = set(db.session.execute(sa.select(ContractorRating.period)).scalars())
    assert stored == periods
    quarter = period_containing(now, PeriodKind.QUARTER, tz=tz).previous()
    working = set(
        db.session.execute(
            sa.select(WorkOrder.contractor_id).where(
                WorkOrder.created_at >= quarter.start, WorkOrder.created_at < quarter.end
            )
        ).scalars()
    )
    rated = set(
        db.session.execute(
            sa.select(ContractorRating.contractor_id).where(
                ContractorRating.period == quarter.label,
                ContractorRating.group_kind == GroupKind.OVERALL,
            )
        ).scalars()
    )
    assert working
    assert rated == working
    assert any(line.startswith("Ratings: ") for line in lines)


def _expected_score(behaviour: ContractorBehaviour) -> float:
    weights = Weights()
    reopened = behaviour.reopen + behaviour.not_done
    return (
        weights.satisfaction * (behaviour.satisfaction - 1) / 4
        + weights.acknowledged_on_time * behaviour.acknowledged_on_time
        + weights.completed_on_time * behaviour.completed_on_time
        + weights.not_reopened * (1 - reopened)
    )


def test_each_demo_contractor_behaves_for_a_grade_of_its_own() -> None:
    """With the default weights and thresholds, the contractors' behaviours aim at five
    different grades, each well inside its band (a quarter's draws move a score a little)."""
    thresholds = GradeThresholds()
    scores = {code: _expected_score(b) for code, b in CONTRACTOR_BEHAVIOUR.items()}
    assert set(scores) == set(CONTRACTORS)
    grades = {code: thresholds.grade(score) for code, score in scores.items()}
    assert sorted(grades.values()) == list(Grade)
    bounds = (thresholds.a, thresholds.b, thresholds.c, thresholds.d)
    assert all(abs(score - bound) >= 4 for score in scores.values() for bound in bounds)
