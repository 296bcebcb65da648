"""Text helpers: normalisation for accent- and case-insensitive search, and text from outside
made fit for storage."""

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def search_key(*parts: str | None) -> str:
    """Lower-case ASCII words separated by single spaces.

    "Élodie  LEFÈVRE-Brun" → "elodie lefevre brun".
    """
    text = " ".join(p for p in parts if p)
    text = text.lower().replace("ß", "ss").replace("œ", "oe").replace("æ", "ae")
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_ALNUM.sub(" ", ascii_text).strip()


# What a database text column refuses: NUL (PostgreSQL), and lone surrogates, which are no
# characters at all and cannot be written as UTF-8.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> str:
    """``text`` as every database keeps it: NUL dropped, a lone surrogate replaced by U+FFFD.

    For text from outside that is kept as it came (e-mail, SMS): refusing it would lose a
    message, while the API refuses such input with a 422 instead.
    """
    if _UNSTORABLE.search(text) is None:
        return text
    return _UNSTORABLE.sub(lambda found: "" if found.group() == "\x00" else "\ufffd", text)
