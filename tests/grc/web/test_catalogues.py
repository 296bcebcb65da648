"""Every word a person reads on a screen is in its package's French catalogue, translated,
and the compiled catalogue is the one the sources say."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

GRC = Path(__file__).resolve().parents[3] / "grc"
PACKAGES = sorted(path.parent for path in GRC.glob("*/translations"))
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.do"}}
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "lazy_gettext": None,
    "_l": None,
}


def _key(message_id: str | tuple[str, ...], context: str | None) -> tuple[str | None, str]:
    first = message_id[0] if isinstance(message_id, tuple) else message_id
    return context, first


def _words_used(package: Path) -> set[tuple[str | None, str]]:
    return {
        _key(message_id, context)
        for _, _, message_id, _, context in extract_from_dir(
            package, METHODS, OPTIONS, keywords=KEYWORDS
        )
    }


def _catalogue(package: Path):
    with (package / "translations/fr/LC_MESSAGES/messages.po").open("rb") as source:
        return read_po(source, locale="fr")


def test_screen_packages_have_catalogues():
    assert {p.name for p in PACKAGES} >= {"web", "accounts", "contracts", "messaging"}
    for templates in GRC.glob("*/templates/*/*.html"):
        package = templates.parents[2]
        if "_(" in templates.read_text(encoding="utf-8"):
            assert package in PACKAGES, f"{package.name} has screens but no catalogue"


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_every_word_on_screen_has_its_french(package):
    catalogue = _catalogue(package)
    translated = {
        _key(m.id, m.context)
        for m in catalogue
        if m.id
        and m.string
        and (not isinstance(m.string, tuple) or all(m.string))
        and "fuzzy" not in m.flags
    }
    missing = _words_used(package) - translated
    assert not missing, f"untranslated in {package.name}: {sorted(missing, key=str)}"
    assert not list(catalogue.check()), "placeholders differ between English and French"


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_the_compiled_catalogue_is_up_to_date(package):
    with (package / "translations/fr/LC_MESSAGES/messages.mo").open("rb") as compiled:
        shipped = {_key(m.id, m.context): m.string for m in read_mo(compiled) if m.id}
    sources = {_key(m.id, m.context): m.string for m in _catalogue(package) if m.id and m.string}
    assert shipped == sources, "run `make translations`"


def test_the_application_reads_every_catalogue():
    from grc.extensions import translation_directories

    assert translation_directories() == [str(p / "translations") for p in PACKAGES]


def test_a_word_has_one_french_whatever_the_package():
    """The app reads every package's catalogue as one: a word translated two ways would show
    one of them on every screen, whichever catalogue is read first."""
    frenches: dict[tuple[str | None, str], dict[str, list[str]]] = {}
    for package in PACKAGES:
        for message in _catalogue(package):
            if message.id and message.string:
                french = message.string if isinstance(message.string, str) else message.string[0]
                key = _key(message.id, message.context)
                frenches.setdefault(key, {}).setdefault(french, []).append(package.name)
    assert {key: ways for key, ways in frenches.items() if len(ways) > 1} == {}
