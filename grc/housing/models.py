from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grc.db import StrEnum, enum_column_type
from grc.extensions import Model
from grc.text import search_key

if TYPE_CHECKING:
    from grc.claims.models import TreatmentUnit


class EquipmentKind(StrEnum):
    ELEVATOR = "elevator"
    BOILER_ROOM = "boiler_room"
    GATE = "gate"
    ENTRY_PHONE = "entry_phone"
    VENTILATION = "ventilation"
    GARAGE_DOOR = "garage_door"


class Territory(Model):
    __tablename__ = "territories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))

    agencies: Mapped[list[Agency]] = relationship(back_populates="territory")


class Agency(Model):
    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    territory_id: Mapped[int] = mapped_column(sa.ForeignKey("territories.id"), index=True)
    # Who is on call (astreinte) for the agency's emergencies outside business hours.
    on_call_name: Mapped[str | None] = mapped_column(sa.String(120))
    on_call_phone: Mapped[str | None] = mapped_column(sa.String(20))

    territory: Mapped[Territory] = relationship(back_populates="agencies")
    residences: Mapped[list[Residence]] = relationship(back_populates="agency")
    units: Mapped[list[TreatmentUnit]] = relationship(back_populates="agency")


class Residence(Model):
    __tablename__ = "residences"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    # Two or three characters ("57", "2A", "974"): selects the public-holiday calendar.
    department_code: Mapped[str] = mapped_column(sa.String(3))
    city: Mapped[str] = mapped_column(sa.String(120))

    agency: Mapped[Agency] = relationship(back_populates="residences")
    buildings: Mapped[list[Building]] = relationship(back_populates="residence")


class Building(Model):
    __tablename__ = "buildings"
    __table_args__ = (
        sa.Index(
            "ix_buildings_search_address_trgm",
            "search_address",
            postgresql_using="gin",
            postgresql_ops={"search_address": "gin_trgm_ops"},
            info={"postgresql_only": True},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(30), unique=True)
    residence_id: Mapped[int] = mapped_column(sa.ForeignKey("residences.id"), index=True)
    entrance: Mapped[str | None] = mapped_column(sa.String(40))
    street: Mapped[str] = mapped_column(sa.String(200))
    postcode: Mapped[str] = mapped_column(sa.String(10))
    city: Mapped[str] = mapped_column(sa.String(120))
    # Normalised "street postcode city" for accent-insensitive address search.
    search_address: Mapped[str] = mapped_column(sa.String(400), default="")

    residence: Mapped[Residence] = relationship(back_populates="buildings")
    dwellings: Mapped[list[Dwelling]] = relationship(back_populates="building")
    equipment: Mapped[list[Equipment]] = relationship(back_populates="building")

    @property
    def address(self) -> str:
        """Street, postcode and city: where a contractor goes, what the call centre reads."""
        return f"{self.street}, {self.postcode} {self.city}"

    @property
    def short_address(self) -> str:
        """Street, city and entrance: enough for a tenant's short text about their home."""
        return self.short_address_of(self.street, self.city, self.entrance)

    @staticmethod
    def short_address_of(street: str, city: str, entrance: str | None) -> str:
        # For callers that read the columns alone (a watch's thousands of claims).
        return f"{street}, {city}" + (f", entrée {entrance}" if entrance else "")

    def refresh_search_address(self) -> None:
        self.search_address = search_key(self.street, self.postcode, self.city)


class Dwelling(Model):
    __tablename__ = "dwellings"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(30), unique=True)
    building_id: Mapped[int] = mapped_column(sa.ForeignKey("buildings.id"), index=True)
    floor: Mapped[int] = mapped_column(sa.SmallInteger)
    door: Mapped[str] = mapped_column(sa.String(20))
    typology: Mapped[str] = mapped_column(sa.String(10), default="T3")

    building: Mapped[Building] = relationship(back_populates="dwellings")


class Equipment(Model):
    __tablename__ = "equipment"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(30), unique=True)
    building_id: Mapped[int] = mapped_column(sa.ForeignKey("buildings.id"), index=True)
    kind: Mapped[EquipmentKind] = mapped_column(enum_column_type(EquipmentKind, "equipment_kind"))
    label: Mapped[str] = mapped_column(sa.String(120))

    building: Mapped[Building] = relationship(back_populates="equipment")
