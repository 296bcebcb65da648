"""Normalisation of names and addresses for accent- and case-insensitive search."""

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
