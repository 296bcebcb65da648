"""What the server-rendered pages share: the language they speak."""

from __future__ import annotations

from flask import request

PAGE_LANGUAGES = ("fr", "en")


def page_language() -> str:
    """``?lang=`` when it names a language the pages speak, else the browser's preference
    between French and English, else French."""
    asked = request.args.get("lang")
    if asked in PAGE_LANGUAGES:
        return asked
    return request.accept_languages.best_match(PAGE_LANGUAGES, default="fr") or "fr"
