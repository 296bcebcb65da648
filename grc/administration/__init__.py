"""The administration screens (``/admin``): staff users and their roles, treatment units,
agencies and their on-call numbers, the category catalogue and SLA policies, routing rules.
The administrator creates, edits and retires what claims refer to, never deletes it.

Screens only (views, forms, templates, translations): it owns no table and no rule. It
imports the domain packages' models and operations (``accounts``, ``claims``, ``housing``,
``people``) and the shared web layer; no package imports it.
"""
