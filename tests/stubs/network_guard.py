"""Fail any test that tries to leave the machine (STYLE point 7: never reach a provider).

Connections are refused below every HTTP library, at ``socket.socket.connect``, and name
lookups of anything but ``localhost`` are refused at ``socket.getaddrinfo`` (a DNS query
already leaks that a test tried). A library may swallow the ``OSError`` and carry on (a
sender maps it to ``RetryableSendError``, a test expecting that would pass), so every
attempt is also recorded and fails the test at teardown.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


class NetworkAccessBlocked(OSError):
    """A test tried to reach a non-loopback address."""


def _is_local_host(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if not isinstance(host, str):
        return False
    if host.lower() in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def block_non_loopback(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Patch ``socket`` so non-loopback connections raise; return the list of attempts."""
    attempts: list[str] = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def allowed(sock: socket.socket, address: Any) -> bool:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return True  # Unix sockets (local PostgreSQL, Redis) stay available
        return _is_local_host(address[0])

    def refuse(what: str) -> NetworkAccessBlocked:
        attempts.append(what)
        return NetworkAccessBlocked(f"network access blocked in tests: {what}")

    def guarded_connect(sock: socket.socket, address: Any) -> None:
        if not allowed(sock, address):
            raise refuse(f"connect {address!r}")
        real_connect(sock, address)

    def guarded_connect_ex(sock: socket.socket, address: Any) -> int:
        if not allowed(sock, address):
            raise refuse(f"connect {address!r}")
        return real_connect_ex(sock, address)

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not _is_local_host(host):
            raise refuse(f"resolve {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    return attempts


@pytest.fixture
def network_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Block non-loopback network access; fail the test if it was attempted.

    Make it autouse in a test package's conftest.py::

        @pytest.fixture(autouse=True)
        def _no_internet(network_guard): ...
    """
    attempts = block_non_loopback(monkeypatch)
    yield attempts
    if attempts:
        pytest.fail("test tried to reach the network: " + "; ".join(attempts), pytrace=False)
