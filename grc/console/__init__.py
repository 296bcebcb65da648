"""The call centre's console: one search box answering while the agent types, the tenant
card (identity, contact, home and its agency, the contracts covering it, claims and the
messages sent), the claim form with the open claims it may duplicate (attach the call to
one of them instead), the saved claim's route, reason and deadlines, and the calls in
progress (take one; the claims registered while on it are linked to it).

Screens only: every change goes through the operations the API calls. May import
``grc.web``, ``grc.people``, ``grc.housing``, ``grc.claims``, ``grc.contracts``,
``grc.messaging`` (the messages a tenant was sent) and ``grc.telephony``; no domain package
imports it.
"""
