"""Fixtures for the notifications library: a provider stub, and no way out to the internet."""

from __future__ import annotations

import pytest

from tests.stubs.network_guard import network_guard  # noqa: F401 - fixture
from tests.stubs.providers import provider_stub  # noqa: F401 - fixture


@pytest.fixture(autouse=True)
def _no_internet(network_guard: list[str]) -> None:  # noqa: F811 - the fixture above
    """Every test here fails if anything tries to reach a non-loopback address."""
