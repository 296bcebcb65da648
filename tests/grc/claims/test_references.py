"""Claim references R-YYYY-NNNNNN: numbered per year of the claim's local date, at least six
digits, never cut (the biggest landlords pass a million claims in a year)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from freezegun import freeze_time

from grc.claims.models import ClaimReferenceCounter
from grc.claims.references import (
    REFERENCE_IN_TEXT,
    format_reference,
    references_in_text,
    sequence_name,
    typed_reference,
)
from grc.extensions import db
from tests.factories import claim_payload


def post_claim(app_ctx, world) -> str:
    response = app_ctx.test_client().post(
        "/api/v1/claims", json=claim_payload(world), headers=world.headers("agent")
    )
    assert response.status_code == 201, response.json
    return response.json["reference"]


def jump_counter(backend: str, year: int, last: int) -> None:
    """Make the next number of ``year`` be ``last + 1``."""
    if backend == "postgresql":
        db.session.execute(sa.text(f"SELECT setval('{sequence_name(year)}', {last})"))
    else:
        db.session.execute(
            sa.update(ClaimReferenceCounter)
            .where(ClaimReferenceCounter.year == year)
            .values(last_value=last)
        )
    db.session.commit()


@freeze_time(datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
def test_references_follow_each_other_with_six_digits(app_ctx, world, sent):
    first = post_claim(app_ctx, world)
    second = post_claim(app_ctx, world)
    assert first.startswith("R-2026-")
    assert len(first) == len("R-2026-000001")
    assert int(second.removeprefix("R-2026-")) == int(first.removeprefix("R-2026-")) + 1


@freeze_time(datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
def test_the_millionth_claim_of_a_year_gets_seven_digits(app_ctx, world, backend, sent):
    post_claim(app_ctx, world)  # creates the year's counter
    jump_counter(backend, 2026, 999_998)
    assert post_claim(app_ctx, world) == "R-2026-999999"
    assert post_claim(app_ctx, world) == "R-2026-1000000"


def test_the_year_is_the_local_one(app_ctx, world, sent):
    # 31 December 23:30 UTC is already 1 January in Paris.
    with freeze_time(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)):
        reference = post_claim(app_ctx, world)
    assert reference.startswith("R-2027-")


@freeze_time(datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
def test_a_seven_digit_reference_is_found_in_a_text_and_in_the_search_box(
    app_ctx, world, backend, sent
):
    # The pattern every reader uses: a reference beyond a million is still a reference.
    post_claim(app_ctx, world)
    jump_counter(backend, 2026, 999_999)
    reference = post_claim(app_ctx, world)
    assert reference == "R-2026-1000000"
    assert references_in_text(f"Re: [{reference.lower()}] Fuite d'eau") == [reference]
    assert typed_reference("r20261000000") == reference
    assert REFERENCE_IN_TEXT.fullmatch(reference)


def test_references_are_read_as_stored():
    assert references_in_text("[R-2026-000123] et R-2025-000045, pas R-2026-123") == [
        "R-2026-000123",
        "R-2025-000045",
    ]
    assert references_in_text("XR-2026-000123 ou R-2026-0001234567890123") == []
    assert typed_reference(" r-2026-123 ") == "R-2026-000123"
    assert typed_reference("R-2026-") is None
    assert format_reference(2026, 42) == "R-2026-000042"
