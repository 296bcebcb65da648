"""Telephony: the calls tenants make to the call centre's one number, from Twilio's
incoming-call webhook to the end of the call — the queue they wait in, the agent who picks
up, whether they were answered or abandoned, their waiting and handling times, and the
claims registered during each call.

Owns ``Call`` and ``CallClaim`` (models), the Twilio voice webhooks (webhook), the use cases
(operations) and the agents' API (api, schemas). Knows nothing of the twilio package: the
request signature is checked by ``grc.provider_signatures``, TwiML is plain XML.

May import: the app's shared modules, ``grc.people`` (phone normalisation, the tenant
search that finds a caller by number) and the claims' models and queries (a call leads to
claims). No domain package imports it except through its models.
"""
