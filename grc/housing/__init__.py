"""Housing stock: territories, agencies (with their on-call contact), residences, buildings,
dwellings and equipment; the agencies API.

May import: the app's shared modules (``grc.db``, ``grc.extensions``, ``grc.errors``…) and
``grc.people`` (the tenant search its schemas describe). Every other domain package may
import its models.
"""
