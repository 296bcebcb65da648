"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi …``."""

import gc

from grc import create_app

app = create_app()

# What the application has loaded by now (modules, mappers, compiled tables: about 200,000
# objects) lives as long as the process. Left to the collector, every full collection walks
# all of it in the middle of some request: measured on the claim page, a 130 ms pause every
# sixty requests or so. Frozen, collections only look at what requests create.
gc.freeze()
