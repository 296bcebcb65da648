"""Loads the claim catalogue and SLA policies from the reference CSV files (idempotent)."""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grc.claims.models import Category, Clock, LocationKind, Priority, SlaPolicy

PRIORITY_BY_POLICY = {
    "URG": Priority.URGENT,
    "PRIO": Priority.HIGH,
    "STD": Priority.NORMAL,
    "ADM": Priority.LOW,
    "LT": Priority.LOW,
}


def _rows(name: str, directory: Path | None) -> list[dict[str, str]]:
    if directory is not None:
        text = (directory / name).read_text(encoding="utf-8")
    else:
        text = resources.files("grc").joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def load_catalogue(session: Session, directory: Path | None = None) -> tuple[int, int]:
    """Create or update SLA policies and categories by code; returns their counts."""
    policies = {p.code: p for p in session.execute(sa.select(SlaPolicy)).scalars()}
    for row in _rows("sla_policies.csv", directory):
        policy = policies.get(row["code"]) or SlaPolicy(code=row["code"])
        policy.label_fr, policy.label_en = row["label_fr"], row["label_en"]
        policy.response_hours = int(row["response_hours"])
        policy.resolution_hours = int(row["resolution_hours"])
        policy.clock = Clock(row["clock"])
        policies[policy.code] = policy
        session.add(policy)

    categories = {c.code: c for c in session.execute(sa.select(Category)).scalars()}
    rows = _rows("categories.csv", directory)
    for row in rows:
        category = categories.get(row["code"]) or Category(code=row["code"])
        categories[category.code] = category
        category.label_fr, category.label_en = row["label_fr"], row["label_en"]
        category.technical = row["technical"] == "true"
        category.parent = categories[row["parent"]] if row["parent"] else None
        location = row["location"]
        if location.startswith("equipment:"):
            category.location_kind = LocationKind.EQUIPMENT
            category.equipment_kind = location.split(":", 1)[1]
        else:
            category.location_kind = LocationKind(location) if location else None
            category.equipment_kind = None
        category.sla_policy = policies[row["sla_policy"]] if row["sla_policy"] else None
        category.default_priority = PRIORITY_BY_POLICY.get(row["sla_policy"], Priority.NORMAL)
        if row["handled_by"]:
            kind, target = row["handled_by"].split(":", 1)
            category.default_route_kind, category.default_route_target = kind, target
        else:
            category.default_route_kind = category.default_route_target = None
        category.responsibility = row["responsibility"] or "landlord"
        category.fcr_possible = row["fcr_possible"] == "true"
        session.add(category)
    session.flush()
    return len(policies), len(rows)
