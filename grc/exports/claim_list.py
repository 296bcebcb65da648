"""The claim list as an export: the queue's filters (the same query arguments), one row per
claim with where it is, who handles it and its deadlines.

Rows are read as plain tuples of columns, never ORM objects: a streamed export reads them
by one statement through a server-side cursor (``yield_per``: PostgreSQL's named cursor,
SQLite's step by step); a background job reads them in batches by keyset (created, id), each
a short statement of its own, so that it commits its progress between two and no
transaction stays open for the minutes a million rows take.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from grc.auth import Permission
from grc.claims import queries
from grc.claims.forms import QueueFilterForm
from grc.claims.models import Category, Claim, TreatmentUnit
from grc.contracts.models import Contractor
from grc.errors import InvalidInput
from grc.exports.registry import Args, Export, ExportSource, Request, register
from grc.exports.writers import Column, Kind, Row
from grc.housing.models import Agency, Building, Residence
from grc.people.models import User
from grc.web import current_language
from grc.web.words import CHANNEL, CLAIM_STATUS

NAME = "claims"
# Rows read per statement in a streamed export (its server-side cursor's fetch size).
YIELD_PER = 2000
# The query arguments the claim list reads (the queue's filter form, and the unit's queue).
ARGS = ("q", "status", "category", "agency", "residence", "unit")


def parse(session: Session, user: User, args: Args) -> Request:
    """The queue's filters from its query arguments (``page`` is ignored: an export takes
    every page); a wrong one is an InvalidInput naming it."""
    given = {key: str(args[key]).strip() for key in ARGS if str(args.get(key) or "").strip()}
    form = QueueFilterForm(queries.agency_choices(session), formdata=MultiDict(given))
    if not form.validate():
        raise InvalidInput(
            {field: [str(e) for e in errors] for field, errors in form.errors.items()}
        )
    unit_id = None
    if "unit" in given:
        unit_id = queries.get_unit_for(session, user, given["unit"]).id
    residence_id = queries.residence_id_for_code(session, form.residence.data)
    filters = queries.ClaimFilters(
        status=form.statuses(),
        unit_id=unit_id,
        category=form.category.data or None,
        agency_id=form.agency.data,
        residence_id=residence_id,
        q=form.q.data or None,
    )
    return Request(filters, dict(sorted(given.items())))


def columns() -> list[Column]:
    return [
        Column("reference", _l("Reference"), width=16),
        Column("created_at", _l("Created on"), Kind.MOMENT, 17),
        Column("channel", _l("Channel"), width=12),
        Column("category", _l("Category"), width=36),
        Column("status", _l("Status"), width=18),
        Column("unit", _l("Treatment unit"), width=26),
        Column("agency", _l("Agency"), width=16),
        Column("residence", _l("Residence"), width=26),
        Column("address", _l("Building address"), width=36),
        Column("contractor", _l("Contractor"), width=26),
        Column("response_due", _l("Response due"), Kind.MOMENT, 17),
        Column("resolution_due", _l("Resolution due"), Kind.MOMENT, 17),
        Column("responded_at", _l("Responded on"), Kind.MOMENT, 17),
        Column("resolved_at", _l("Resolved on"), Kind.MOMENT, 17),
        Column("response_on_time", _l("Response on time"), width=14),
        Column("resolution_on_time", _l("Resolution on time"), width=14),
    ]


def _statement(session: Session, user: User, filters: queries.ClaimFilters, now: datetime) -> Any:
    label = Category.label_en if current_language() == "en" else Category.label_fr
    return (
        queries.list_claims(session, user, filters, now)
        .with_only_columns(
            Claim.reference,
            Claim.created_at,
            Claim.channel,
            Category.code,
            label,
            Claim.status,
            TreatmentUnit.name,
            Agency.name,
            Residence.code,
            Residence.name,
            Building.street,
            Building.postcode,
            Building.city,
            Contractor.name,
            Claim.response_due,
            Claim.resolution_due,
            Claim.responded_at,
            Claim.resolved_at,
            Claim.id,
            maintain_column_froms=False,
        )
        .select_from(Claim)
        .join(Category, Category.id == Claim.category_id)
        .join(TreatmentUnit, TreatmentUnit.id == Claim.unit_id)
        .join(Agency, Agency.id == Claim.agency_id)
        .join(Residence, Residence.id == Claim.residence_id)
        .join(Building, Building.id == Claim.building_id)
        .outerjoin(Contractor, Contractor.id == Claim.contractor_id)
    )


class _Rows:
    """Turns the statement's tuples into the export's rows, in the request's language."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.channel = {key: str(word) for key, word in CHANNEL.items()}
        self.status = {key: str(word) for key, word in CLAIM_STATUS.items()}
        self.on_time, self.late = _("On time"), _("Late")

    def _kept(self, done: datetime | None, due: datetime) -> str:
        if done is not None:
            return self.on_time if done <= due else self.late
        return self.late if due < self.now else ""

    def __call__(self, r: Any) -> Row:
        address = f"{r[10]}, {r[11]} {r[12]}"
        return (
            r[0],
            r[1],
            self.channel.get(r[2], str(r[2])),
            f"{r[3]} — {r[4]}",
            self.status.get(r[5], str(r[5])),
            r[6],
            r[7],
            f"{r[8]} {r[9]}",
            address,
            r[13],
            r[14],
            r[15],
            r[16],
            r[17],
            self._kept(r[16], r[14]),
            self._kept(r[17], r[15]),
        )


def read(session: Session, user: User, filters: queries.ClaimFilters, now: datetime) -> Export:
    statement = _statement(session, user, filters, now).execution_options(yield_per=YIELD_PER)
    convert = _Rows(now)
    return Export(columns(), (convert(r) for r in session.execute(statement)))


def read_in_batches(
    session: Session, user: User, filters: queries.ClaimFilters, now: datetime, size: int
) -> Export:
    base = _statement(session, user, filters, now)
    convert = _Rows(now)

    def rows() -> Iterator[Row]:
        after: tuple[datetime, int] | None = None
        while True:
            statement = base
            if after is not None:
                created, claim_id = after
                # The range on created_at alone lets PostgreSQL start its index scan there.
                statement = statement.where(Claim.created_at <= created).where(
                    sa.or_(
                        Claim.created_at < created,
                        sa.and_(Claim.created_at == created, Claim.id < claim_id),
                    )
                )
            # On the session's connection: plain Core rows, without the ORM's result
            # processing (a million rows go through here).
            batch = session.connection().execute(statement.limit(size)).all()
            yield from map(convert, batch)
            if len(batch) < size:
                return
            last = batch[-1]
            # Let go of this batch before reading the next: two held at once were the
            # export's peak.
            del batch
            after = (last[1], last[18])

    return Export(columns(), rows())


def count(session: Session, user: User, filters: queries.ClaimFilters, now: datetime) -> int:
    statement = (
        queries.list_claims(session, user, filters, now)
        .order_by(None)
        .with_only_columns(sa.func.count(Claim.id))
    )
    return int(session.execute(statement).scalar_one())


SOURCE = register(
    ExportSource(
        name=NAME,
        title=_l("Claims"),
        permission=Permission.CLAIMS_READ,
        parse=parse,
        read=read,
        count=count,
        read_in_batches=read_in_batches,
    )
)
