"""The Flask application a worker process runs its jobs in (created once per process)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, has_app_context

_app: Flask | None = None


def worker_app() -> Flask:
    global _app
    if _app is None:
        from grc import create_app

        _app = create_app()
    return _app


@contextmanager
def job_context() -> Iterator[Flask]:
    """The caller's application context (in-process jobs), else the worker's own; the job's
    session is removed at the end either way."""
    from grc.extensions import db

    if has_app_context():
        # The app itself, not the context-local proxy: it outlives this context's stack.
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        try:
            yield app
        finally:
            db.session.remove()
        return
    app = worker_app()
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
