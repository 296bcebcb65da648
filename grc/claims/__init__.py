"""Claims: the catalogue, SLA policies, treatment units, routing rules, the claim, its
lifecycle, its timeline and the further calls about it (one breakdown, many calls); intake,
the open claims a new one may duplicate, routing and SLA; the tenant and staff notifications a
change of a claim causes; the claims API.

May import: the app's shared modules, ``grc.housing``, ``grc.people``, ``grc.messaging``
(its outbox, to notify) and ``grc.contracts`` (a claim routed to a contract opens, cancels
or supersedes its work order). Of ``grc.inbound`` it reads only the models (the claim page
shows the contractors' replies a timeline names, as stored); it never calls its operations.
Of ``grc.telephony``, only its models (a claim shows the calls it was registered during).
Of ``grc.surveys``, its ``planning`` (a resolution plans the tenant's survey, a reopening
withdraws it) and its models (the claim page shows the surveys and their answers).

The staff screens of claims live here too: the treatment units' queue and the claim page
(``views``, ``forms``, ``templates/claims/``).
"""
