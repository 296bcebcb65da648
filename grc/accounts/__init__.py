"""Staff accounts in the web application: sign-in with a password, sessions that sign-out
and a password change end everywhere, invitations by e-mail (a one-time link to choose a
password), and the limits on failed sign-ins.

Owns the ``user_invitations`` table and the password hashes and session keys of
``people.User``, and the use cases of staff accounts (create, change role or unit,
deactivate). May import ``people`` (users and roles), ``claims.models`` (a unit user's
unit), ``messaging`` (the invitation e-mail goes through the outbox) and the shared modules;
the API's bearer tokens stay in ``grc.auth`` (a deactivated user's are revoked through it).
"""
