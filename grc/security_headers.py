"""The security headers of every response, set in one place (an ``after_request`` hook).

- every response: ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``,
  ``Referrer-Policy: no-referrer`` (the one-click pages carry their token in the address),
  ``Cache-Control: no-store`` unless the view chose its own caching (Swagger UI's files, a
  photo), HSTS when the public address is https;
- a Content-Security-Policy fitted to what the response is: nothing at all for JSON, images
  and webhooks; for a server-rendered page, scripts, stylesheets, images and htmx requests
  from this site and its own inline ``<style>`` and ``<script>`` blocks (by hash); for
  Swagger UI, its files served from here.
  A view that needs another policy (the development outbox page, with a nonce) sets it, and
  keeps it. None of them may be framed (``frame-ancestors 'none'``).
"""

from __future__ import annotations

import base64
import hashlib
import re

from flask import Flask, Response, request

from grc.clock import settings

# One year, as browsers' preload lists expect; not the landlord's other sub-domains.
HSTS = "max-age=31536000"
SWAGGER_UI_PATH = "/api/docs"

_NOTHING = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
_INLINE_BLOCK = re.compile(
    rb"<(script|style)((?:\s+[^>]*)?)>(.*?)</\1\s*>", re.IGNORECASE | re.DOTALL
)
_SRC_ATTRIBUTE = re.compile(rb"\ssrc\s*=", re.IGNORECASE)
_SCRIPT_FILE = re.compile(rb"<script\s[^>]*\bsrc\s*=", re.IGNORECASE)
_STYLESHEET = re.compile(rb"<link\s[^>]*\brel\s*=\s*[\"']?stylesheet", re.IGNORECASE)


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Cache-Control", "no-store")
    public_url = settings().public_url
    if public_url and public_url.startswith("https://"):
        headers.setdefault("Strict-Transport-Security", HSTS)
    if "Content-Security-Policy" not in headers:
        headers["Content-Security-Policy"] = _policy_for(response)
    return response


def _policy_for(response: Response) -> str:
    if response.mimetype != "text/html" or response.direct_passthrough:
        return _NOTHING
    scripts, styles = _inline_hashes(response.get_data())
    if request.path.rstrip("/") == SWAGGER_UI_PATH:
        # Swagger UI's files come from this site (never a CDN); it styles its widgets inline,
        # draws icons from data: URLs and reads the OpenAPI document with fetch.
        script_sources = f"'self' {scripts}".strip()
        return (
            f"default-src 'none'; script-src {script_sources}; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
            "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        )
    policy = ["default-src 'none'", "img-src 'self'", "form-action 'self'"]
    # A page allows only what it uses: its stylesheet and scripts (htmx, which talks to this
    # site only) from this site, its inline blocks by hash. The one-click pages use none.
    html = response.get_data()
    site_styles = "'self' " if _STYLESHEET.search(html) else ""
    site_scripts = "'self' " if _SCRIPT_FILE.search(html) else ""
    if site_styles or styles:
        policy.append(f"style-src {site_styles}{styles}".strip())
    if site_scripts or scripts:
        policy.append(f"script-src {site_scripts}{scripts}".strip())
    if site_scripts:
        policy.append("connect-src 'self'")
    return "; ".join([*policy, "base-uri 'none'", "frame-ancestors 'none'"])


def _inline_hashes(html: bytes) -> tuple[str, str]:
    """The CSP sources allowing exactly this page's inline scripts and styles."""
    found: dict[bytes, list[str]] = {b"script": [], b"style": []}
    for tag, attributes, body in _INLINE_BLOCK.findall(html):
        if tag.lower() == b"script" and _SRC_ATTRIBUTE.search(attributes):
            continue
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        found[tag.lower()].append(f"'sha256-{digest}'")
    return " ".join(found[b"script"]), " ".join(found[b"style"])
