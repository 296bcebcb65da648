"""The demo's organisation: territories, agencies and their units, contractors and their
contracts, staff users and their API tokens.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from grc.accounts.passwords import hash_password
from grc.auth import issue_token
from grc.claims.models import (
    Category,
    RoutingRule,
    TreatmentUnit,
)
from grc.contracts.models import Contract, Contractor, contract_categories, contract_residences
from grc.demo.reference import (
    AGENCIES,
    AGENCY_UNIT_KINDS,
    COMPANY_UNITS,
    CONTRACTORS,
    FIRST_NAMES,
    LAST_NAMES,
    MULTISERVICE_AGENCIES,
    ON_CALL,
)
from grc.housing.models import (
    Agency,
    Territory,
)
from grc.people.models import Role, User
from grc.people.search import normalise_phone

if TYPE_CHECKING:
    from grc.demo.stock import Stock

TOKENS_FILE = "demo-tokens.json"
ACCOUNTS_FILE = "demo-accounts.json"
ROLES_SHOWN = ("agent", "unit", "manager", "admin")


@dataclass
class Organisation:
    territories: dict[str, int]
    agencies: dict[str, int]
    units: dict[str, int]  # "METZ-technique" or "tranquillite" -> id


def load_organisation(session: Session) -> Organisation:
    territories = {
        "MOS": Territory(code="MOS", name="Moselle"),
        "MM": Territory(code="MM", name="Meurthe-et-Moselle"),
    }
    agencies: dict[str, Agency] = {}
    units: dict[str, TreatmentUnit] = {}
    for spec in AGENCIES:
        on_call_name, on_call_phone = ON_CALL[spec.code]
        agency = Agency(
            code=spec.code,
            name=spec.name,
            territory=territories[spec.territory],
            on_call_name=on_call_name,
            on_call_phone=normalise_phone(on_call_phone),
        )
        agencies[spec.code] = agency
        short = spec.name.split(" de ", 1)[-1]
        for kind, (suffix, label) in AGENCY_UNIT_KINDS.items():
            units[f"{spec.code}-{kind}"] = TreatmentUnit(
                code=f"{spec.code}-{suffix}",
                name=f"{label} {short}",
                kind=kind,
                agency=agency,
                email=f"{kind.replace('_', '-')}.{spec.code.lower()}@bailleur.example.org",
            )
    for kind, (code, label) in COMPANY_UNITS.items():
        units[kind] = TreatmentUnit(
            code=code, name=label, kind=kind, email=f"{kind}@bailleur.example.org"
        )
    session.add_all([*territories.values(), *units.values()])
    session.flush()
    # The social counsellor of Saint-Avold also covers Forbach: a real-world routing rule.
    soc = session.execute(sa.select(Category).where(Category.code == "SOC")).scalar_one()
    session.add(RoutingRule(category=soc, unit=units["STAVOLD-social"], agency=agencies["FORBACH"]))
    session.commit()
    return Organisation(
        territories={k: t.id for k, t in territories.items()},
        agencies={k: a.id for k, a in agencies.items()},
        units={k: u.id for k, u in units.items()},
    )


def _categories_for(session: Session, target: str) -> list[int]:
    return list(
        session.execute(
            sa.select(Category.id).where(
                Category.default_route_kind == "contract", Category.default_route_target == target
            )
        ).scalars()
    )


def load_contracts(session: Session, org: Organisation, stock: Stock, today: date) -> int:
    contractors = {
        code: Contractor(code=code, name=name, email=email, phone=normalise_phone(phone))
        for code, (name, email, phone) in CONTRACTORS.items()
    }
    session.add_all(contractors.values())
    session.flush()

    def by_agency(*codes: str) -> set[int]:
        return {r for code in codes for r in stock.residence_ids_by_agency.get(code, [])}

    moselle = {a.code for a in AGENCIES if a.territory == "MOS"}
    plans = (
        (
            "MS-2025-01",
            "MULTI",
            "multiservice",
            by_agency(*MULTISERVICE_AGENCIES),
            _categories_for(session, "multiservice"),
            # A leak or a power cut is made safe within hours, a dripping tap within days.
            {"urgent": (1, 4), "high": (2, 24), "normal": (4, 72), "low": (8, 168)},
        ),
        (
            "ASC-2024-03",
            "ASCEST",
            "elevator",
            stock.residences_with.get("elevator", set()),
            _categories_for(session, "elevator"),
            # Someone trapped in a cabin: on site within the hour.
            {"urgent": (1, 2), "high": (1, 4), "normal": (1, 24), "low": (4, 72)},
        ),
        (
            "CHF-2023-07",
            "THERMIQUE",
            "heating",
            by_agency(*moselle),
            _categories_for(session, "heating"),
            {"urgent": (1, 4), "high": (2, 12), "normal": (2, 24), "low": (8, 72)},
        ),
        (
            "NET-2025-02",
            "NETHAB",
            "cleaning",
            by_agency("METZ", "NANCY"),
            _categories_for(session, "cleaning"),
            {"urgent": (2, 8), "high": (8, 48), "normal": (24, 120), "low": (24, 240)},
        ),
        (
            "3D-2026-01",
            "HYGIENE3D",
            "pest",
            by_agency(*(a.code for a in AGENCIES)),
            _categories_for(session, "pest"),
            {"urgent": (2, 24), "high": (8, 72), "normal": (24, 240), "low": (48, 480)},
        ),
    )
    count = 0
    for reference, contractor, kind, residences, categories, deadlines in plans:
        if not residences or not categories:
            continue
        contract = Contract(
            reference=reference,
            contractor=contractors[contractor],
            kind=kind,
            starts_on=date(today.year - 2, 1, 1),
            ends_on=date(today.year + 2, 12, 31),
        )
        contract.set_deadlines(**deadlines)
        session.add(contract)
        session.flush()
        session.execute(
            contract_residences.insert(),
            [{"contract_id": contract.id, "residence_id": r} for r in sorted(residences)],
        )
        session.execute(
            contract_categories.insert(),
            [{"contract_id": contract.id, "category_id": c} for c in categories],
        )
        count += 1
    return count


@dataclass
class Users:
    agents: list[int]
    by_unit: dict[int, int]  # unit id -> a user of that unit
    count: int


def load_users(session: Session, org: Organisation) -> tuple[Users, dict[str, str], dict[str, str]]:
    """The demo's staff, their API tokens and the screens' sign-in (one shared password)."""

    def user(email: str, name: str, role: Role, unit: str | None = None) -> User:
        u = User(email=email, name=name, role=role, unit_id=org.units[unit] if unit else None)
        session.add(u)
        return u

    agents = [
        user(f"{login}@crc.example.org", name, Role.AGENT)
        for login, name in (
            ("camille.rousseau", "Camille Rousseau"),
            ("yanis.haddad", "Yanis Haddad"),
            ("sophie.weber", "Sophie Weber"),
            ("lucie.thiebaut", "Lucie Thiébaut"),
            ("mehdi.benali", "Mehdi Benali"),
        )
    ]
    unit_users: dict[str, User] = {}
    people = iter(
        [f"{f} {last}" for f, last in zip(FIRST_NAMES * 2, reversed(LAST_NAMES * 2), strict=False)]
    )
    for key in org.units:
        unit_users[key] = user(
            f"{key.lower().replace('_', '-')}@bailleur.example.org", next(people), Role.UNIT, key
        )
    manager = user("direction.qualite@bailleur.example.org", "Hélène Marchal", Role.MANAGER)
    admin = user("admin@bailleur.example.org", "Administrateur GRC", Role.ADMIN)
    # Every demo user signs in to the screens with one password, drawn for this demo and
    # written beside the API tokens (one hash for all: hashing is slow by design).
    password = secrets.token_urlsafe(12)
    shared_hash = hash_password(password)
    for member in [*agents, *unit_users.values(), manager, admin]:
        member.password_hash = shared_hash
    session.flush()
    tokens = {}
    for role, holder in (
        ("agent", agents[0]),
        ("unit", unit_users["METZ-technique"]),
        ("manager", manager),
        ("admin", admin),
    ):
        _, tokens[role] = issue_token(holder, "demo")
    session.flush()
    accounts = {
        "password": password,
        "agent": agents[0].email,
        "unit": unit_users["METZ-technique"].email,
        "manager": manager.email,
        "admin": admin.email,
    }
    users = Users(
        agents=[a.id for a in agents],
        by_unit={org.units[k]: u.id for k, u in unit_users.items()},
        count=len(agents) + len(unit_users) + 2,
    )
    return users, tokens, accounts


def write_tokens(tokens: dict[str, str], name: str = TOKENS_FILE) -> Path:
    """Writes demo secrets (API tokens, or the screens' accounts) to the instance folder."""
    path = Path(current_app.instance_path) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    # The file holds bearer secrets: readable by its owner only.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(tokens, out, indent=2)
        out.write("\n")
    return path
