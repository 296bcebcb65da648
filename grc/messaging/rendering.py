"""Renders messages from the templates beside this file, in the recipient's language."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, Template, select_autoescape

from grc.messaging.models import Purpose

LOCALES = ("fr", "en")
# Two concatenated SMS at most: GSM-7 gives 306 characters, UCS-2 (ê, ô, emoji…) 134.
MAX_SMS_SEGMENTS = 2

_env = Environment(
    loader=PackageLoader("grc.messaging", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    keep_trailing_newline=False,
    trim_blocks=True,
    lstrip_blocks=True,
    # The templates change with a release only: no file check on every message rendered.
    auto_reload=False,
)


# The templates use none of Jinja's default globals (range, dict, cycler…): without them a
# render does not copy them into each context, a third of a short template's rendering time.
_env.globals.clear()


@functools.cache
def _template(name: str) -> Template:
    # Looked up once: a watch renders thousands of e-mails from the same few templates.
    return _env.get_template(name)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def _locale(locale: str | None) -> str:
    return locale if locale in LOCALES else "fr"


def render_sms(purpose: Purpose, locale: str | None, **context: Any) -> str:
    """The SMS text, made to fit in two segments: letters outside the GSM alphabet (ê, ô…,
    which would switch the whole SMS to 70-character segments) are folded to their plain
    form first, then long labels are shortened."""
    from notifications.base import sms_encoding, sms_segments

    template = _template(f"{purpose}.{_locale(locale)}.sms.txt")

    def render() -> str:
        text = " ".join(template.render(**context).split())
        if sms_segments(text) > 1 and sms_encoding(text) != "GSM-7":
            text = _fold_to_gsm(text, sms_encoding)
        return text

    text = render()
    # A question written by staff can be long: it is cut at a word, and marked as cut, until
    # the text fits (two segments hold 306 characters at most); the tenant calls back for
    # the rest.
    question = str(context.get("question", ""))
    if len(question) > 320:
        context["question"] = _drop_last_words(question, at_least=len(question) - 300)
        text = render()
    while sms_segments(text) > MAX_SMS_SEGMENTS and len(str(context.get("question", ""))) > 40:
        context["question"] = _drop_last_words(str(context["question"]))
        text = render()
    for field in ("category", "address", "landlord"):
        while sms_segments(text) > MAX_SMS_SEGMENTS and len(str(context.get(field, ""))) > 12:
            context[field] = str(context[field])[:-6].rstrip(" ,-") + "..."
            text = render()
    if sms_segments(text) > MAX_SMS_SEGMENTS:
        raise ValueError(f"{purpose} SMS does not fit in {MAX_SMS_SEGMENTS} segments")
    return text


def _drop_last_words(text: str, at_least: int = 12) -> str:
    """``text`` shorter by about ``at_least`` characters, cut after a whole word, with "...";
    a word longer than that is cut inside."""
    text = text.removesuffix("...")
    keep = text[: max(0, len(text) - at_least)]
    cut = keep.rsplit(" ", 1)[0] if " " in keep.strip() else keep
    return cut.rstrip(" ,;:-") + "..."


def _fold_to_gsm(text: str, encoding_of: Any) -> str:
    import unicodedata

    folded = []
    for char in text:
        if encoding_of(char) != "GSM-7":
            plain = unicodedata.normalize("NFKD", char)
            plain = "".join(c for c in plain if not unicodedata.combining(c))
            char = (
                plain
                if plain and encoding_of(plain) == "GSM-7"
                else {
                    "…": "...",
                    "’": "'",
                    "«": '"',
                    "»": '"',
                    "—": "-",
                    "–": "-",
                    "œ": "oe",
                }.get(char, "?")
            )
        folded.append(char)
    return "".join(folded)


def render_email(
    purpose: Purpose, locale: str | None, *, digest: bool = False, **context: Any
) -> RenderedEmail:
    """The e-mail for ``purpose``; ``digest``: the one that lists many claims at once (the
    ``<purpose>_digest`` templates)."""
    locale = _locale(locale)
    name = f"{purpose}_digest" if digest else str(purpose)
    subject = " ".join(_template(f"{name}.{locale}.subject.txt").render(**context).split())
    text = _template(f"{name}.{locale}.email.txt").render(**context).strip() + "\n"
    paragraphs = [
        [line for line in block.splitlines() if line.strip()]
        for block in text.split("\n\n")
        if block.strip()
    ]
    html = _template("layout.html").render(locale=locale, subject=subject, paragraphs=paragraphs)
    return RenderedEmail(subject=subject, text=text, html=html)
