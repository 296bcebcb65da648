"""Supplier ratings from the database: a period's facts read in one query through the real
models, stored with the weights used, replaced when the period is recomputed and left alone
when the weights change; the API (JSON, CSV, errors, roles)."""

from __future__ import annotations

import csv
import io
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import current_app
from freezegun import freeze_time
from sqlalchemy.orm import Session

from contractors.rating import (
    Grade,
    GroupKind,
    WorkOrderFacts,
    parse_period,
    rate_contractors,
    rate_counts,
)
from grc.claims.models import Claim, ClaimEvent, EventKind
from grc.contracts.models import WorkOrder, WorkOrderStatus
from grc.extensions import db
from grc.messaging.models import MessageChannel
from grc.ratings.models import ContractorRating
from grc.ratings.operations import (
    compute_period,
    load_counts,
    load_facts,
    periods_to_compute,
    set_settings,
    stored_ratings,
)
from grc.surveys.models import Survey, SurveyStatus
from tests.factories import World, claim_payload
from tests.locks import someone_waits_on_a_lock

# Tuesday 10 March 2026, 10:00 in Paris: in 2026-Q1 and 2026-03.
SENT = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
AS_OF = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)
Q1 = parse_period("2026-Q1")


def _order(client, world: World) -> WorkOrder:
    with freeze_time(SENT):
        response = client.post(
            "/api/v1/claims", json=claim_payload(world), headers=world.headers("agent")
        )
    assert response.status_code == 201, response.json
    order = db.session.execute(
        sa.select(WorkOrder).where(WorkOrder.claim_id == response.json["id"])
    ).scalar_one()
    order.acknowledge_due = SENT + timedelta(hours=1)
    order.complete_due = SENT + timedelta(hours=4)
    return order


def _done(order: WorkOrder, acknowledged: timedelta, completed: timedelta) -> None:
    order.status = WorkOrderStatus.DONE
    order.acknowledged_at = SENT + acknowledged
    order.completed_at = SENT + completed


def _survey(world: World, order: WorkOrder, *, score: int | None, not_done: bool = False) -> None:
    assert order.completed_at is not None
    at = order.completed_at + timedelta(hours=3)
    db.session.add(
        Survey(
            claim_id=order.claim_id,
            resolution_number=1,
            tenant_id=world.tenants["TIL-11"].id,
            contractor_id=order.contractor_id,
            channel=MessageChannel.SMS,
            recipient="+33612345678",
            status=SurveyStatus.ANSWERED,
            planned_for=at,
            sent_at=at,
            answered_at=at + timedelta(minutes=5),
            score=score,
            not_done=not_done,
            created_at=order.completed_at,
        )
    )


@pytest.fixture
def orders(client, world):
    """Four orders to one contractor in 2026-Q1: on time and rated 4; acknowledged late and
    its claim reopened after the work; cancelled; completed late and "not done" by the
    tenant."""
    rated, reopened, cancelled, not_done = (_order(client, world) for _ in range(4))
    _done(rated, timedelta(minutes=30), timedelta(hours=3))
    _survey(world, rated, score=4)
    _done(reopened, timedelta(hours=2), timedelta(hours=3, minutes=30))
    db.session.add(
        ClaimEvent(
            claim_id=reopened.claim_id,
            kind=EventKind.STATUS_CHANGED,
            action="reopen",
            from_status="resolved",
            to_status="in_progress",
            created_at=SENT + timedelta(days=2),
        )
    )
    cancelled.status = WorkOrderStatus.CANCELLED
    cancelled.cancelled_at = SENT + timedelta(minutes=10)
    _done(not_done, timedelta(minutes=20), timedelta(hours=5))
    _survey(world, not_done, score=None, not_done=True)
    db.session.commit()
    return [rated, reopened, cancelled, not_done]


def test_the_facts_of_a_period_in_one_query(orders, world):
    claim = db.session.get(Claim, orders[0].claim_id)
    assert claim is not None
    contractor, agency = orders[0].contractor_id, claim.agency.code
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        facts = load_facts(db.session, Q1)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert len(statements) == 1

    def fact(order: WorkOrder, **what) -> WorkOrderFacts:
        base = {
            "contractor_id": contractor,
            "category": "PLB-FUITE",
            "agency": agency,
            "sent_at": SENT,
            "acknowledge_due": SENT + timedelta(hours=1),
            "acknowledged_at": order.acknowledged_at,
            "complete_due": SENT + timedelta(hours=4),
            "completed_at": order.completed_at,
        }
        return WorkOrderFacts(**{**base, **what})

    rated, reopened, cancelled, not_done = orders
    assert sorted(facts, key=lambda f: (f.completed_at or SENT, f.cancelled)) == sorted(
        [
            fact(rated, score=4),
            fact(reopened, reopened=True),
            fact(cancelled, cancelled=True),
            fact(not_done, reopened=True),
        ],
        key=lambda f: (f.completed_at or SENT, f.cancelled),
    )
    assert load_facts(db.session, parse_period("2026-Q2")) == []
    assert len(load_facts(db.session, parse_period("2026-03"))) == 4


@pytest.mark.parametrize(
    "as_of",
    [AS_OF, SENT + timedelta(minutes=40), SENT + timedelta(hours=2)],
    ids=["after every deadline", "before any", "acknowledgements due, completions not"],
)
def test_the_database_counts_the_orders_as_the_rating_does(client, orders, world, as_of):
    """compute_period adds up the orders' counts in the database: the same ratings as the
    orders' facts counted one by one, before and after their deadlines."""
    _order(client, world)  # sent, neither acknowledged nor completed
    db.session.commit()
    for period in (Q1, parse_period("2026-03"), parse_period("2026-Q2")):
        by_orders = rate_contractors(load_facts(db.session, period), period=period, as_of=as_of)
        assert rate_counts(load_counts(db.session, period, as_of)) == by_orders
    assert by_orders == []  # 2026-Q2
    assert len(rate_counts(load_counts(db.session, Q1, as_of))) == 3


def _overall(period: str) -> ContractorRating:
    db.session.expire_all()
    (row,) = stored_ratings(db.session, parse_period(period), group=GroupKind.OVERALL)
    return row


def test_stored_with_the_weights_used_and_history_kept_when_they_change(orders, world):
    compute_period(db.session, Q1, AS_OF)
    db.session.commit()
    row = _overall("2026-Q1")
    # Satisfaction (4 - 1) / 4 at 40, acknowledged 2/3 at 20, completed 2/3 at 25, not
    # reopened 1/3 at 15: 30 + 13.33 + 16.67 + 5 = 65.0; one answer of five needed: no grade.
    assert (row.orders, row.answers, row.mean_satisfaction) == (3, 1, 4.0)
    assert row.acknowledged_on_time == pytest.approx(2 / 3)
    assert row.completed_on_time == pytest.approx(2 / 3)
    assert row.reopen_rate == pytest.approx(2 / 3)
    assert (row.score, row.grade, row.enough_answers) == (65.0, None, False)
    assert (row.weight_satisfaction, row.min_answers, row.group_code) == (40, 5, "")
    groups = stored_ratings(db.session, Q1, contractor_id=row.contractor_id)
    assert [(g.group_kind, g.score) for g in groups] == [
        (GroupKind.OVERALL, 65.0),
        (GroupKind.CATEGORY, 65.0),
        (GroupKind.AGENCY, 65.0),
    ]

    set_settings(
        db.session,
        weights={
            "satisfaction": 100,
            "acknowledged_on_time": 0,
            "completed_on_time": 0,
            "not_reopened": 0,
        },
        min_answers=1,
        thresholds={"a": 85, "b": 70, "c": 55, "d": 40},
        user=world.users["admin"],
    )
    compute_period(db.session, parse_period("2026-Q2"), AS_OF)
    compute_period(db.session, parse_period("2026-03"), AS_OF)
    db.session.commit()
    kept = _overall("2026-Q1")
    assert (kept.id, kept.score, kept.weight_satisfaction, kept.min_answers) == (
        row.id,
        65.0,
        40,
        5,
    )
    month = _overall("2026-03")
    assert (month.score, month.grade, month.weight_satisfaction) == (75.0, Grade.B, 100)

    compute_period(db.session, Q1, AS_OF)  # recomputing replaces the period's rows
    db.session.commit()
    again = _overall("2026-Q1")
    assert (again.score, again.grade, again.weight_satisfaction) == (75.0, Grade.B, 100)
    count = db.session.execute(
        sa.select(sa.func.count()).where(ContractorRating.period == "2026-Q1")
    ).scalar_one()
    assert count == 3


def test_two_computations_of_one_period_at_once_take_turns(orders, world, backend):
    """The daily job and a command on the same period: the second waits for the first's
    commit, then replaces its rows; neither fails on the unique key."""
    if backend != "postgresql":
        pytest.skip("concurrent writers: PostgreSQL only")
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the proxy's app
    failures: list[BaseException] = []

    def second_computation() -> None:
        try:
            with app.app_context(), Session(db.engine) as second:
                compute_period(second, Q1, AS_OF + timedelta(minutes=1))
                second.commit()
        except BaseException as exc:  # reported by the test
            failures.append(exc)

    with Session(db.engine) as first:
        computed = compute_period(first, Q1, AS_OF)  # its rows written, not committed
        thread = threading.Thread(target=second_computation)
        thread.start()
        if not someone_waits_on_a_lock(db.engine):
            pytest.fail("the second computation never waited for the first")
        first.commit()
        thread.join(timeout=30)
    assert failures == []
    row = _overall("2026-Q1")
    assert row.computed_at == AS_OF + timedelta(minutes=1)
    # One set of rows, not two: the second replaced the first's.
    stored = db.session.execute(
        sa.select(sa.func.count()).where(ContractorRating.period == "2026-Q1")
    ).scalar_one()
    assert stored == len(computed) > 0


def test_the_daily_job_recomputes_the_current_and_previous_quarter_and_month():
    labels = [p.label for p in periods_to_compute(datetime(2026, 4, 1, 8, tzinfo=UTC))]
    assert labels == ["2026-Q1", "2026-Q2", "2026-03", "2026-04"]
    # 31 December 23:30 UTC is already 1 January in Paris.
    labels = [p.label for p in periods_to_compute(datetime(2026, 12, 31, 23, 30, tzinfo=UTC))]
    assert labels == ["2026-Q4", "2027-Q1", "2026-12", "2027-01"]


# --- API -------------------------------------------------------------------------------------


@pytest.fixture
def computed(orders):
    compute_period(db.session, Q1, AS_OF)
    db.session.commit()
    return orders[0].contractor_id


def test_one_contractors_ratings_as_json_and_csv(client, world, computed):
    url = f"/api/v1/contractors/{computed}/ratings?period=2026-Q1"
    response = client.get(url, headers=world.headers("manager"))
    assert response.status_code == 200, response.json
    assert [(r["group"], r["code"], r["score"]) for r in response.json] == [
        ("overall", None, 65.0),
        ("category", "PLB-FUITE", 65.0),
        ("agency", response.json[2]["code"], 65.0),
    ]
    first = response.json[0]
    assert first["contractor"]["id"] == computed
    assert (first["grade"], first["enough_answers"], first["answers"]) == (None, False, 1)
    assert first["weights"]["satisfaction"] == 40

    for extra, headers in (
        ("&format=csv", {}),
        ("", {"Accept": "text/csv"}),
    ):
        response = client.get(url + extra, headers={**world.headers("admin"), **headers})
        assert response.status_code == 200
        assert response.mimetype == "text/csv"
        rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
        assert [(r["group"], r["score"], r["grade"]) for r in rows] == [
            ("overall", "65.0", ""),
            ("category", "65.0", ""),
            ("agency", "65.0", ""),
        ]

    response = client.get(
        "/api/v1/contractors/999999/ratings?period=2026-Q1", headers=world.headers("manager")
    )
    assert response.status_code == 404


def test_the_list_of_a_period_sorted(client, world, computed):
    for sort in ("score", "name", "grade"):
        response = client.get(
            f"/api/v1/ratings?period=2026-Q1&sort={sort}", headers=world.headers("manager")
        )
        assert response.status_code == 200, response.json
        assert [(r["contractor"]["id"], r["group"]) for r in response.json] == [
            (computed, "overall")
        ]
    response = client.get("/api/v1/ratings?period=2026-Q2", headers=world.headers("manager"))
    assert (response.status_code, response.json) == (200, [])
    response = client.get(
        "/api/v1/ratings?period=2026-Q1&format=csv", headers=world.headers("manager")
    )
    assert response.mimetype == "text/csv"
    assert response.get_data(as_text=True).count("\r\n") == 2


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("period=2026-Q5", "period"),
        ("period=2026-7", "period"),
        ("period=", "period"),
        ("", "period"),
        ("period=2026-Q1&sort=price", "sort"),
        ("period=2026-Q1&format=xml", "format"),
    ],
)
def test_a_bad_query_is_a_422_naming_the_field(client, world, query, field):
    response = client.get(f"/api/v1/ratings?{query}", headers=world.headers("manager"))
    assert response.status_code == 422
    assert field in response.json["errors"]["query"]


@pytest.mark.parametrize(
    ("role", "status"), [("agent", 403), ("metz_tech", 403), ("manager", 200), ("admin", 200)]
)
def test_managers_and_administrators_read(client, world, role, status):
    contractor = world.contractors["MULTI"].id
    for url in (
        "/api/v1/ratings?period=2026-Q1",
        f"/api/v1/contractors/{contractor}/ratings?period=2026-Q1",
    ):
        assert client.get(url, headers=world.headers(role)).status_code == status
    assert client.get("/api/v1/ratings?period=2026-Q1").status_code == 401


SETTINGS = {
    "weights": {
        "satisfaction": 50,
        "acknowledged_on_time": 10,
        "completed_on_time": 30,
        "not_reopened": 10,
    },
    "min_answers": 3,
    "thresholds": {"a": 80, "b": 65, "c": 50, "d": 35},
}


def test_only_an_administrator_sets_the_weights(client, world):
    for role in ("agent", "manager"):
        response = client.put(
            "/api/v1/ratings/settings", json=SETTINGS, headers=world.headers(role)
        )
        assert response.status_code == 403
    response = client.get("/api/v1/ratings/settings", headers=world.headers("admin"))
    assert response.json["weights"]["satisfaction"] == 40  # the defaults, before any change
    response = client.put("/api/v1/ratings/settings", json=SETTINGS, headers=world.headers("admin"))
    assert response.status_code == 200, response.json
    assert response.json == SETTINGS
    response = client.get("/api/v1/ratings/settings", headers=world.headers("admin"))
    assert response.json == SETTINGS


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"weights": {**SETTINGS["weights"], "satisfaction": 40}}, "weights"),
        ({"weights": {**SETTINGS["weights"], "satisfaction": -1}}, "weights"),
        ({"thresholds": {"a": 60, "b": 65, "c": 50, "d": 35}}, "thresholds"),
        ({"min_answers": 0}, "min_answers"),
    ],
)
def test_bad_settings_are_a_422_naming_the_field(client, world, change, field):
    response = client.put(
        "/api/v1/ratings/settings", json={**SETTINGS, **change}, headers=world.headers("admin")
    )
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]


# --- on demand and daily ---------------------------------------------------------------------


def test_the_command_computes_the_periods_asked(app_ctx, orders):
    runner = app_ctx.test_cli_runner()
    result = runner.invoke(args=["grc", "ratings", "--period", "2026-Q1", "--period", "2026-03"])
    assert result.exit_code == 0, result.output
    assert "2026-Q1, 2026-03" in result.output
    assert _overall("2026-Q1").score == 65.0
    assert _overall("2026-03").score == 65.0
    result = runner.invoke(args=["grc", "ratings", "--period", "2026-Q5"])
    assert result.exit_code != 0
    assert "--period" in result.output


def test_the_daily_job_stores_the_recent_periods(app_ctx, orders):
    from workers.jobs import compute_ratings

    with freeze_time(AS_OF):
        assert compute_ratings() == "ratings 2026-Q1 2026-Q2 2026-03 2026-04"
    assert _overall("2026-Q1").score == 65.0
    assert _overall("2026-03").computed_at == AS_OF
