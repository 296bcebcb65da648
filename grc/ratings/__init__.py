"""Supplier ratings kept per period: the computation is ``contractors.rating`` (pure); this
package loads a period's work orders as its facts, stores the ratings with the weights and
settings they were computed with, and keeps the administrator's current settings.

Imports the models of ``contracts``, ``claims`` and ``surveys`` (one query reads them) and
nothing else of the domain packages.
"""
