"""Messages GRC sends (tenant notifications, alerts to staff): the outbox and its delivery
records, their templates, the providers' status webhooks, SMS tenants send (STOP / START,
or a reply filed on their claim) and the development outbox page.

A message is an outbox row written in the same transaction as the change that causes it;
``workers`` hands it to a provider after commit (``grc.worktable``). This package knows
nothing of RQ, SendGrid or Twilio.

May import: the app's shared modules, ``grc.worktable``, ``notifications`` (its webhook
helpers, no SDK), the claims' models and timeline, and ``grc.people``; an SMS answering an
open satisfaction survey is handed to ``grc.surveys.answers``.
"""
