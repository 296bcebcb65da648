"""Browser tests: the application served on a loopback port, and Debian's Chromium driven by
Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

needs_chromium = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None, reason="Debian's chromium is not installed"
)


@contextmanager
def serving(application: Flask) -> Iterator[str]:
    """The application on a free loopback port; yields its base URL."""
    server = make_server("127.0.0.1", 0, application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Debian Chromium, as a Playwright browser."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# axe-core comes from the npm registry (`make install-test` puts it under .venv/node).
AXE_SCRIPT = Path(__file__).resolve().parent.parent / ".venv/node/node_modules/axe-core/axe.min.js"
# Where the browser tests save their screenshots (laptop and phone widths).
SCREENSHOTS = Path(
    os.environ.get(
        "GRC_SCREENSHOTS", Path(__file__).resolve().parent.parent / "instance/screenshots"
    )
)
LAPTOP = {"width": 1366, "height": 800}
PHONE = {"width": 390, "height": 844}
PASSWORD = "browser tests passphrase"


def axe_violations(page: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
    """The accessibility violations of ``impacts`` axe-core finds on the page, as lines."""
    if not AXE_SCRIPT.exists():
        pytest.skip("axe-core is not installed (make install-test)")
    page.add_script_tag(path=str(AXE_SCRIPT))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(node["target"][0] for node in v["nodes"][:3])
        for v in result["violations"]
        if v["impact"] in impacts
    ]


def save_screenshots(page: Any, name: str) -> list[Path]:
    """The page as seen on a laptop and on a phone: SCREENSHOTS/<name>-laptop.png, -phone.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    saved = []
    original = page.viewport_size
    for label, size in (("laptop", LAPTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        path = SCREENSHOTS / f"{name}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        saved.append(path)
    if original:
        page.set_viewport_size(original)
    return saved


def new_page(browser: Any) -> Any:
    """A French page at laptop width whose pages may inject axe-core despite their CSP."""
    context = browser.new_context(locale="fr-FR", viewport=LAPTOP, bypass_csp=True)
    return context.new_page()


def sign_in(page: Any, base_url: str, email: str, password: str = PASSWORD) -> None:
    """Signs in through the sign-in form, with the keyboard."""
    page.goto(f"{base_url}/sign-in")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/sign-in" not in url)


@contextmanager
def served_world(
    app: Flask, instance_path: Path, passwords: tuple[str, ...] = ()
) -> Iterator[tuple[str, Flask, Any]]:
    """The test landlord (tests.factories.build_world) served on a loopback port, with
    in-memory senders; the users named in ``passwords`` sign in with ``PASSWORD``. Yields
    the base URL, the served application and the world."""
    from grc.accounts.passwords import hash_password
    from grc.extensions import db
    from notifications.memory import MemorySender
    from tests.factories import build_world
    from tests.grc.messaging.provider_apps import configured_app
    from workers.senders import set_senders

    with configured_app(app, instance_path=str(instance_path)) as application:
        set_senders(application, MemorySender(), MemorySender())
        world = build_world(db.session)
        if passwords:
            hashed = hash_password(PASSWORD)
            for key in passwords:
                world.users[key].password_hash = hashed
        db.session.commit()
        with serving(application) as base:
            yield base, application, world
