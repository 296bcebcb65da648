"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi …``."""

from grc import create_app

app = create_app()
