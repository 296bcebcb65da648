"""The filters every report takes: a period of local dates (Europe/Paris, both days
included) and what to narrow the claims to, named by their codes. The same schema reads a
page's query string and the API's, and every bad value is refused on its own field."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy.orm import Session

from grc.claims.models import Category, Claim, IntakeChannel, TreatmentUnit
from grc.clock import local_today, settings
from grc.contracts.models import Contractor
from grc.errors import InvalidInput
from grc.housing.models import Agency, Residence, Territory

BUCKETS = ("day", "week", "month")
GROUPINGS = ("channel", "category", "domain", "unit", "agency", "contractor", "agent")
# A period longer than this is refused: two years is the longest comparison a manager makes,
# and it bounds what one request may scan.
MAX_DAYS = 731
DEFAULT_DAYS = 30


class ReportArgsSchema(Schema):
    date_from = fields.Date(
        data_key="from", metadata={"description": "First day of the period (YYYY-MM-DD, local)."}
    )
    date_to = fields.Date(
        data_key="to",
        metadata={"description": "Last day of the period, included (default: today)."},
    )
    territory = fields.String(validate=validate.Length(max=20))
    agency = fields.String(validate=validate.Length(max=20))
    residence = fields.String(validate=validate.Length(max=20))
    category = fields.String(
        validate=validate.Length(max=30),
        metadata={"description": "A category code, or a domain's (all its categories)."},
    )
    channel = fields.String(validate=validate.OneOf([c.value for c in IntakeChannel]))
    unit = fields.String(validate=validate.Length(max=40), metadata={"description": "Unit code."})
    contractor = fields.String(validate=validate.Length(max=30))
    by = fields.String(
        validate=validate.OneOf(GROUPINGS),
        metadata={"description": "What the rows are per: " + ", ".join(GROUPINGS) + "."},
    )
    bucket = fields.String(
        load_default="week",
        validate=validate.OneOf(BUCKETS),
        metadata={"description": "day, week or month (volumes and call centre)."},
    )

    @validates_schema
    def _period(self, data: dict[str, Any], **kwargs: Any) -> None:
        start, end = data.get("date_from"), data.get("date_to")
        if start and end:
            if start > end:
                raise ValidationError("The period ends before it starts.", "to")
            if (end - start).days >= MAX_DAYS:
                raise ValidationError(f"A period is at most {MAX_DAYS} days.", "to")


@dataclass(frozen=True)
class ReportFilters:
    """The period as UTC instants [start, end) and the ids the claims are narrowed to."""

    date_from: date
    date_to: date
    start: datetime
    end: datetime
    tz: ZoneInfo
    bucket: str = "week"
    by: str | None = None
    agency_ids: tuple[int, ...] | None = None
    residence_id: int | None = None
    category_ids: tuple[int, ...] | None = None
    channel: IntakeChannel | None = None
    unit_id: int | None = None
    contractor_id: int | None = None
    # The codes as given, to fill the form and the links again.
    given: tuple[tuple[str, str], ...] = ()

    def claim_conditions(self) -> list[sa.ColumnElement[bool]]:
        """What a claim must satisfy, the period aside (each report dates claims its way)."""
        found: list[sa.ColumnElement[bool]] = []
        if self.agency_ids is not None:
            found.append(Claim.agency_id.in_(self.agency_ids))
        if self.residence_id is not None:
            found.append(Claim.residence_id == self.residence_id)
        if self.category_ids is not None:
            found.append(Claim.category_id.in_(self.category_ids))
        if self.channel is not None:
            found.append(Claim.channel == self.channel)
        if self.unit_id is not None:
            found.append(Claim.unit_id == self.unit_id)
        if self.contractor_id is not None:
            found.append(Claim.contractor_id == self.contractor_id)
        return found

    @property
    def narrowed(self) -> bool:
        return any(name not in ("from", "to", "bucket", "by") for name, _ in self.given)

    def query_args(self) -> dict[str, str]:
        return dict(self.given)


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tz).astimezone(UTC)


def _lookup(session: Session, model: Any, code: str, field: str, what: str) -> Any:
    row = session.execute(sa.select(model).where(model.code == code)).scalar_one_or_none()
    if row is None:
        raise InvalidInput({field: [f"No {what} {code}."]})
    return row


def resolve(session: Session, args: dict[str, Any]) -> ReportFilters:
    """The filters of ``args`` (as loaded by ``ReportArgsSchema``), codes turned into ids;
    an unknown code is refused on its field."""
    tz = settings().tz
    date_to = args.get("date_to") or local_today()
    date_from = args.get("date_from") or date_to - timedelta(days=DEFAULT_DAYS - 1)
    if date_from > date_to:
        raise InvalidInput({"from": ["The period starts after its last day."]})
    given = [("from", date_from.isoformat()), ("to", date_to.isoformat())]
    agency_ids: tuple[int, ...] | None = None
    if args.get("territory"):
        territory = _lookup(session, Territory, args["territory"], "territory", "territory")
        agency_ids = tuple(
            session.execute(
                sa.select(Agency.id).where(Agency.territory_id == territory.id)
            ).scalars()
        )
        given.append(("territory", territory.code))
    if args.get("agency"):
        agency = _lookup(session, Agency, args["agency"], "agency", "agency")
        if agency_ids is not None and agency.id not in agency_ids:
            raise InvalidInput({"agency": [f"Agency {agency.code} is not in this territory."]})
        agency_ids = (agency.id,)
        given.append(("agency", agency.code))
    residence_id = None
    if args.get("residence"):
        residence = _lookup(session, Residence, args["residence"], "residence", "residence")
        if agency_ids is not None and residence.agency_id not in agency_ids:
            raise InvalidInput({"residence": [f"Residence {residence.code} is not in this area."]})
        residence_id = residence.id
        given.append(("residence", residence.code))
    category_ids = None
    if args.get("category"):
        category = _lookup(session, Category, args["category"], "category", "category")
        # A domain stands for itself and every category under it.
        category_ids = (
            category.id,
            *tuple(
                session.execute(
                    sa.select(Category.id).where(Category.parent_id == category.id)
                ).scalars()
            ),
        )
        given.append(("category", category.code))
    channel = IntakeChannel(args["channel"]) if args.get("channel") else None
    if channel is not None:
        given.append(("channel", channel.value))
    unit_id = None
    if args.get("unit"):
        unit_id = _lookup(session, TreatmentUnit, args["unit"], "unit", "treatment unit").id
        given.append(("unit", args["unit"]))
    contractor_id = None
    if args.get("contractor"):
        contractor_id = _lookup(
            session, Contractor, args["contractor"], "contractor", "contractor"
        ).id
        given.append(("contractor", args["contractor"]))
    bucket = args.get("bucket") or "week"
    given.append(("bucket", bucket))
    if args.get("by"):
        given.append(("by", args["by"]))
    return ReportFilters(
        date_from=date_from,
        date_to=date_to,
        start=_local_midnight(date_from, tz),
        end=_local_midnight(date_to + timedelta(days=1), tz),
        tz=tz,
        bucket=bucket,
        by=args.get("by"),
        agency_ids=agency_ids,
        residence_id=residence_id,
        category_ids=category_ids,
        channel=channel,
        unit_id=unit_id,
        contractor_id=contractor_id,
        given=tuple(given),
    )


def load(session: Session, query: Any) -> ReportFilters:
    """The filters of a page's query string; a bad value raises ``InvalidInput`` on its field."""
    try:
        args = ReportArgsSchema().load(
            {key: value for key, value in query.items() if value != "" and key in _FIELDS}
        )
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        raise InvalidInput(
            {str(k): list(v) if isinstance(v, list) else [str(v)] for k, v in messages.items()}
        ) from exc
    return resolve(session, args)


_FIELDS = {
    "from",
    "to",
    "territory",
    "agency",
    "residence",
    "category",
    "channel",
    "unit",
    "contractor",
    "bucket",
    "by",
}
