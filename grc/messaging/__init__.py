"""Messages GRC sends (tenant notifications, alerts to staff): the outbox and its delivery records.

A message is an outbox row written in the same transaction as the change that causes it;
``workers`` hands it to a provider after commit. This package knows nothing of RQ, SendGrid
or Twilio.
"""
