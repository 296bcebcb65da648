"""The call centre's one search box: phone number in any format, part of a name (accents and
case ignored), an address, or a claim reference."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

import phonenumbers
import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import InstrumentedAttribute

from grc.housing.models import Building, Dwelling, Residence
from grc.people.models import Lease, Tenant, TenantPhone
from grc.text import search_key

PHONE_CHARS_RE = re.compile(r"^[\d\s().+/-]+$")
MIN_PHONE_DIGITS = 9
# Part of a number ("56 78", "06 12 3"): fewer digits find too many tenants to be of use.
MIN_PARTIAL_PHONE_DIGITS = 4


@dataclass(frozen=True)
class TenantMatch:
    tenant: Tenant
    matched_by: str
    # The lease current on the day searched, with its dwelling, building and residence.
    lease: Lease | None


def normalise_phone(raw: str, region: str = "FR") -> str | None:
    """E.164 form of a French or international number, or None when it is not a number."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def looks_like_phone(query: str) -> bool:
    return bool(PHONE_CHARS_RE.match(query)) and sum(c.isdigit() for c in query) >= MIN_PHONE_DIGITS


def whole_phone_number(query: str) -> str | None:
    """E.164 form of ``query`` when it is a whole, valid number ("06 12 34 56 78"); None for
    anything else, such as a number still being typed ("06 12 34 56 7", which the parser
    would take for a possible number)."""
    if not looks_like_phone(query):
        return None
    number = normalise_phone(query)
    if number is None or not phonenumbers.is_valid_number(phonenumbers.parse(number)):
        return None
    return number


def partial_phone_pattern(query: str) -> str | None:
    """A LIKE pattern on stored E.164 numbers for part of a number as an agent types it:
    its start in the national ("06 12…") or international ("+33 6…", "0033 6…") form, or any
    run of its digits ("56 78"). None when the query is not part of a number."""
    if not PHONE_CHARS_RE.match(query):
        return None
    digits = "".join(c for c in query if c.isdigit())
    if len(digits) < MIN_PARTIAL_PHONE_DIGITS:
        return None
    start = query.lstrip()
    if start.startswith("+"):
        return f"+{digits}%"
    if digits.startswith("00"):
        return f"+{digits[2:]}%"
    if digits.startswith("0"):
        return f"+33{digits[1:]}%"
    return f"%{digits}%"


def _like_all(
    column: sa.ColumnElement[str] | InstrumentedAttribute[str], words: list[str]
) -> sa.ColumnElement[bool]:
    return sa.and_(*(column.like(f"%{w}%") for w in words))


@dataclass(frozen=True)
class TenantSearch:
    matches: list[TenantMatch]
    # More tenants matched than the ``limit`` returned: the caller should narrow the search.
    truncated: bool


def search_tenants(session: Session, query: str, today: date, limit: int = 20) -> TenantSearch:
    query = query.strip()
    found: dict[int, str] = {}
    # One match more than shown is looked for: finding it is how the search knows (and says)
    # that it cut the list.
    wanted = limit + 1

    def add(ids: Sequence[int], how: str) -> bool:
        """Record matches; False once ``wanted`` are found (later queries can be skipped)."""
        for tenant_id in ids:
            if len(found) < wanted:
                found.setdefault(tenant_id, how)
        return len(found) < wanted

    from grc.claims.references import typed_reference

    reference = typed_reference(query)
    if reference:
        from grc.claims.models import Claim

        add(
            cast(  # tenant_id IS NOT NULL: ids only
                "list[int]",
                list(
                    session.execute(
                        sa.select(Claim.tenant_id).where(
                            Claim.reference == reference, Claim.tenant_id.is_not(None)
                        )
                    ).scalars()
                ),
            ),
            "reference",
        )
    elif PHONE_CHARS_RE.match(query) and (
        (number := whole_phone_number(query)) or partial_phone_pattern(query)
    ):
        if number:
            add(
                list(
                    session.execute(
                        sa.select(TenantPhone.tenant_id)
                        .where(TenantPhone.number == number)
                        .order_by(TenantPhone.tenant_id)
                        .limit(wanted)
                    ).scalars()
                ),
                "phone",
            )
        # Not a whole number: a number being typed ("06 12 34 56 7") or a part of one. A whole
        # number nobody holds finds nobody (the calls panel asks for every caller's).
        elif pattern := partial_phone_pattern(query):
            add(_numbers_like(session, pattern, wanted), "phone")
    else:
        words = [w for w in search_key(query).split() if w]
        if words:
            _search_by_text(session, words, today, wanted, add)

    truncated = len(found) > limit
    found = dict(list(found.items())[:limit])
    if not found:
        return TenantSearch([], truncated=False)
    # Two queries for the answer: the tenants with their phones, and their current leases
    # with where they live (not every lease they ever held).
    tenants = (
        session.execute(
            sa.select(Tenant).where(Tenant.id.in_(found)).options(joinedload(Tenant.phones))
        )
        .unique()
        .scalars()
        .all()
    )
    current_leases = session.execute(
        sa.select(Lease)
        .where(Lease.tenant_id.in_(found), Lease.current_on(today))
        .order_by(Lease.start_date, Lease.id)
        .options(
            joinedload(Lease.dwelling).joinedload(Dwelling.building).joinedload(Building.residence)
        )
    ).scalars()
    # Two current leases (a move within the landlord's stock): the one that started last.
    lease_of = {lease.tenant_id: lease for lease in current_leases}
    by_id = {t.id: t for t in tenants}
    matches = [
        TenantMatch(by_id[i], how, lease_of.get(i)) for i, how in found.items() if i in by_id
    ]
    return TenantSearch(matches, truncated)


def _numbers_like(session: Session, pattern: str, limit: int) -> list[int]:
    """Tenants holding a number that matches ``pattern`` (part of a number)."""
    # Planned without the LIMIT, PostgreSQL reads the trigram index on the numbers (as for
    # names below) instead of walking every number hoping to meet matches early.
    partial = (
        sa.select(TenantPhone.tenant_id)
        .where(TenantPhone.number.like(pattern))
        .cte("phone_part")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    return list(
        session.execute(
            sa.select(partial.c.tenant_id).distinct().order_by(partial.c.tenant_id).limit(limit)
        ).scalars()
    )


def _search_by_text(
    session: Session,
    words: list[str],
    today: date,
    limit: int,
    add: Callable[[Sequence[int], str], bool],
) -> None:
    # Names: the last name's start is the common case and is served in index order; any
    # other part of the name ("jean" in "dupont jean") falls back to substring matching.
    # Each step runs only while fewer than ``limit`` tenants are found: what a later step
    # finds would be dropped anyway.
    prefix = " ".join(words)
    if not add(
        list(
            session.execute(
                sa.select(Tenant.id)
                .where(Tenant.search_name.like(f"{prefix}%"))
                .order_by(*_name_order(session))
                .limit(limit)
            ).scalars()
        ),
        "name",
    ):
        return
    if len(words) > 1 or len(words[0]) >= 3:
        # Planned without the LIMIT, PostgreSQL uses the trigram index; with it, it may bet on
        # a sequential scan finding matches early, and read 600,000 rows when they are rare.
        substring = (
            sa.select(Tenant.id)
            .where(_like_all(Tenant.search_name, words))
            .cte("name_substring")
            .prefix_with("MATERIALIZED", dialect="postgresql")
        )
        if not add(list(session.execute(sa.select(substring.c.id).limit(limit)).scalars()), "name"):
            return
    # Addresses: tenants with a current lease in a matching building, in the order of the
    # building's floors and doors.
    if any(c.isalpha() for c in prefix) and (len(words) > 1 or len(words[0]) >= 4):
        buildings = (
            sa.select(Building.id).where(_like_all(Building.search_address, words)).limit(200)
        )
        current = Lease.current_on(today)
        # The first ``limit`` occupied dwellings hold the first ``limit`` current leases, so
        # only their leases are read, not those of every dwelling of a street (with decades
        # of former tenants each, that was tens of thousands of rows for "rue …").
        first_occupied = (
            sa.select(Dwelling.id)
            .where(
                Dwelling.building_id.in_(buildings),
                sa.exists().where(Lease.dwelling_id == Dwelling.id, current),
            )
            .order_by(Dwelling.building_id, Dwelling.floor, Dwelling.door)
            .limit(limit)
        )
        add(
            list(
                session.execute(
                    sa.select(Lease.tenant_id)
                    .join(Dwelling, Dwelling.id == Lease.dwelling_id)
                    .where(Lease.dwelling_id.in_(first_occupied), current)
                    .order_by(Dwelling.building_id, Dwelling.floor, Dwelling.door)
                    .limit(limit)
                ).scalars()
            ),
            "address",
        )


def _name_order(session: Session) -> tuple[sa.ColumnElement[Any] | InstrumentedAttribute[Any], ...]:
    if session.get_bind().dialect.name == "postgresql":
        # The prefix index uses text_pattern_ops, whose order is not the column's collation
        # order: ORDER BY search_name made PostgreSQL fetch and sort every match (48,000 for
        # "mar" among a million tenants). Sorting by the index's own operator reads the first
        # matches straight from the index; search_name is ASCII, so the order is the same.
        return (sa.literal_column("tenants.search_name USING ~<~"), Tenant.id)
    return (Tenant.search_name, Tenant.id)


def tenant_with_home(session: Session, tenant_id: int, today: date) -> TenantMatch | None:
    """One tenant with their phones and the lease current on ``today`` (the one that started
    last), its dwelling, building with its equipment, residence and agency: what the call
    centre's tenant card shows, in two queries. None for an unknown tenant."""
    tenant = (
        session.execute(
            sa.select(Tenant).where(Tenant.id == tenant_id).options(joinedload(Tenant.phones))
        )
        .unique()
        .scalar_one_or_none()
    )
    if tenant is None:
        return None
    lease = session.execute(
        sa.select(Lease)
        .where(Lease.tenant_id == tenant_id, Lease.current_on(today))
        .order_by(Lease.start_date.desc(), Lease.id.desc())
        .limit(1)
        .options(
            joinedload(Lease.dwelling)
            .joinedload(Dwelling.building)
            .joinedload(Building.residence)
            .joinedload(Residence.agency),
            joinedload(Lease.dwelling)
            .joinedload(Dwelling.building)
            .selectinload(Building.equipment),
        )
    ).scalar_one_or_none()
    return TenantMatch(tenant, "id", lease)
