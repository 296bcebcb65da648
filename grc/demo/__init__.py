"""A realistic demo landlord for ``flask grc demo``: stock, tenants, organisation, contracts,
staff users, a year of claims with their satisfaction surveys, and the contractors' ratings.

The stock and the tenants go in with bulk inserts (tens of thousands of rows in seconds);
claims go through the product's own ``create_claim`` and ``transition_claim`` so routing,
SLA deadlines and timelines are exactly what the application would have produced. The same
seed on the same day gives the same data. This loader is for the CLI only: unlike the
operations it calls, it commits, in batches, so memory stays flat whatever the sizes.

``reference`` reads the tables the demo draws from (places, names, contractors, texts of
claims) from the files under ``data/``; ``organisation``, ``stock`` and ``history`` load
each part in turn. Nothing outside the CLI (and the benches, for names) imports it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grc.catalogue import load_catalogue
from grc.clock import settings
from grc.db import utcnow
from grc.demo.history import DEMO_PROVIDER, load_claims
from grc.demo.organisation import (
    ACCOUNTS_FILE,
    ROLES_SHOWN,
    TOKENS_FILE,
    load_contracts,
    load_organisation,
    load_users,
    write_tokens,
)
from grc.demo.polls import load_polls
from grc.demo.reference import AGENCIES, CONTRACTORS, FIRST_NAMES, LAST_NAMES
from grc.demo.satisfaction import load_ratings
from grc.demo.stock import load_stock
from grc.housing.models import Territory

__all__ = [
    "ACCOUNTS_FILE",
    "DEMO_PROVIDER",
    "FIRST_NAMES",
    "LAST_NAMES",
    "ROLES_SHOWN",
    "TOKENS_FILE",
    "DemoError",
    "DemoSizes",
    "load_demo",
]


@dataclass(frozen=True)
class DemoSizes:
    dwellings: int = 20_000
    claims: int = 6_000


class DemoError(RuntimeError):
    """The demo cannot be loaded (the database is not empty)."""


def load_demo(
    session: Session,
    sizes: DemoSizes,
    seed: int = 2026,
    echo: Callable[[str], Any] = print,
    *,
    now: datetime | None = None,
) -> list[str]:
    """Load the demo landlord and return a human summary; ``now`` defaults to the clock."""
    if session.execute(sa.select(sa.func.count(Territory.id))).scalar_one():
        raise DemoError("The database already has an organisation; use an empty database.")
    started = time.perf_counter()
    tz = settings().tz
    now = now or utcnow()
    # Everything happens before today's local midnight: the same seed on the same day gives
    # the same data, and claims filed "today" are left to the real users of the demo.
    anchor_day = now.astimezone(tz).date()
    anchor = datetime(anchor_day.year, anchor_day.month, anchor_day.day, tzinfo=tz).astimezone(UTC)

    _, categories = load_catalogue(session)
    session.commit()
    org = load_organisation(session)
    echo(f"Catalogue ({categories} categories) and organisation loaded.")

    stock = load_stock(session, sizes.dwellings, random.Random(seed), anchor_day, now, org, echo)
    stock_seconds = time.perf_counter() - started
    echo(f"Stock and tenants loaded in {stock_seconds:.1f} s.")

    contracts = load_contracts(session, org, stock, anchor_day)
    users, tokens, accounts = load_users(session, org)
    session.commit()
    tokens_path = write_tokens(tokens)
    accounts_path = write_tokens(accounts, ACCOUNTS_FILE)

    claim_stats = load_claims(
        session, sizes.claims, random.Random(f"{seed}-claims"), anchor, tz, stock, users, echo
    )
    poll_stats = load_polls(session, random.Random(f"{seed}-polls"), anchor)
    # The daily job would have computed each month and quarter as it went: /ratings shows
    # the trend of the last four quarters at once.
    rating_lines = load_ratings(session, anchor, tz)
    elapsed = time.perf_counter() - started

    occupied = stock.current_leases / max(1, len(stock.dwellings))
    return [
        f"Demo landlord loaded in {elapsed:.1f} s (seed {seed}; stock {stock_seconds:.1f} s, "
        f"claims {elapsed - stock_seconds:.1f} s).",
        f"Organisation: 2 territories, {len(AGENCIES)} agencies, {len(org.units)} treatment "
        f"units, {len(CONTRACTORS)} contractors, {contracts} contracts, {users.count} users.",
        f"Stock: {stock.residences:,} residences (departments "
        f"{', '.join(sorted(stock.departments))}), {stock.buildings:,} building entrances, "
        f"{len(stock.dwellings):,} dwellings, {sum(stock.equipment.values()):,} pieces of "
        f"equipment ({stock.equipment['elevator']:,} elevators).",
        f"Tenants: {stock.tenants:,} ({stock.phones:,} phone numbers), "
        f"{stock.current_leases:,} current leases ({occupied:.0%} of dwellings occupied).",
        *claim_stats,
        *poll_stats,
        *rating_lines,
        f"Screens: sign in at /sign-in with the password {accounts['password']} (also in "
        f"{accounts_path}) as:",
        *(f"  {role:<8} {accounts[role]}" for role in ROLES_SHOWN),
        f"API tokens (also in {tokens_path}):",
        *(f"  {role:<8} {tokens[role]}" for role in ROLES_SHOWN),
    ]
