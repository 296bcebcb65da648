"""A building's address is written in one place, for every text that shows it."""

from __future__ import annotations

from grc.housing.models import Building


def test_the_full_address_is_for_the_contractor_and_the_short_one_for_the_tenant():
    building = Building(street="12 rue des Lilas", postcode="57000", city="Metz", entrance="B")
    assert building.address == "12 rue des Lilas, 57000 Metz"
    assert building.short_address == "12 rue des Lilas, Metz, entrée B"
    building.entrance = None
    assert building.short_address == "12 rue des Lilas, Metz"
