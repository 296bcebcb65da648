from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grc.contracts.models import Contract, Contractor
from grc.db import StrEnum, UTCDateTime, enum_column_type, utcnow
from grc.extensions import Model
from grc.housing.models import Agency, Building, Dwelling, Equipment, Residence, Territory
from grc.people.models import Tenant, User
from grc.telephony.models import Call

# The longest description, resolution or comment a claim takes, by whatever way it comes.
MAX_DESCRIPTION = 5000


class Clock(StrEnum):
    BUSINESS = "business"
    CALENDAR = "calendar"


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class ClaimStatus(StrEnum):
    RECEIVED = "received"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    WAITING_TENANT = "waiting_tenant"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


OPEN_STATUSES = (
    ClaimStatus.RECEIVED,
    ClaimStatus.ASSIGNED,
    ClaimStatus.IN_PROGRESS,
    ClaimStatus.WAITING_TENANT,
)
# Open and not waiting for the tenant: the claims whose deadlines are running.
RUNNING_STATUSES = tuple(s for s in OPEN_STATUSES if s != ClaimStatus.WAITING_TENANT)


class IntakeChannel(StrEnum):
    PHONE = "phone"
    WEB = "web"
    APP = "app"
    EMAIL = "email"
    LETTER = "letter"
    DESK = "desk"


class LocationKind(StrEnum):
    DWELLING = "dwelling"
    BUILDING = "building"
    EQUIPMENT = "equipment"


class RouteKind(StrEnum):
    UNIT = "unit"
    CONTRACTOR = "contractor"


class RouteReason(StrEnum):
    CONTRACT = "contract"
    RULE = "rule"
    DEFAULT = "default"
    MANUAL = "manual"


class EventKind(StrEnum):
    CREATED = "created"
    ROUTED = "routed"
    STATUS_CHANGED = "status_changed"
    COMMENT = "comment"
    APPOINTMENT = "appointment"
    MESSAGE = "message"
    WORK_ORDER = "work_order"  # an order e-mailed to the contractor, a reminder, an escalation
    CONTRACTOR_REPLY = "contractor_reply"  # what the contractor answered, as read
    CALLER = "caller"  # a further call about the claim's problem (``ClaimCaller``)


class Visibility(StrEnum):
    INTERNAL = "internal"
    TENANT = "tenant"


@dataclass(frozen=True)
class Route:
    """Who handles a claim and why: a unit, or a contractor supervised by a unit."""

    kind: RouteKind
    unit: TreatmentUnit
    reason_code: RouteReason
    reason: str
    contractor: Contractor | None = None
    contract: Contract | None = None


class SlaPolicy(Model):
    __tablename__ = "sla_policies"
    __table_args__ = (
        sa.CheckConstraint(
            "response_hours > 0 AND resolution_hours >= response_hours", name="hours"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    label_fr: Mapped[str] = mapped_column(sa.String(120))
    label_en: Mapped[str] = mapped_column(sa.String(120))
    response_hours: Mapped[int]
    resolution_hours: Mapped[int]
    clock: Mapped[Clock] = mapped_column(enum_column_type(Clock, "sla_clock"))


class Category(Model):
    """A node of the claim catalogue: a domain (no parent) or a claim motive inside one."""

    __tablename__ = "categories"
    __table_args__ = (
        sa.CheckConstraint(
            "(default_route_kind IS NULL) = (default_route_target IS NULL)", name="route_pair"
        ),
        sa.CheckConstraint(
            "equipment_kind IS NULL OR location_kind = 'equipment'", name="equipment_kind"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(30), unique=True)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("categories.id"), index=True)
    label_fr: Mapped[str] = mapped_column(sa.String(160))
    label_en: Mapped[str] = mapped_column(sa.String(160))
    technical: Mapped[bool] = mapped_column(default=False)
    location_kind: Mapped[LocationKind | None] = mapped_column(
        enum_column_type(LocationKind, "category_location")
    )
    equipment_kind: Mapped[str | None] = mapped_column(sa.String(30))
    default_priority: Mapped[Priority] = mapped_column(
        enum_column_type(Priority, "category_priority"), default=Priority.NORMAL
    )
    sla_policy_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sla_policies.id"))
    # "contract" + kind, or "unit" + kind: the catalogue's handled_by column.
    default_route_kind: Mapped[str | None] = mapped_column(sa.String(10))
    default_route_target: Mapped[str | None] = mapped_column(sa.String(30))
    responsibility: Mapped[str] = mapped_column(sa.String(20), default="landlord")
    fcr_possible: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)

    parent: Mapped[Category | None] = relationship(remote_side=[id])
    sla_policy: Mapped[SlaPolicy | None] = relationship()

    @property
    def is_domain(self) -> bool:
        return self.parent_id is None

    def label(self, locale: str) -> str:
        return self.label_en if locale == "en" else self.label_fr


class TreatmentUnit(Model):
    """A team that handles claims: an agency's unit, or a company-wide one (no agency)."""

    __tablename__ = "treatment_units"
    __table_args__ = (sa.UniqueConstraint("agency_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    # technique, proximite, gestion_locative, recouvrement, social (per agency);
    # tranquillite, sinistres, astreinte (company-wide)
    kind: Mapped[str] = mapped_column(sa.String(30), index=True)
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agencies.id"))
    email: Mapped[str | None] = mapped_column(sa.String(254))

    agency: Mapped[Agency | None] = relationship(back_populates="units")


class RoutingRule(Model):
    """Sends claims of a category (or of a whole domain) to a unit, within a scope.

    Scope is at most one of residence, agency or territory; none means everywhere. The most
    specific scope wins, then the most specific category.
    """

    __tablename__ = "routing_rules"
    __table_args__ = (
        sa.CheckConstraint(
            "(CASE WHEN residence_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN agency_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN territory_id IS NULL THEN 0 ELSE 1 END) <= 1",
            name="one_scope",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("categories.id"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("treatment_units.id"))
    residence_id: Mapped[int | None] = mapped_column(sa.ForeignKey("residences.id"))
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agencies.id"))
    territory_id: Mapped[int | None] = mapped_column(sa.ForeignKey("territories.id"))

    category: Mapped[Category] = relationship()
    unit: Mapped[TreatmentUnit] = relationship()
    residence: Mapped[Residence | None] = relationship()
    agency: Mapped[Agency | None] = relationship()
    territory: Mapped[Territory | None] = relationship()


class CatalogueVersion(Model):
    """One row whose stamp changes, by database trigger, whenever a row of the catalogue or
    routing tables changes: processes keep those tables in memory while the stamp holds
    (``grc.claims.catalogue_cache``)."""

    __tablename__ = "catalogue_versions"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    stamp: Mapped[str] = mapped_column(sa.String(32))


class ClaimReferenceCounter(Model):
    """Last number handed out per year for references R-YYYY-NNNNNN (gaps are allowed)."""

    __tablename__ = "claim_reference_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(default=0)


UNMEASURED_CONDITION = (
    "(responded_at IS NOT NULL AND response_seconds IS NULL)"
    " OR (resolved_at IS NOT NULL AND resolution_seconds IS NULL)"
)


class Claim(Model):
    __tablename__ = "claims"
    __table_args__ = (
        sa.CheckConstraint(
            "(status IN ('resolved', 'closed')) = (resolved_at IS NOT NULL)", name="resolved_at"
        ),
        sa.CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)", name="closed_at"),
        sa.CheckConstraint(
            "(status = 'cancelled') = (cancelled_at IS NOT NULL)", name="cancelled_at"
        ),
        sa.CheckConstraint(
            "(status = 'waiting_tenant') = (paused_at IS NOT NULL)", name="paused_at"
        ),
        sa.CheckConstraint(
            "(route_kind = 'contractor') = (contractor_id IS NOT NULL)", name="contractor_route"
        ),
        sa.CheckConstraint(
            "NOT first_contact_resolution OR resolved_at IS NOT NULL", name="fcr_resolved"
        ),
        sa.CheckConstraint(
            "appointment_end IS NULL"
            " OR (appointment_at IS NOT NULL AND appointment_end > appointment_at)",
            name="appointment_window",
        ),
        sa.Index("ix_claims_unit_status", "unit_id", "status"),
        sa.Index("ix_claims_status_resolution_due", "status", "resolution_due"),
        sa.Index("ix_claims_building_category", "building_id", "category_id", "created_at"),
        # A tenant's claims, newest first (the tenant card), and by tenant alone.
        sa.Index("ix_claims_tenant_created", "tenant_id", "created_at"),
        # A piece of equipment's claims in time order (the CUS lift breakdowns of a year):
        # on PostgreSQL the columns they are read by come with it, for an index-only scan.
        sa.Index(
            "ix_claims_equipment_created",
            "equipment_id",
            "created_at",
            postgresql_include=["resolved_at", "status", "id"],
        ),
        # Claims by creation time; on PostgreSQL with the columns the CUS response counts of
        # a year read, for an index-only scan of the year.
        sa.Index(
            "ix_claims_created_at",
            "created_at",
            postgresql_include=["agency_id", "status", "responded_at", "response_due"],
        ),
        # Claims responded to or resolved whose handling time is not measured yet (written
        # before it was kept, or by an import): empty once ``grc.claims.handling`` caught up.
        sa.Index(
            "ix_claims_unmeasured",
            "id",
            postgresql_where=sa.text(UNMEASURED_CONDITION),
            sqlite_where=sa.text(UNMEASURED_CONDITION),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(20), unique=True)
    status: Mapped[ClaimStatus] = mapped_column(enum_column_type(ClaimStatus, "claim_status"))
    channel: Mapped[IntakeChannel] = mapped_column(enum_column_type(IntakeChannel, "claim_channel"))
    priority: Mapped[Priority] = mapped_column(enum_column_type(Priority, "claim_priority"))
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("categories.id"), index=True)
    description: Mapped[str] = mapped_column(sa.Text)

    tenant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tenants.id"))
    location_kind: Mapped[LocationKind] = mapped_column(
        enum_column_type(LocationKind, "claim_location")
    )
    dwelling_id: Mapped[int | None] = mapped_column(sa.ForeignKey("dwellings.id"), index=True)
    # Indexed with the creation time by ix_claims_equipment_created (a lift's claims of a year).
    equipment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("equipment.id"))
    # Indexed with the category by ix_claims_building_category (a building's claims, and the
    # open claims of one category in it, the call centre's check for a known breakdown).
    building_id: Mapped[int] = mapped_column(sa.ForeignKey("buildings.id"))
    # Copied from the building at intake so queues and reports filter without joins.
    residence_id: Mapped[int] = mapped_column(sa.ForeignKey("residences.id"), index=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), index=True)

    route_kind: Mapped[RouteKind] = mapped_column(enum_column_type(RouteKind, "claim_route_kind"))
    route_reason_code: Mapped[RouteReason] = mapped_column(
        enum_column_type(RouteReason, "claim_route_reason")
    )
    route_reason: Mapped[str] = mapped_column(sa.String(400))
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("treatment_units.id"))
    contractor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contractors.id"), index=True)
    contract_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contracts.id"))

    sla_clock: Mapped[Clock] = mapped_column(enum_column_type(Clock, "claim_sla_clock"))
    response_due: Mapped[datetime] = mapped_column(UTCDateTime)
    resolution_due: Mapped[datetime] = mapped_column(UTCDateTime)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Where a claim goes back to when the tenant answers.
    status_before_pause: Mapped[ClaimStatus | None] = mapped_column(
        enum_column_type(ClaimStatus, "claim_status_before_pause")
    )
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Handling time from receipt to the response and to the resolution, in seconds of the
    # claim's clock (business or calendar) less the time waiting for the tenant: measured
    # once, when it happens (``grc.claims.handling``), so that reports only read it.
    response_seconds: Mapped[int | None] = mapped_column()
    resolution_seconds: Mapped[int | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    appointment_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # End of the visit's window ("entre 8h et 12h"); None when a time was given.
    appointment_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_contact_resolution: Mapped[bool] = mapped_column(default=False)
    resolution: Mapped[str | None] = mapped_column(sa.Text)

    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # The person of the unit who follows the claim, if one was named; a reroute clears it.
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # Indexed by ix_claims_created_at (with what a year's response counts read).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    category: Mapped[Category] = relationship()
    tenant: Mapped[Tenant | None] = relationship()
    dwelling: Mapped[Dwelling | None] = relationship()
    equipment: Mapped[Equipment | None] = relationship()
    building: Mapped[Building] = relationship()
    residence: Mapped[Residence] = relationship()
    agency: Mapped[Agency] = relationship()
    unit: Mapped[TreatmentUnit] = relationship()
    contractor: Mapped[Contractor | None] = relationship()
    contract: Mapped[Contract | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    events: Mapped[list[ClaimEvent]] = relationship(
        back_populates="claim", order_by="ClaimEvent.id", passive_deletes="all"
    )
    photos: Mapped[list[ClaimPhoto]] = relationship(
        back_populates="claim", order_by="ClaimPhoto.id", passive_deletes="all"
    )
    callers: Mapped[list[ClaimCaller]] = relationship(
        back_populates="claim", order_by="ClaimCaller.id", passive_deletes="all"
    )
    # The calls during which the claim was registered (grc.telephony links them).
    calls: Mapped[list[Call]] = relationship(
        secondary="call_claims", viewonly=True, order_by="Call.received_at"
    )

    @property
    def route(self) -> Route:
        return Route(
            kind=self.route_kind,
            unit=self.unit,
            reason_code=self.route_reason_code,
            reason=self.route_reason,
            contractor=self.contractor,
            contract=self.contract,
        )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, now: datetime) -> bool:
        return self.status in RUNNING_STATUSES and self.resolution_due < now

    @classmethod
    def overdue_condition(cls, now: datetime) -> sa.ColumnElement[bool]:
        """``is_overdue``, as the database decides it."""
        return sa.and_(cls.status.in_(RUNNING_STATUSES), cls.resolution_due < now)


class ClaimEvent(Model):
    """One line of a claim's timeline. Rows are only ever inserted."""

    __tablename__ = "claim_events"
    __table_args__ = (
        # The reopenings, a few in a hundred events: supplier ratings look for those that
        # followed a contractor's work without reading every claim's timeline.
        sa.Index(
            "ix_claim_events_reopen",
            "claim_id",
            "created_at",
            postgresql_where=sa.text("action = 'reopen'"),
            sqlite_where=sa.text("action = 'reopen'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(sa.ForeignKey("claims.id"), index=True)
    kind: Mapped[EventKind] = mapped_column(enum_column_type(EventKind, "claim_event_kind"))
    action: Mapped[str | None] = mapped_column(sa.String(30))
    from_status: Mapped[str | None] = mapped_column(sa.String(20))
    to_status: Mapped[str | None] = mapped_column(sa.String(20))
    visibility: Mapped[Visibility] = mapped_column(
        enum_column_type(Visibility, "claim_event_visibility"), default=Visibility.INTERNAL
    )
    body: Mapped[str | None] = mapped_column(sa.Text)
    # Before/after values of what the event changed, e.g. {"unit_id": [3, 7]}.
    changes: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    claim: Mapped[Claim] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class ClaimCaller(Model):
    """A further call about a claim's problem, recorded on that claim instead of a duplicate
    claim: one row per call (a tenant calling twice is two rows), whoever called (another
    tenant of the building, or the claim's own tenant again). Reports count calls from these
    rows (plus each claim's first call) and breakdowns from the claims. The tenants recorded
    here are told of the resolution like the claim's own tenant (``notify.recipients``)."""

    __tablename__ = "claim_callers"
    # The volumes report counts the further calls of a period.
    __table_args__ = (sa.Index("ix_claim_callers_called_at", "called_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(sa.ForeignKey("claims.id"), index=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id"), index=True)
    channel: Mapped[IntakeChannel] = mapped_column(
        enum_column_type(IntakeChannel, "claim_caller_channel")
    )
    note: Mapped[str | None] = mapped_column(sa.Text)
    called_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))

    claim: Mapped[Claim] = relationship(back_populates="callers")
    tenant: Mapped[Tenant] = relationship()
    recorded_by: Mapped[User] = relationship()


class PhotoSource(StrEnum):
    UPLOAD = "upload"  # sent by staff through the API
    EMAIL = "email"  # attached to the tenant's e-mail that became the claim


class ClaimPhoto(Model):
    """A photo of the problem, kept normalised: a JPEG without metadata, at most 2048 px."""

    __tablename__ = "claim_photos"
    __table_args__ = (sa.CheckConstraint("source IN ('upload', 'email')", name="source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(sa.ForeignKey("claims.id"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(50))
    size: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
    # Up to a few megabytes: loaded only when the image itself is served, never with a list.
    data: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    source: Mapped[str] = mapped_column(sa.String(10))
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    claim: Mapped[Claim] = relationship(back_populates="photos")
    uploaded_by: Mapped[User | None] = relationship()


class WatchAlert(Model):
    """An alert a periodic watch has sent: once per kind, subject and deadline, which the
    primary key enforces. The watches select only what has no such row yet, so a minute with
    nothing new reads nothing more; a deadline that moves (a paused claim resumed) is a new
    alert."""

    __tablename__ = "watch_alerts"

    # The message's purpose, with the work order's deadline for its reminders and escalations
    # ("work_order_reminder:acknowledge"); it says what ``subject_id`` is: a claim or an order.
    kind: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    subject_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)


@sa.event.listens_for(ClaimEvent, "before_update")
@sa.event.listens_for(ClaimEvent, "before_delete")
def _timeline_is_append_only(mapper: Any, connection: Any, target: ClaimEvent) -> None:
    raise RuntimeError("claim events are append-only")
