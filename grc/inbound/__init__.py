"""Received e-mail: what SendGrid Inbound Parse posts, kept byte for byte, then processed.

Owns ``InboundEmail``, its attachments and repeat keys (tables ``inbound_*``); the webhook
that stores a post; the processing operations (matching a reply to its claim and work
order, applying what a contractor confidently said, filing a tenant's reply, setting a
tenant's e-mail aside as an intake); retention of the originals; the staff API and the
mail to handle pages (``views``): filing, registering, deciding on a contractor's reply;
the one route that hands back a kept attachment (``downloads``), which the claim page
links to.

May import: ``contractors`` (parsing and reading, pure), ``grc.claims``, ``grc.contracts``
(work orders and their lifecycle), ``grc.people``, ``grc.housing``, ``grc.messaging`` and
the app's shared modules. Nothing else in ``grc`` imports it but the app factory, the CLI
and the models registry.
"""
