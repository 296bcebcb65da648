"""Factories: a small but complete landlord built through the real models."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grc.auth import issue_token
from grc.catalogue import load_catalogue
from grc.claims.models import Category, RoutingRule, TreatmentUnit
from grc.contracts.models import Contract, Contractor
from grc.extensions import db
from grc.housing.models import (
    Agency,
    Building,
    Dwelling,
    Equipment,
    EquipmentKind,
    Residence,
    Territory,
)
from grc.people.models import Channel, Lease, Role, Tenant, TenantPhone, User

AGENCY_UNIT_KINDS = ("technique", "proximite", "gestion_locative", "recouvrement", "social")
COMPANY_UNIT_KINDS = ("tranquillite", "sinistres", "astreinte")


@dataclass
class World:
    session: Session
    territories: dict[str, Territory] = field(default_factory=dict)
    agencies: dict[str, Agency] = field(default_factory=dict)
    residences: dict[str, Residence] = field(default_factory=dict)
    buildings: dict[str, Building] = field(default_factory=dict)
    dwellings: dict[str, Dwelling] = field(default_factory=dict)
    equipment: dict[str, Equipment] = field(default_factory=dict)
    tenants: dict[str, Tenant] = field(default_factory=dict)
    units: dict[str, TreatmentUnit] = field(default_factory=dict)
    contractors: dict[str, Contractor] = field(default_factory=dict)
    contracts: dict[str, Contract] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def category(self, code: str) -> Category:
        return self.session.execute(sa.select(Category).where(Category.code == code)).scalar_one()

    def headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def add_user(self, key: str, role: Role, unit: TreatmentUnit | None = None) -> User:
        user = User(
            email=f"{key}@bailleur.test", name=key.replace("_", " ").title(), role=role, unit=unit
        )
        self.session.add(user)
        _, secret = issue_token(user, "tests")
        self.users[key], self.tokens[key] = user, secret
        return user

    def add_rule(self, category: str, unit: str, **scope: Any) -> RoutingRule:
        rule = RoutingRule(category=self.category(category), unit=self.units[unit], **scope)
        self.session.add(rule)
        self.session.flush()
        return rule


def build_world(session: Session) -> World:
    """The world in ``session``'s database, flushed, not committed.

    Built through the models the first time in a process, for each kind of database; after
    that, into an empty database, its rows are written again, one statement per table (a
    fifth of the time), the columns dated by default dated anew and the sequences where
    the build left them: the same rows, ids and objects as a new build would give."""
    dialect = session.get_bind().dialect.name
    copy = _COPIES.get(dialect)
    if copy is not None:
        if _untouched(session, copy.rows, copy.sequences):
            return copy.write_again(session)
        return _build(session)
    first = _untouched(session, None, None)
    world = _build(session)
    if first:
        _COPIES[dialect] = _WorldCopy.of(session, world)
    return world


def _build(session: Session) -> World:
    load_catalogue(session)
    w = World(session)
    w.territories["MOS"] = Territory(code="MOS", name="Moselle")
    w.territories["MM"] = Territory(code="MM", name="Meurthe-et-Moselle")
    for code, name, territory in (
        ("METZ", "Metz", "MOS"),
        ("WOIPPY", "Woippy", "MOS"),
        ("NANCY", "Nancy", "MM"),
    ):
        w.agencies[code] = Agency(code=code, name=name, territory=w.territories[territory])
        for kind in AGENCY_UNIT_KINDS:
            w.units[f"{code}-{kind}"] = TreatmentUnit(
                code=f"{code}-{kind}",
                name=f"{kind.replace('_', ' ').title()} {name}",
                kind=kind,
                agency=w.agencies[code],
            )
    for kind in COMPANY_UNIT_KINDS:
        w.units[kind] = TreatmentUnit(code=kind.upper(), name=kind.title(), kind=kind)

    for code, name, agency, dept, city, postcode in (
        ("TIL", "Les Tilleuls", "METZ", "57", "Metz", "57000"),
        ("PARC", "Le Parc", "WOIPPY", "57", "Woippy", "57140"),
        ("HAUS", "Haussonville", "NANCY", "54", "Nancy", "54000"),
        ("BELL", "Belleville", "NANCY", "75", "Paris", "75020"),
    ):
        w.residences[code] = res = Residence(
            code=code, name=name, agency=w.agencies[agency], department_code=dept, city=city
        )
        building = Building(
            code=f"{code}-A",
            residence=res,
            entrance="A",
            street=f"{len(w.buildings) * 2 + 3} rue {_street(code)}",
            postcode=postcode,
            city=city,
        )
        building.refresh_search_address()
        w.buildings[code] = building
        for door in ("11", "12"):
            w.dwellings[f"{code}-{door}"] = Dwelling(
                code=f"{code}-A-{door}", building=building, floor=1, door=door
            )
    w.equipment["TIL-ELEV"] = Equipment(
        code="TIL-A-ASC",
        building=w.buildings["TIL"],
        kind=EquipmentKind.ELEVATOR,
        label="Ascenseur A",
    )
    w.equipment["TIL-BOIL"] = Equipment(
        code="TIL-A-CHF",
        building=w.buildings["TIL"],
        kind=EquipmentKind.BOILER_ROOM,
        label="Chaufferie",
    )
    w.equipment["PARC-ELEV"] = Equipment(
        code="PARC-A-ASC",
        building=w.buildings["PARC"],
        kind=EquipmentKind.ELEVATOR,
        label="Ascenseur A",
    )

    people = (
        ("TIL-11", "Élodie", "Lefèvre", "06 12 34 56 78"),
        ("TIL-12", "Jean", "Dupont", "03 87 11 22 33"),
        ("PARC-11", "Karim", "Benali", "07 01 02 03 04"),
        ("PARC-12", "Marie", "Martin", "06 98 76 54 32"),
        ("HAUS-11", "Sophie", "Muller", "06 55 44 33 22"),
        ("HAUS-12", "Lucas", "Schmitt", "06 11 11 11 11"),
        ("BELL-11", "Chloé", "Girard", "06 22 22 22 22"),
        ("BELL-12", "Hugo", "Roux", "06 33 33 33 33"),
    )
    for i, (dwelling, first, last, phone) in enumerate(people):
        tenant = Tenant(
            first_name=first,
            last_name=last,
            preferred_channel=Channel.SMS,
            email=f"{first.lower()}.{i}@example.test",
        )
        tenant.refresh_search_name()
        from grc.people.search import normalise_phone

        tenant.phones.append(TenantPhone(number=normalise_phone(phone)))
        session.add(
            Lease(
                reference=f"BAIL-{i:04d}",
                tenant=tenant,
                dwelling=w.dwellings[dwelling],
                start_date=date(2020, 1, 1),
            )
        )
        w.tenants[dwelling] = tenant

    w.contractors["MULTI"] = Contractor(
        code="MULTI", name="Multiservices Lorraine", email="ordres@multiservices.test"
    )
    w.contractors["ELEV"] = Contractor(
        code="ELEV", name="Ascenseurs de l'Est", email="sav@ascenseurs.test"
    )
    session.add_all([*w.territories.values(), *w.units.values(), *w.contractors.values()])
    session.flush()

    with session.no_autoflush:
        _add_contracts(session, w)
    _add_users(w)
    session.flush()
    return w


# Written by the catalogue's triggers whenever a table of the catalogue changes: not copied.
_WRITTEN_BY_TRIGGERS = frozenset({"catalogue_versions"})


@dataclass
class _WorldCopy:
    """The rows the first build wrote (in a database of one kind), to write them again."""

    rows: dict[str, list[dict[str, Any]]]  # by table, referenced tables first
    sequences: dict[str, int]  # PostgreSQL's, as the build left them
    objects: dict[str, dict[str, tuple[type, tuple[Any, ...]]]]  # World's, by model and key
    tokens: dict[str, str]

    @classmethod
    def of(cls, session: Session, world: World) -> _WorldCopy:
        session.flush()
        rows = {}
        for table in db.metadata.sorted_tables:
            if table.name in _WRITTEN_BY_TRIGGERS:
                continue
            found = session.execute(sa.select(table).order_by(*table.primary_key)).mappings()
            if written := [dict(row) for row in found]:
                rows[table.name] = written
        objects = {
            f.name: {
                key: (type(value), sa.inspect(value).identity)
                for key, value in getattr(world, f.name).items()
            }
            for f in fields(World)
            if f.name not in ("session", "tokens")
        }
        return cls(rows, _used_sequences(session), objects, dict(world.tokens))

    def write_again(self, session: Session) -> World:
        for name, rows in self.rows.items():
            table = db.metadata.tables[name]
            dated = [c for c in table.columns if c.default is not None and c.default.is_callable]
            if dated:
                rows = [{**row, **{c.key: c.default.arg(None) for c in dated}} for row in rows]
            session.execute(table.insert(), rows)
        for sequence, value in self.sequences.items():
            session.execute(
                sa.text("SELECT setval(CAST(:sequence AS regclass), :value)"),
                {"sequence": sequence, "value": value},
            )
        world = World(session, tokens=dict(self.tokens))
        for name, entries in self.objects.items():
            by_model: dict[type, list[Any]] = {}
            for model, identity in entries.values():
                by_model.setdefault(model, []).append(identity[0])
            for model, ids in by_model.items():  # into the session's identity map
                session.execute(sa.select(model).where(model.id.in_(ids))).scalars().all()
            getattr(world, name).update(
                {key: session.get(model, identity) for key, (model, identity) in entries.items()}
            )
        return world


_COPIES: dict[str, _WorldCopy] = {}  # by kind of database


def _used_sequences(session: Session) -> dict[str, int]:
    if session.get_bind().dialect.name != "postgresql":
        return {}  # SQLite's next id is the largest plus one
    return dict(
        session.execute(
            sa.text(
                "SELECT format('%I.%I', schemaname, sequencename), last_value FROM pg_sequences "
                "WHERE last_value IS NOT NULL"
            )
        ).all()
    )


def _untouched(
    session: Session, tables: Iterable[str] | None, sequences: Iterable[str] | None
) -> bool:
    """Whether ``tables`` are empty and ``sequences`` unused (all of them when None): a
    build then gives the ids the first one gave."""
    names = [t.name for t in db.metadata.sorted_tables] if tables is None else list(tables)
    probes = [
        sa.exists(sa.select(sa.text("1")).select_from(sa.table(n)))
        for n in names
        if n not in _WRITTEN_BY_TRIGGERS
    ]
    if session.execute(sa.select(sa.or_(*probes))).scalar_one():
        return False
    if session.get_bind().dialect.name != "postgresql":
        return True
    used = set(_used_sequences(session))
    return not (used if sequences is None else used & set(sequences))


def _add_contracts(session: Session, w: World) -> None:
    multiservice = Contract(
        reference="MS-2026",
        contractor=w.contractors["MULTI"],
        kind="multiservice",
        starts_on=date(2024, 1, 1),
        ends_on=date(2027, 12, 31),
    )
    # Realistic promises: an emergency made safe within hours, standard work within days.
    multiservice.set_deadlines(urgent=(1, 4), high=(2, 24), normal=(4, 72), low=(8, 168))
    multiservice.residences = [w.residences["TIL"], w.residences["HAUS"]]
    multiservice.categories = _categories_handled_by(session, "multiservice")
    elevator = Contract(
        reference="ASC-2025",
        contractor=w.contractors["ELEV"],
        kind="elevator",
        starts_on=date(2025, 1, 1),
    )
    elevator.set_deadlines(urgent=(1, 2), high=(1, 4), normal=(1, 24), low=(4, 72))
    elevator.residences = [w.residences["TIL"]]
    elevator.categories = _categories_handled_by(session, "elevator")
    w.contracts = {"MULTI": multiservice, "ELEV": elevator}
    session.add_all(w.contracts.values())


def _add_users(w: World) -> None:
    w.add_user("agent", Role.AGENT)
    w.add_user("agent2", Role.AGENT)
    w.add_user("metz_tech", Role.UNIT, w.units["METZ-technique"])
    w.add_user("woippy_tech", Role.UNIT, w.units["WOIPPY-technique"])
    w.add_user("manager", Role.MANAGER)
    w.add_user("admin", Role.ADMIN)


def _street(code: str) -> str:
    return {
        "TIL": "des Tilleuls",
        "PARC": "du Parc",
        "HAUS": "de Haussonville",
        "BELL": "de Belleville",
    }[code]


def _categories_handled_by(session: Session, kind: str) -> list[Category]:
    return list(
        session.execute(
            sa.select(Category).where(
                Category.default_route_kind == "contract", Category.default_route_target == kind
            )
        ).scalars()
    )


def claim_payload(world: World, category: str = "PLB-FUITE", **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "category": category,
        "channel": "phone",
        "description": "Fuite sous l'évier de la cuisine, l'eau coule en continu.",
        "dwelling_id": world.dwellings["TIL-11"].id,
    }
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not None}


def without_contracts(session: Session, w: World) -> None:
    """No contract covers any residence: claims go to units, and the only messages are the
    tenant's (for tests about those, not about work orders)."""
    for contract in w.contracts.values():
        contract.residences = []
    session.commit()
