"""Exports of the claim list and of the managers' reports, as CSV and XLSX, and the weekly
digest e-mailed to managers.

Owns the ``export_jobs`` table (the exports too large to stream at once, written by a
background job into the instance folder), the writers (``writers``: a table of columns and
rows to a CSV stream or an XLSX file, flat in memory), the registry of what can be exported
(``registry``: the claim list, and every report registered by its package) and the weekly
figures of the digest (``digest``).

Imports the models and read side of ``claims``, ``housing``, ``contracts``, ``people``,
``surveys``, ``telephony`` and ``messaging`` (to queue the digest); nothing imports it but
the application factory, the reports' packages (to register their tables) and ``workers``.
"""
