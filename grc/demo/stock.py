"""The demo's housing stock and tenants, inserted in bulk (tens of thousands of rows in
seconds) and committed a few thousand dwellings at a time.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grc.demo.organisation import Organisation
from grc.demo.reference import (
    AGENCIES,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    LAST_NAMES,
    RESIDENCE_NAMES,
    City,
)
from grc.housing.models import (
    Building,
    Dwelling,
    Equipment,
    EquipmentKind,
    Residence,
)
from grc.people.models import Channel, Lease, PhoneKind, Tenant, TenantPhone
from grc.people.search import normalise_phone

DWELLINGS_PER_COMMIT = 5_000
OCCUPANCY = 0.95
# French accessibility rules ask for an elevator from R+4 (five levels) upwards.
ELEVATOR_FROM_TOP_FLOOR = 4
# The number the README searches for: the first current tenant of the demo holds it.
README_PHONE = "06 12 34 56 78"


@dataclass
class DwellingInfo:
    id: int
    building_id: int
    leases: list[tuple[int, date, date | None]]  # (tenant_id, start, end), oldest first

    def tenant_on(self, day: date) -> int | None:
        for tenant_id, start, end in reversed(self.leases):
            if start <= day and (end is None or end >= day):
                return tenant_id
        return None


@dataclass
class Stock:
    residences: int = 0
    buildings: int = 0
    equipment: Counter[str] = field(default_factory=Counter)
    tenants: int = 0
    phones: int = 0
    current_leases: int = 0
    departments: set[str] = field(default_factory=set)
    # What claims need to pick realistic locations.
    dwellings: list[DwellingInfo] = field(default_factory=list)
    dwelling_by_id: dict[int, DwellingInfo] = field(default_factory=dict)
    building_dwellings: dict[int, list[int]] = field(default_factory=dict)
    equipment_by_kind: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    residence_ids_by_agency: dict[str, list[int]] = field(default_factory=dict)
    residences_with: dict[str, set[int]] = field(default_factory=dict)


def _split(total: int, shares: Sequence[float], minimum: int) -> list[int]:
    """Whole numbers proportional to ``shares`` that add up to ``total``, none below minimum."""
    raw = [max(minimum, math.floor(total * s / sum(shares))) for s in shares]
    i = 0
    while sum(raw) < total:
        raw[i % len(raw)] += 1
        i += 1
    while sum(raw) > total:
        j = max(range(len(raw)), key=raw.__getitem__)
        raw[j] -= 1
    return raw


def _residence_sizes(rng: random.Random, total: int, required: int) -> list[int]:
    """Residence sizes (in dwellings) adding up to ``total``: many small, a few big estates."""
    sizes: list[int] = []
    remaining = total
    while remaining > 0:
        r = rng.random()
        size = (
            rng.randint(6, 30)
            if r < 0.3
            else rng.randint(30, 120)
            if r < 0.75
            else rng.randint(120, 400)
        )
        size = min(size, remaining)
        if remaining - size < 6 and sizes:
            size = remaining
        sizes.append(size)
        remaining -= size
    while len(sizes) < required and max(sizes) > 1:
        j = max(range(len(sizes)), key=sizes.__getitem__)
        half = sizes[j] // 2
        sizes[j] -= half
        sizes.append(half)
    return sizes


def _entrance_letter(i: int) -> str:
    return chr(ord("A") + i) if i < 26 else f"{chr(ord('A') + i % 26)}{i // 26}"


def load_stock(
    session: Session,
    total: int,
    rng: random.Random,
    today: date,
    now: datetime,
    org: Organisation,
    echo: Callable[[str], Any],
) -> Stock:
    stock = Stock()
    per_agency = _split(total, [a.share for a in AGENCIES], minimum=len(AGENCIES[0].cities))
    names_used: Counter[tuple[str, str]] = Counter()
    pending: list[dict[str, Any]] = []
    pending_dwellings = 0
    for spec, dwellings in zip(AGENCIES, per_agency, strict=True):
        stock.residence_ids_by_agency[spec.code] = []
        sizes = _residence_sizes(rng, dwellings, required=len(spec.required))
        cities = [c for c, _ in spec.cities]
        weights = [w for _, w in spec.cities]
        for i, size in enumerate(sizes):
            city = spec.required[i] if i < len(spec.required) else rng.choices(cities, weights)[0]
            base = rng.choice(RESIDENCE_NAMES)
            if city.neighbourhoods and rng.random() < 0.5:
                base = f"{rng.choice(city.neighbourhoods)} – {base}"
            names_used[(city.name, base)] += 1
            count = names_used[(city.name, base)]
            name = base if count == 1 else f"{base} {_roman(count)}"
            pending.append(
                {
                    "agency": spec,
                    "city": city,
                    "name": name,
                    "size": size,
                    "code": f"{spec.prefix}-{i + 1:04d}",
                }
            )
            pending_dwellings += size
            if pending_dwellings >= DWELLINGS_PER_COMMIT:
                _insert_residences(session, pending, rng, today, now, org, stock)
                echo(f"  … {len(stock.dwellings):,} dwellings")
                pending, pending_dwellings = [], 0
        if pending:
            _insert_residences(session, pending, rng, today, now, org, stock)
            pending, pending_dwellings = [], 0
    return stock


def _roman(n: int) -> str:
    numerals = ((10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))
    out = ""
    for value, letters in numerals:
        while n >= value:
            out, n = out + letters, n - value
    return out


def _insert_many(session: Session, model: type[Any], rows: list[dict[str, Any]]) -> list[int]:
    """Bulk insert returning the new ids in the order of ``rows``."""
    if not rows:
        return []
    stmt = sa.insert(model).returning(model.id, sort_by_parameter_order=True)
    return list(session.execute(stmt, rows).scalars())


def _insert_residences(
    session: Session,
    pending: list[dict[str, Any]],
    rng: random.Random,
    today: date,
    now: datetime,
    org: Organisation,
    stock: Stock,
) -> None:
    residence_ids = _insert_many(
        session,
        Residence,
        [
            {
                "code": p["code"],
                "name": p["name"],
                "agency_id": org.agencies[p["agency"].code],
                "department_code": p["city"].department,
                "city": p["city"].name,
            }
            for p in pending
        ],
    )
    buildings: list[dict[str, Any]] = []
    # ([(floor, door)], landline prefix of the city)
    building_plan: list[tuple[list[tuple[int, int]], str]] = []
    equipment: list[dict[str, Any]] = []
    for p, residence_id in zip(pending, residence_ids, strict=True):
        stock.residences += 1
        stock.departments.add(p["city"].department)
        stock.residence_ids_by_agency[p["agency"].code].append(residence_id)
        city: City = p["city"]
        streets = rng.sample(city.streets, k=min(len(city.streets), 1 + (p["size"] > 150)))
        number = rng.randrange(1, 120, 2)
        size = p["size"]
        per_entrance = rng.randint(8, 16) if size < 40 else rng.randint(15, 45)
        n_entrances = max(1, min(40, round(size / per_entrance)))
        entrance_sizes = _split(size, [1.0] * n_entrances, minimum=1)
        for e, entrance_size in enumerate(entrance_sizes):
            street = streets[e * len(streets) // n_entrances]
            top = (
                rng.randint(4, 14)
                if entrance_size >= 30 and rng.random() < 0.6
                else rng.randint(1, 4)
            )
            per_floor = max(1, math.ceil(entrance_size / (top + 1)))
            doors = [(i // per_floor, i % per_floor + 1) for i in range(entrance_size)]
            top = doors[-1][0]
            code = f"{p['code']}-{_entrance_letter(e)}"
            building = Building(
                code=code,
                residence_id=residence_id,
                entrance=_entrance_letter(e),
                street=f"{number} {street}",
                postcode=city.postcode,
                city=city.name,
            )
            building.refresh_search_address()
            buildings.append(
                {
                    "code": code,
                    "residence_id": residence_id,
                    "entrance": building.entrance,
                    "street": building.street,
                    "postcode": building.postcode,
                    "city": building.city,
                    "search_address": building.search_address,
                }
            )
            building_plan.append((doors, city.landline_prefix))
            number += 2
            if top >= ELEVATOR_FROM_TOP_FLOOR:
                for k in range(1 + (entrance_size > 60)):
                    equipment.append(
                        {
                            "code": f"{code}-ASC{k + 1}",
                            "kind": EquipmentKind.ELEVATOR,
                            "label": f"Ascenseur {k + 1} entrée {building.entrance}",
                            "_b": len(buildings) - 1,
                            "_r": residence_id,
                        }
                    )
            if entrance_size >= 6 and rng.random() < 0.9:
                equipment.append(
                    {
                        "code": f"{code}-INT",
                        "kind": EquipmentKind.ENTRY_PHONE,
                        "label": f"Interphone entrée {building.entrance}",
                        "_b": len(buildings) - 1,
                        "_r": residence_id,
                    }
                )
        first = len(buildings) - n_entrances
        if size >= 20 and rng.random() < 0.45:
            equipment.append(
                {
                    "code": f"{p['code']}-CHF",
                    "kind": EquipmentKind.BOILER_ROOM,
                    "label": "Chaufferie collective",
                    "_b": first,
                    "_r": residence_id,
                }
            )
        if size >= 30 and rng.random() < 0.25:
            equipment.append(
                {
                    "code": f"{p['code']}-PORTAIL",
                    "kind": EquipmentKind.GATE,
                    "label": "Barrière du parking",
                    "_b": first,
                    "_r": residence_id,
                }
            )

    building_ids = _insert_many(session, Building, buildings)
    stock.buildings += len(building_ids)
    for row in equipment:
        row["building_id"] = building_ids[row.pop("_b")]
        residence_id = row.pop("_r")
        kind = str(row["kind"])
        stock.equipment[kind] += 1
        stock.residences_with.setdefault(kind, set()).add(residence_id)
    equipment_ids = _insert_many(session, Equipment, equipment)
    for row, equipment_id in zip(equipment, equipment_ids, strict=True):
        stock.equipment_by_kind.setdefault(str(row["kind"]), []).append(
            (equipment_id, row["building_id"])
        )

    dwelling_rows: list[dict[str, Any]] = []
    dwelling_buildings: list[int] = []
    dwelling_prefixes: list[str] = []
    for (doors, prefix), building_id, row in zip(
        building_plan, building_ids, buildings, strict=True
    ):
        for floor, door in doors:
            typology = rng.choices(("T1", "T2", "T3", "T4", "T5"), (8, 22, 38, 24, 8))[0]
            dwelling_rows.append(
                {
                    "code": f"{row['code']}-{floor:02d}{door:02d}",
                    "building_id": building_id,
                    "floor": floor,
                    "door": f"{floor}{door:02d}" if floor else f"{door:02d}",
                    "typology": typology,
                }
            )
            dwelling_buildings.append(building_id)
            dwelling_prefixes.append(prefix)
    dwelling_ids = _insert_many(session, Dwelling, dwelling_rows)
    infos = [DwellingInfo(d, b, []) for d, b in zip(dwelling_ids, dwelling_buildings, strict=True)]
    for info in infos:
        stock.building_dwellings.setdefault(info.building_id, []).append(info.id)
        stock.dwelling_by_id[info.id] = info
    _insert_tenants(session, infos, dwelling_prefixes, rng, today, now, stock)
    stock.dwellings.extend(infos)
    session.commit()
    session.expunge_all()


def _insert_tenants(
    session: Session,
    infos: list[DwellingInfo],
    prefixes: list[str],
    rng: random.Random,
    today: date,
    now: datetime,
    stock: Stock,
) -> None:
    tenants: list[dict[str, Any]] = []
    phones: list[tuple[int, str, PhoneKind]] = []  # (tenant row index, number, kind)
    leases: list[tuple[int, int, date, date | None]] = []  # (tenant row, dwelling idx, start, end)

    def new_tenant(city_prefix: str) -> int:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        tenant = Tenant(first_name=first, last_name=last)
        tenant.refresh_search_name()
        index = len(tenants) + stock.tenants
        email = None
        if rng.random() < 0.8:
            local = tenant.search_name.split()
            email = (
                f"{'.'.join(reversed(local))}{rng.randint(1, 99)}@{rng.choice(EMAIL_DOMAINS)}"
            ).replace(" ", "")
        r = rng.random()
        channel = (
            Channel.EMAIL if email and r < 0.2 else Channel.LETTER if r > 0.92 else Channel.SMS
        )
        tenants.append(
            {
                "external_ref": f"LOC{index + 1:07d}",
                "first_name": first,
                "last_name": last,
                "email": email,
                "preferred_channel": channel,
                "search_name": tenant.search_name,
                "created_at": now,
            }
        )
        row = len(tenants) - 1
        numbers = {_mobile(rng)}
        if rng.random() < 0.35:
            numbers.add(_landline(rng, city_prefix) if rng.random() < 0.6 else _mobile(rng))
        for raw in sorted(numbers):
            number = normalise_phone(raw)
            if number:
                mobile = number.startswith(("+336", "+337"))
                kind = PhoneKind.MOBILE if mobile else PhoneKind.LANDLINE
                phones.append((row, number, kind))
        return row

    for idx, _info in enumerate(infos):
        # Most tenants have lived there for years; about one in ten moved in this year, and a
        # vacant dwelling usually has a tenant who left recently.
        occupied = rng.random() < OCCUPANCY
        if occupied:
            years = min(35.0, rng.expovariate(1 / 8))
            start = today - timedelta(days=int(years * 365) + 1)
            if rng.random() < 0.12:
                start = today - timedelta(days=rng.randint(20, 360))
                previous_start = start - timedelta(days=rng.randint(700, 6000))
                leases.append(
                    (new_tenant(prefixes[idx]), idx, previous_start, start - timedelta(days=1))
                )
            leases.append((new_tenant(prefixes[idx]), idx, start, None))
        else:
            end = today - timedelta(days=rng.randint(5, 180))
            start = end - timedelta(days=rng.randint(400, 5000))
            leases.append((new_tenant(prefixes[idx]), idx, start, end))

    if stock.tenants == 0:
        # The first batch's first current tenant answers to the README's example number
        # (instead of their drawn mobile), whatever the seed and the size.
        readme_row = next(row for row, _idx, _start, end in leases if end is None)
        phones = [
            (row, number, kind)
            for row, number, kind in phones
            if row != readme_row or kind != PhoneKind.MOBILE
        ]
        phones.append((readme_row, normalise_phone(README_PHONE) or "", PhoneKind.MOBILE))

    tenant_ids = _insert_many(session, Tenant, tenants)
    session.execute(
        sa.insert(TenantPhone),
        [
            {"tenant_id": tenant_ids[row], "number": number, "kind": kind}
            for row, number, kind in phones
        ],
    )
    lease_rows = []
    for row, idx, lease_start, lease_end in leases:
        tenant_id = tenant_ids[row]
        lease_rows.append(
            {
                "reference": f"BAIL-{stock.tenants + row + 1:07d}",
                "tenant_id": tenant_id,
                "dwelling_id": infos[idx].id,
                "start_date": lease_start,
                "end_date": lease_end,
            }
        )
        infos[idx].leases.append((tenant_id, lease_start, lease_end))
        stock.current_leases += lease_end is None
    session.execute(sa.insert(Lease), lease_rows)
    stock.tenants += len(tenants)
    stock.phones += len(phones)


def _mobile(rng: random.Random) -> str:
    digits = f"{rng.choice('67')}{rng.randrange(10**8):08d}"
    if digits == "612345678":  # the README's number belongs to one tenant only
        digits = "612345679"
    # The same number as a tenant would give it: spaced, dotted or glued.
    pairs = [digits[i : i + 2] for i in range(1, 9, 2)]
    style = rng.random()
    if style < 0.6:
        return f"0{digits[0]} {' '.join(pairs)}"
    if style < 0.8:
        return f"0{digits[0]}.{'.'.join(pairs)}"
    if style < 0.95:
        return f"0{digits}"
    return f"+33 {digits[0]} {' '.join(pairs)}"


def _landline(rng: random.Random, prefix: str) -> str:
    return f"{prefix} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
