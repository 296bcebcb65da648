from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from grc.db import StrEnum, UTCDateTime, enum_column_type, utcnow
from grc.extensions import Model
from grc.text import search_key

if TYPE_CHECKING:
    from grc.claims.models import TreatmentUnit
    from grc.housing.models import Dwelling


class Channel(StrEnum):
    """How a tenant prefers to be told about their claims."""

    SMS = "sms"
    EMAIL = "email"
    LETTER = "letter"


class PhoneKind(StrEnum):
    MOBILE = "mobile"
    LANDLINE = "landline"
    OTHER = "other"


class Role(StrEnum):
    AGENT = "agent"
    UNIT = "unit"
    MANAGER = "manager"
    ADMIN = "admin"


class Tenant(Model):
    __tablename__ = "tenants"
    __table_args__ = (
        sa.Index(
            "ix_tenants_search_name_trgm",
            "search_name",
            postgresql_using="gin",
            postgresql_ops={"search_name": "gin_trgm_ops"},
            info={"postgresql_only": True},
        ),
        sa.Index(
            "ix_tenants_search_name_prefix",
            "search_name",
            postgresql_ops={"search_name": "text_pattern_ops"},
            info={"postgresql_only": True},
        ),
        # A tenant is found by the sender of an e-mail whatever the case it was stored in
        # (the ERP import and bulk loads do not pass through the validator below).
        # SQLite builds it too; only its comparison with the models is PostgreSQL's.
        sa.Index(
            "ix_tenants_email_lower",
            sa.func.lower(sa.text("email")),
            info={"postgresql_only": True},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_ref: Mapped[str | None] = mapped_column(sa.String(40), unique=True)
    first_name: Mapped[str] = mapped_column(sa.String(80))
    last_name: Mapped[str] = mapped_column(sa.String(80))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    preferred_channel: Mapped[Channel] = mapped_column(
        enum_column_type(Channel, "tenant_channel"), default=Channel.SMS
    )
    locale: Mapped[str] = mapped_column(sa.String(5), default="fr")
    # Opt-outs are per channel; an SMS "STOP" sets sms_opt_out.
    sms_opt_out: Mapped[bool] = mapped_column(default=False)
    email_opt_out: Mapped[bool] = mapped_column(default=False)
    # "lastname firstname", accent- and case-folded: what the search box matches against.
    search_name: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    phones: Mapped[list[TenantPhone]] = relationship(
        back_populates="tenant", cascade="all, delete-orphan", order_by="TenantPhone.id"
    )
    leases: Mapped[list[Lease]] = relationship(back_populates="tenant", order_by="Lease.start_date")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def refresh_search_name(self) -> None:
        self.search_name = search_key(self.last_name, self.first_name)

    @validates("email")
    def _normalise_email(self, _key: str, email: str | None) -> str | None:
        # Stored lower case, as shown and compared; the inbox compares lower(email) anyway,
        # through its index, for rows a bulk load wrote without this normalisation.
        return email.strip().lower() or None if email else None


class TenantPhone(Model):
    __tablename__ = "tenant_phones"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "number"),
        # Part of a number typed in the search box ("56 78", "06 12 3") is a LIKE on any
        # part of the stored number: a trigram index serves it.
        sa.Index(
            "ix_tenant_phones_number_trgm",
            "number",
            postgresql_using="gin",
            postgresql_ops={"number": "gin_trgm_ops"},
            info={"postgresql_only": True},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    # E.164, as produced by phonenumbers: "+33612345678".
    number: Mapped[str] = mapped_column(sa.String(20), index=True)
    kind: Mapped[PhoneKind] = mapped_column(
        enum_column_type(PhoneKind, "phone_kind"), default=PhoneKind.MOBILE
    )

    tenant: Mapped[Tenant] = relationship(back_populates="phones")


class Lease(Model):
    __tablename__ = "leases"
    __table_args__ = (
        sa.CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(40), unique=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id"), index=True)
    dwelling_id: Mapped[int] = mapped_column(sa.ForeignKey("dwellings.id"), index=True)
    start_date: Mapped[date] = mapped_column(sa.Date)
    end_date: Mapped[date | None] = mapped_column(sa.Date)

    tenant: Mapped[Tenant] = relationship(back_populates="leases")
    dwelling: Mapped[Dwelling] = relationship()

    @classmethod
    def current_on(cls, day: date | sa.ColumnElement[date]) -> sa.ColumnElement[bool]:
        """SQL: the lease runs on ``day`` (a date, or a bound parameter): started, not
        ended; it ends in the evening of its end date."""
        return sa.and_(cls.start_date <= day, sa.or_(cls.end_date.is_(None), cls.end_date >= day))


class User(Model):
    """A member of the landlord's staff (or of the outsourced call centre)."""

    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint("role != 'unit' OR unit_id IS NOT NULL", name="unit_role_has_unit"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    role: Mapped[Role] = mapped_column(enum_column_type(Role, "user_role"))
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("treatment_units.id"), index=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String(200))
    # Carried by every signed-in session of this user; drawn anew at sign-out and at a
    # password change, which ends every session (a copied cookie stops working).
    session_key: Mapped[str | None] = mapped_column(sa.String(64))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set by a successful sign-in to the web application (API tokens do not set it).
    last_signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    unit: Mapped[TreatmentUnit | None] = relationship()
    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")

    # What Flask-Login asks of a signed-in user (the web application's sessions).
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        """The session's identity: the user and their current session key."""
        return f"{self.id}.{self.session_key}"


class ApiToken(Model):
    """A bearer token for the JSON API; only a SHA-256 digest of the secret is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The first characters of the secret, shown in listings so a token can be recognised.
    prefix: Mapped[str] = mapped_column(sa.String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="tokens")
