"""The catalogue and routing tables, kept in memory by each process between requests.

Every intake reads a category with its SLA policy, the contracts, the routing rules and the
treatment units: small tables that change a few times a month but that cost four queries a
claim. Each process keeps a copy per database and checks, in the caller's transaction,
that the copy is current: one tiny query, or none when the API token check has just read
the stamp (``STAMP_COLUMN``). The check cannot miss a change: triggers
on each of these tables (migration 0006) write a new random stamp in ``catalogue_versions``
in the same transaction as the change, whichever program makes it. A copy loaded inside a
transaction sees that transaction's own changes; if it rolls back, its stamp is never seen
again and the next caller reloads.

A change costs every process one reload (10–25 ms for the demo's catalogue): figures that
change often, such as a contractor's running rating, belong in tables of their own.

The copies are detached ORM objects shared by every request of the process. Callers get
session-bound copies of them (``session.merge(..., load=False)``: no SQL) and never the
shared objects, which a session would otherwise adopt through its cascades.
"""

from __future__ import annotations

import threading
import weakref
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from grc.claims.models import CatalogueVersion, Category, RoutingRule, SlaPolicy, TreatmentUnit
from grc.contracts.models import Contract, contract_categories, contract_residences

# Must match the tables migration 0006 watches (tested).
WATCHED_TABLES = (
    "categories",
    "sla_policies",
    "treatment_units",
    "routing_rules",
    "contractors",
    "contracts",
    "contract_residences",
    "contract_categories",
)

T = TypeVar("T")


@dataclass(frozen=True)
class _Coverage:
    contract: Contract
    residence_ids: frozenset[int]
    category_ids: frozenset[int]


@dataclass(frozen=True)
class _Snapshot:
    stamp: str | None
    categories_by_code: dict[str, Category]
    categories: dict[int, Category]
    units: dict[int, TreatmentUnit]
    rules_by_category: dict[int, tuple[RoutingRule, ...]]
    # Most recent first: while a contract is renewed the two overlap and the newer wins.
    contracts: tuple[_Coverage, ...]


_STAMP = sa.select(CatalogueVersion.stamp).where(CatalogueVersion.id == 1)
# The stamp as a column, for a statement that runs anyway to carry: the API token check,
# the first statement of every API request, saves the intake a round trip.
STAMP_COLUMN = _STAMP.scalar_subquery().label("catalogue_stamp")
_NOTED_STAMP = "grc_catalogue_stamp"
_NOT_NOTED = object()
_snapshots: weakref.WeakKeyDictionary[sa.Engine, _Snapshot] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


class Catalogue:
    """The catalogue as one session may use it: what it hands out belongs to that session."""

    def __init__(self, session: Session, snapshot: _Snapshot) -> None:
        self._session = session
        self._snapshot = snapshot

    def _own(self, shared: T) -> T:
        return self._session.merge(shared, load=False)

    def category(self, code: str) -> Category | None:
        """The category of that code (active or not), with its parents and SLA policies."""
        shared = self._snapshot.categories_by_code.get(code)
        return self._own(shared) if shared is not None else None

    def category_label(self, category_id: int) -> str:
        return self._snapshot.categories[category_id].label_fr

    def unit(self, unit_id: int) -> TreatmentUnit:
        return self._own(self._snapshot.units[unit_id])

    def unit_of_kind(self, kind: str, agency_id: int) -> TreatmentUnit | None:
        """The agency's unit of that kind, else the company-wide one."""
        found = None
        for unit in self._snapshot.units.values():
            if unit.kind != kind:
                continue
            if unit.agency_id == agency_id:
                found = unit
                break
            if unit.agency_id is None and found is None:
                found = unit
        return self._own(found) if found is not None else None

    def covering_contract(self, category_id: int, residence_id: int, day: date) -> Contract | None:
        """The contract covering that residence and category on that day, with its
        contractor."""
        for coverage in self._snapshot.contracts:
            contract = coverage.contract
            if (
                residence_id in coverage.residence_ids
                and category_id in coverage.category_ids
                and contract.starts_on <= day
                and (contract.ends_on is None or contract.ends_on >= day)
            ):
                return self._own(contract)
        return None

    def rules_for(self, category_ids: list[int]) -> list[RoutingRule]:
        """The routing rules on any of these categories, whatever their scope (shared
        objects: read their columns, never their relations)."""
        rules = self._snapshot.rules_by_category
        return [rule for category_id in category_ids for rule in rules.get(category_id, ())]


def note_stamp(session: Session, stamp: str | None) -> None:
    """``stamp`` was just read through ``STAMP_COLUMN``: the next ``catalogue()`` may use it
    if the session runs nothing else before."""
    session.info[_NOTED_STAMP] = stamp


# Any statement, flush or end of transaction makes a noted stamp unusable: the session's
# own writes may have changed it.
@sa.event.listens_for(Session, "do_orm_execute")
@sa.event.listens_for(Session, "after_flush")
@sa.event.listens_for(Session, "after_commit")
@sa.event.listens_for(Session, "after_rollback")
def _forget_noted_stamp(session_or_context: Session | sa.orm.ORMExecuteState, *_: object) -> None:
    session = getattr(session_or_context, "session", session_or_context)
    session.info.pop(_NOTED_STAMP, None)


def catalogue(session: Session) -> Catalogue:
    """The catalogue as of the session's transaction, reloaded if the tables changed."""
    stamp = session.info.pop(_NOTED_STAMP, _NOT_NOTED)
    if stamp is _NOT_NOTED:
        stamp = session.execute(_STAMP).scalar_one_or_none()
    engine = session.get_bind()
    snapshot = _snapshots.get(engine)
    if snapshot is None or snapshot.stamp != stamp:
        # Loaded after the stamp was read: the copy is at least as new as its stamp says,
        # so a change racing with this load makes the next caller reload, never the reverse.
        snapshot = _load(session, stamp)
        with _lock:
            _snapshots[engine] = snapshot
    return Catalogue(session, snapshot)


def forget() -> None:
    """Drop every process-wide copy (the next caller reloads)."""
    with _lock:
        _snapshots.clear()


def _load(session: Session, stamp: str | None) -> _Snapshot:
    # A session of its own on the caller's connection: the same transaction, but objects
    # that belong to no request.
    with Session(bind=session.connection()) as loader:
        policies = loader.execute(sa.select(SlaPolicy)).scalars().all()
        categories = loader.execute(sa.select(Category)).scalars().all()
        # Set each parent and policy from the identity map, and nothing else: a loaded
        # collection would be copied into the caller's session with every merge.
        by_id = {category.id: category for category in categories}
        policy_by_id = {policy.id: policy for policy in policies}
        for category in categories:
            set_committed_value(category, "parent", by_id.get(category.parent_id))
            set_committed_value(category, "sla_policy", policy_by_id.get(category.sla_policy_id))
        units = loader.execute(sa.select(TreatmentUnit).order_by(TreatmentUnit.id)).scalars().all()
        rules = loader.execute(sa.select(RoutingRule)).scalars().all()
        contracts = (
            loader.execute(
                sa.select(Contract)
                .options(joinedload(Contract.contractor))
                .order_by(Contract.starts_on.desc(), Contract.id.desc())
            )
            .scalars()
            .all()
        )
        residences = _pairs(loader, contract_residences.c.residence_id, contract_residences)
        covered = _pairs(loader, contract_categories.c.category_id, contract_categories)
        loader.expunge_all()

    rules_by_category: dict[int, list[RoutingRule]] = defaultdict(list)
    for rule in rules:
        rules_by_category[rule.category_id].append(rule)
    return _Snapshot(
        stamp=stamp,
        categories_by_code={category.code: category for category in categories},
        categories=by_id,
        units={unit.id: unit for unit in units},
        rules_by_category={key: tuple(value) for key, value in rules_by_category.items()},
        contracts=tuple(
            _Coverage(
                contract,
                frozenset(residences.get(contract.id, ())),
                frozenset(covered.get(contract.id, ())),
            )
            for contract in contracts
        ),
    )


def _pairs(session: Session, column: sa.Column, table: sa.Table) -> dict[int, list[int]]:
    by_contract: dict[int, list[int]] = defaultdict(list)
    for contract_id, value in session.execute(sa.select(table.c.contract_id, column)):
        by_contract[contract_id].append(value)
    return by_contract
