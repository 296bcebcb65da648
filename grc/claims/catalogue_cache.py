"""The catalogue and routing tables, kept in memory by each process between requests.

Every intake reads a category with its SLA policy, the contracts, the routing rules and the
treatment units: small tables that change a few times a month but that cost four queries a
claim. Each process keeps a copy per database, as frozen values shared by every request and
thread, and checks, in the caller's transaction, that the copy is current: one tiny query.
The check cannot miss a change: triggers on each of these tables (migration 0006) write a new
random stamp in ``catalogue_versions`` in the same transaction as the change, whichever
program makes it. A copy loaded inside a transaction sees that transaction's own changes; if
it rolls back, its stamp is never seen again and the next caller reloads.

A change costs every process one reload (a few milliseconds for the demo's catalogue):
figures that change often, such as a contractor's running rating, belong in tables of their
own.

The tree is resolved once, at load: each category carries its lineage and the SLA policy in
force for it, so no caller walks the parents.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections import defaultdict
from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grc.claims.models import (
    CatalogueVersion,
    Category,
    Clock,
    LocationKind,
    Priority,
    RoutingRule,
    SlaPolicy,
    TreatmentUnit,
)
from grc.contracts.models import (
    Contract,
    Contractor,
    contract_categories,
    contract_deadlines,
    contract_residences,
)
from grc.db import as_written
from grc.extensions import Base

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


@dataclass(frozen=True, slots=True)
class PolicyValue:
    id: int
    code: str
    label_fr: str
    label_en: str
    response_hours: int
    resolution_hours: int
    clock: Clock


@dataclass(frozen=True, slots=True)
class CategoryValue:
    id: int
    code: str
    parent_id: int | None
    label_fr: str
    label_en: str
    technical: bool
    location_kind: LocationKind | None
    equipment_kind: str | None
    default_priority: Priority
    sla_policy_id: int | None
    default_route_kind: str | None
    default_route_target: str | None
    responsibility: str
    fcr_possible: bool
    active: bool
    # Its parent, then the parent's parent, up to its domain.
    ancestors: tuple[CategoryValue, ...] = ()
    # The nearest policy up the lineage: a category may inherit its domain's.
    effective_policy: PolicyValue | None = None

    def label(self, locale: str) -> str:
        return self.label_en if locale == "en" else self.label_fr

    @property
    def lineage(self) -> tuple[CategoryValue, ...]:
        """The category itself, then its parents up to its domain."""
        return (self, *self.ancestors)

    @property
    def lineage_ids(self) -> tuple[int, ...]:
        return (self.id, *(node.id for node in self.ancestors))


@dataclass(frozen=True, slots=True)
class UnitValue:
    id: int
    code: str
    name: str
    kind: str
    agency_id: int | None
    email: str | None


@dataclass(frozen=True, slots=True)
class RuleValue:
    id: int
    category_id: int
    unit_id: int
    residence_id: int | None
    agency_id: int | None
    territory_id: int | None


@dataclass(frozen=True, slots=True)
class ContractorValue:
    id: int
    code: str
    name: str
    email: str
    phone: str | None
    # Its contracts end by that day (routing reads the contracts' dates).
    retired_on: date | None


@dataclass(frozen=True, slots=True)
class ContractValue:
    id: int
    reference: str
    contractor_id: int
    kind: str
    starts_on: date
    ends_on: date | None
    # What the contractor promises, in calendar hours from the order, per claim priority.
    urgent_acknowledge_hours: int
    urgent_complete_hours: int
    high_acknowledge_hours: int
    high_complete_hours: int
    normal_acknowledge_hours: int
    normal_complete_hours: int
    low_acknowledge_hours: int
    low_complete_hours: int
    contractor: ContractorValue
    residence_ids: frozenset[int]
    category_ids: frozenset[int]

    def deadlines(self, priority: str) -> tuple[int, int]:
        return contract_deadlines(self, priority)

    def covers(self, category_id: int, residence_id: int, day: date) -> bool:
        return (
            residence_id in self.residence_ids
            and category_id in self.category_ids
            and self.starts_on <= day
            and (self.ends_on is None or self.ends_on >= day)
        )


@dataclass(frozen=True)
class _Snapshot:
    stamp: str | None
    categories_by_code: dict[str, CategoryValue]
    categories: dict[int, CategoryValue]
    units: dict[int, UnitValue]
    rules_by_category: dict[int, tuple[RuleValue, ...]]
    # Most recent first: while a contract is renewed the two overlap and the newer wins.
    contracts: tuple[ContractValue, ...]


_STAMP = sa.select(CatalogueVersion.stamp).where(CatalogueVersion.id == 1)
_snapshots: weakref.WeakKeyDictionary[sa.Engine, _Snapshot] = weakref.WeakKeyDictionary()
_lock = threading.Lock()

Row = TypeVar("Row")
# A mapped class (its rows are what a claim's relations point to).
MappedRow = TypeVar("MappedRow", bound=Base)


class Catalogue:
    """The catalogue as of one session's transaction. Its values are shared and frozen;
    ``row`` gives the session's own ORM row for a value, for a claim's relations."""

    def __init__(self, session: Session, snapshot: _Snapshot) -> None:
        self._session = session
        self._snapshot = snapshot

    @property
    def stamp(self) -> str | None:
        return self._snapshot.stamp

    def category(self, code: str) -> CategoryValue | None:
        """The category of that code (active or not)."""
        return self._snapshot.categories_by_code.get(code)

    def categories(self) -> tuple[CategoryValue, ...]:
        return tuple(self._snapshot.categories.values())

    def category_by_id(self, category_id: int) -> CategoryValue:
        return self._snapshot.categories[category_id]

    def unit(self, unit_id: int) -> UnitValue:
        return self._snapshot.units[unit_id]

    def unit_of_kind(self, kind: str, agency_id: int) -> UnitValue | None:
        """The agency's unit of that kind, else the company-wide one."""
        found = None
        for unit in self._snapshot.units.values():
            if unit.kind != kind:
                continue
            if unit.agency_id == agency_id:
                return unit
            if unit.agency_id is None and found is None:
                found = unit
        return found

    def covering_contract(
        self, category_id: int, residence_id: int, day: date
    ) -> ContractValue | None:
        """The contract covering that residence and category on that day."""
        for contract in self._snapshot.contracts:
            if contract.covers(category_id, residence_id, day):
                return contract
        return None

    def contracts_for(self, residence_id: int, day: date) -> list[ContractValue]:
        """The contracts in force on that day that cover the residence (any category)."""
        return [
            contract
            for contract in self._snapshot.contracts
            if residence_id in contract.residence_ids
            and contract.starts_on <= day
            and (contract.ends_on is None or contract.ends_on >= day)
        ]

    def rules_for(self, category_ids: tuple[int, ...]) -> list[RuleValue]:
        """The routing rules on any of these categories, whatever their scope."""
        rules = self._snapshot.rules_by_category
        return [rule for category_id in category_ids for rule in rules.get(category_id, ())]

    def row(self, model: type[MappedRow], value: Any) -> MappedRow:
        """The session's row for ``value`` (the one it holds, else one built from the value's
        columns, without SQL): what a claim's relations point to, so that its texts and its
        answer read the catalogue without a query."""
        session = self._session
        key = session.identity_key(model, (value.id,))
        held = session.identity_map.get(key)
        if held is not None:
            return held
        columns = {name: getattr(value, name) for name in _column_keys(model)}
        return as_written(session, model, columns, {})


def catalogue(session: Session) -> Catalogue:
    """The catalogue as of the session's transaction, reloaded if the tables changed."""
    stamp = session.execute(_STAMP).scalar_one_or_none()
    engine = session.get_bind().engine
    snapshot = _snapshots.get(engine)
    if snapshot is None or snapshot.stamp != stamp:
        # Loaded after the stamp was read: the copy is at least as new as its stamp says,
        # so a change racing with this load makes the next caller reload, never the reverse.
        snapshot = _load(session.connection(), stamp)
        with _lock:
            _snapshots[engine] = snapshot
    return Catalogue(session, snapshot)


def forget() -> None:
    """Drop every process-wide copy (the next caller reloads)."""
    with _lock:
        _snapshots.clear()


@functools.cache
def _column_keys(model: type[Any]) -> tuple[str, ...]:
    return tuple(model.__table__.c.keys())


def _values(connection: sa.Connection, model: type[Any], cls: type[Row]) -> list[Row]:
    """Every row of ``model``'s table as ``cls``, through the columns' own types (an enum
    column gives its member); ordered by key."""
    # ``cls`` is always one of the value dataclasses, which a bare TypeVar cannot say.
    names = {field.name for field in fields(cls)}  # type: ignore[arg-type]
    columns = [attr.columns[0] for attr in sa.inspect(model).column_attrs if attr.key in names]
    table = model.__table__
    rows = connection.execute(sa.select(*columns).order_by(table.c.id)).mappings()
    return [cls(**row) for row in rows]


def _load(connection: sa.Connection, stamp: str | None) -> _Snapshot:
    policies = {p.id: p for p in _values(connection, SlaPolicy, PolicyValue)}
    flat = {c.id: c for c in _values(connection, Category, CategoryValue)}
    categories: dict[int, CategoryValue] = {}

    def resolved(category_id: int) -> CategoryValue:
        # Parents first: a category holds its parent's resolved value.
        if category_id not in categories:
            node = flat[category_id]
            parent = resolved(node.parent_id) if node.parent_id is not None else None
            ancestors = (parent, *parent.ancestors) if parent is not None else ()
            own = policies.get(node.sla_policy_id) if node.sla_policy_id is not None else None
            inherited = parent.effective_policy if parent is not None else None
            categories[category_id] = replace(
                node, ancestors=ancestors, effective_policy=own or inherited
            )
        return categories[category_id]

    for category_id in flat:
        resolved(category_id)

    units = {unit.id: unit for unit in _values(connection, TreatmentUnit, UnitValue)}
    rules_by_category: dict[int, list[RuleValue]] = defaultdict(list)
    for rule in _values(connection, RoutingRule, RuleValue):
        rules_by_category[rule.category_id].append(rule)
    contractors = {c.id: c for c in _values(connection, Contractor, ContractorValue)}
    residences = _pairs(connection, contract_residences, contract_residences.c.residence_id)
    covered = _pairs(connection, contract_categories, contract_categories.c.category_id)
    contracts = connection.execute(
        sa.select(Contract.__table__).order_by(Contract.starts_on.desc(), Contract.id.desc())
    ).mappings()
    return _Snapshot(
        stamp=stamp,
        categories_by_code={category.code: category for category in categories.values()},
        categories=categories,
        units=units,
        rules_by_category={key: tuple(value) for key, value in rules_by_category.items()},
        contracts=tuple(
            ContractValue(
                **row,
                contractor=contractors[row["contractor_id"]],
                residence_ids=frozenset(residences.get(row["id"], ())),
                category_ids=frozenset(covered.get(row["id"], ())),
            )
            for row in contracts
        ),
    )


def _pairs(connection: sa.Connection, table: sa.Table, column: sa.Column) -> dict[int, list[int]]:
    by_contract: dict[int, list[int]] = defaultdict(list)
    for contract_id, value in connection.execute(sa.select(table.c.contract_id, column)):
        by_contract[contract_id].append(value)
    return by_contract
