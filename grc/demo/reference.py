"""The demo's reference tables, read once from the data files beside this module.

Places (cities with their neighbourhoods and streets, the agencies that cover them), names
(residences, tenants), the organisation (units, on-call contacts, contractors) and the
texts of claims (descriptions, answers, resolutions). Edit the files under ``data/`` to
change the demo; the loader only draws from them, in their order, so the same seed gives
the same data.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

_DATA = resources.files(__package__) / "data"


@dataclass(frozen=True)
class City:
    name: str
    postcode: str
    department: str
    neighbourhoods: tuple[str, ...]
    streets: tuple[str, ...]
    landline_prefix: str  # "03 87": Moselle, "03 83": Meurthe-et-Moselle, "03 29": Vosges


@dataclass(frozen=True)
class AgencySpec:
    code: str
    prefix: str  # of its residence codes
    name: str
    territory: str
    share: float
    cities: tuple[tuple[City, float], ...]
    # Residences that must exist whatever the size (a directorate's stock outside its area).
    required: tuple[City, ...] = ()


def _json(name: str) -> Any:
    return json.loads((_DATA / name).read_text(encoding="utf-8"))


def _csv(name: str) -> list[dict[str, str]]:
    # Read whole, then split as the csv module wants (newline=""): a packaged file's open()
    # takes no newline argument.
    text = (_DATA / name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _names(name: str) -> tuple[str, ...]:
    return tuple(row["name"] for row in _csv(name))


def _pairs(table: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    return {key: tuple(values) for key, values in table.items()}


def _agencies(places: dict[str, Any]) -> tuple[AgencySpec, ...]:
    cities = {
        key: City(
            name=c["name"],
            postcode=c["postcode"],
            department=c["department"],
            neighbourhoods=tuple(c["neighbourhoods"]),
            streets=tuple(c["streets"]),
            landline_prefix=c["landline_prefix"],
        )
        for key, c in places["cities"].items()
    }
    return tuple(
        AgencySpec(
            code=a["code"],
            prefix=a["prefix"],
            name=a["name"],
            territory=a["territory"],
            share=a["share"],
            cities=tuple((cities[key], share) for key, share in a["cities"]),
            required=tuple(cities[key] for key in a["required"]),
        )
        for a in places["agencies"]
    )


# The directorate of Nancy manages its stock itself, so routing treats it as one more agency.
AGENCIES = _agencies(_json("places.json"))

_organisation = _json("organisation.json")
# kind -> (code suffix, label): the units every agency has.
AGENCY_UNIT_KINDS: dict[str, tuple[str, str]] = {
    k: (v[0], v[1]) for k, v in _organisation["agency_unit_kinds"].items()
}
# kind -> (code, label): the units that serve the whole company.
COMPANY_UNITS: dict[str, tuple[str, str]] = {
    k: (v[0], v[1]) for k, v in _organisation["company_units"].items()
}
MULTISERVICE_AGENCIES: tuple[str, ...] = tuple(_organisation["multiservice_agencies"])
# Who is on call out of hours, per agency: (name, phone). The numbers are in the range the
# telecoms regulator (ARCEP) keeps for fiction (06 39 98 xx xx): no real phone ever rings.
ON_CALL: dict[str, tuple[str, str]] = {
    k: (v["name"], v["phone"]) for k, v in _organisation["on_call"].items()
}
# code -> (name, e-mail, phone); the addresses are under example.com: never a real inbox.
CONTRACTORS: dict[str, tuple[str, str, str]] = {
    k: (v["name"], v["email"], v["phone"]) for k, v in _organisation["contractors"].items()
}

RESIDENCE_NAMES = _names("residence_names.csv")
FIRST_NAMES = _names("first_names.csv")
LAST_NAMES = _names("last_names.csv")
EMAIL_DOMAINS = ("example.org", "example.net", "example.com")  # reserved: never a real inbox

# Relative frequency of each category among a year's claims (from a landlord of this size);
# a category missing here (added to the catalogue later) counts 1.
CATEGORY_WEIGHTS: dict[str, float] = {
    row["category"]: float(row["weight"]) for row in _csv("category_weights.csv")
}

_texts = _json("claim_texts.json")
DESCRIPTIONS = _pairs(_texts["descriptions"])  # category code -> what tenants say
FCR_ANSWERS: dict[str, str] = _texts["first_contact_answers"]  # category code -> answer
FCR_GENERIC: tuple[str, ...] = tuple(_texts["first_contact_generic"])
RESOLUTIONS = _pairs(_texts["resolutions"])  # domain code -> what was done
CANCEL_REASONS: tuple[str, ...] = tuple(_texts["cancel_reasons"])


@dataclass(frozen=True)
class ContractorBehaviour:
    """How a demo contractor works, so that its computed rating is its own: its tenants'
    mean score, its shares of orders acknowledged and completed within the contract's
    deadlines, how often its claims are reopened after the work, and how often a tenant
    answers the survey that the work was not done."""

    satisfaction: float
    acknowledged_on_time: float
    completed_on_time: float
    reopen: float
    not_done: float


CONTRACTOR_BEHAVIOUR: dict[str, ContractorBehaviour] = {
    code: ContractorBehaviour(**spec["behaviour"])
    for code, spec in _organisation["contractors"].items()
}
# Survey answers as tenants write them, by score ("not_done": the work was not done), and
# the comments left beside a score given by the e-mail's link.
SURVEY_ANSWERS = _pairs(_texts["survey_answers"])
SURVEY_COMMENTS = _pairs(_texts["survey_comments"])
