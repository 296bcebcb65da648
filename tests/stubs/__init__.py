"""Reusable test doubles at the provider edge: a local SendGrid/Twilio stub, a network guard.

Import the fixtures into a ``conftest.py`` to use them in a test package::

    from tests.stubs.network_guard import network_guard  # noqa: F401
    from tests.stubs.providers import provider_stub  # noqa: F401
"""
