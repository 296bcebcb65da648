"""Dispatchers standing in for the workers' (``grc.worktable.Dispatchers``) in tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from flask import Flask

from grc import worktable


class Ignoring:
    """Committed rows stay due: no job is told (Redis down, a process killed…)."""

    def __call__(self, items: list[Any]) -> None:
        pass

    def wake(self) -> None:
        pass


class Calling:
    """Hands committed items to ``call`` instead of a job."""

    def __init__(self, call: Callable[[list[Any]], object]) -> None:
        self.call = call

    def __call__(self, items: list[Any]) -> None:
        self.call(items)

    def wake(self) -> None:
        pass


@contextmanager
def replaced_dispatchers(app: Flask, **dispatchers: Any) -> Iterator[None]:
    """``delivery=`` and/or ``inbound=`` replaced for the block."""
    previous = worktable.dispatchers(app)
    assert previous is not None
    worktable.set_dispatchers(app, replace(previous, **dispatchers))
    try:
        yield
    finally:
        worktable.set_dispatchers(app, previous)
