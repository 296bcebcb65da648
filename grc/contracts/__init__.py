"""Contractors, the contracts that cover residences × categories (with deadlines per
priority), work orders and their lifecycle: the order e-mailed with its signed reply
address and one-click links, the contractor's update applied to its claim (``updates``),
deadline reminders, the one-click pages and the work-orders API; the administration of
contractors (retired, never deleted) and contracts (``operations``, ``admin_views``).

May import: the app's shared modules, ``grc.claims`` (the claim an order is for, its
timeline and operations), ``grc.messaging`` (the order's e-mail), ``grc.people`` and
``grc.housing``. It never imports ``grc.inbound``: received mail comes to work orders, not
the other way round.
"""
