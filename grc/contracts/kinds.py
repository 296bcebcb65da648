"""What each kind of contract is called on a screen. A contract's ``kind`` is a code the
catalogue routes to (``contract:<kind>`` in a category's default route); every page that
shows one says it through ``kind_label``, in the reader's language."""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

CONTRACT_KINDS: dict[str, LazyString] = {
    "multiservice": _l("Multi-service maintenance"),
    "elevator": _l("Lifts"),
    "heating": _l("Heating"),
    "cleaning": _l("Cleaning"),
    "pest": _l("Pest control"),
}


def kind_label(kind: str) -> str:
    """The kind's name in the page's language; a kind with no name yet shows its code."""
    label = CONTRACT_KINDS.get(kind)
    return str(label) if label is not None else kind
