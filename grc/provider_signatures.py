"""Authenticating Twilio's callbacks: the one place that checks X-Twilio-Signature.

Twilio signs each request with the account's auth token over the URL it called and the
posted form. That URL is the public one (GRC_PUBLIC_URL, or the request URL as rebuilt by
ProxyFix behind a TLS-terminating proxy), not the address the application sees. Without a
token nothing is authentic: an unconfigured deployment refuses every callback.
"""

from __future__ import annotations

from http import HTTPStatus

from flask import Response, request

from grc.clock import settings
from grc.errors import error_response
from notifications import callbacks


def public_url() -> str:
    """The URL the provider called, as it signed it."""
    base = settings().public_url
    if base:
        query = request.query_string.decode()
        return f"{base}{request.path}" + (f"?{query}" if query else "")
    return request.url


def public_base_url() -> str:
    """The application's public root, without a trailing slash: where callback URLs given to
    the provider point."""
    return settings().public_url or request.url_root.rstrip("/")


def twilio_request_authentic() -> bool:
    token = settings().twilio_auth_token
    if not token:
        return False
    return callbacks.verify_twilio_request(
        public_url(),
        request.form.to_dict(),
        request.headers.get(callbacks.TWILIO_SIGNATURE_HEADER),
        token,
    )


def refused() -> Response:
    return error_response(HTTPStatus.FORBIDDEN, "The callback's signature is missing or wrong.")
