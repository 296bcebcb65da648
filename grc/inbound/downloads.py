"""An e-mail's kept attachment as a download: the one way GRC hands back what a stranger
sent (the mail to handle's pages and the claim page's timeline both link to it)."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

from werkzeug.wrappers import Response

# Types a browser opens as an inert document; anything else goes out as plain bytes.
HARMLESS_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "image/heic",
        "image/heif",
        "application/pdf",
    }
)
DEFAULT_DOWNLOAD_NAME = "piece-jointe"


def download(filename: str, content_type: str, data: bytes) -> Response:
    """What a stranger sent, always downloaded, never shown in the page's origin: saved
    under a safe name, typed only when the type is harmless, never sniffed nor kept by a
    shared cache."""
    stored_type = content_type.split(";", 1)[0].strip().lower()
    response = Response(
        data,
        mimetype=stored_type if stored_type in HARMLESS_TYPES else "application/octet-stream",
    )
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def content_disposition(filename: str) -> str:
    """``attachment`` with the name made safe: an ASCII ``filename`` every browser reads and,
    when the name is not plain ASCII, the name itself as RFC 5987's ``filename*``."""
    name = safe_download_name(filename)
    fallback = _ascii_name(name)
    header = f'attachment; filename="{fallback}"'
    if fallback != name:
        header += f"; filename*=UTF-8''{quote(name, safe='!#$&+-.^_`|~')}"
    return header


def safe_download_name(filename: str) -> str:
    """The last part of the name, without control, format (bidirectional overrides) or
    separator characters, nor the characters file systems and headers refuse."""
    name = unicodedata.normalize("NFC", filename.replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(
        " " if unicodedata.category(c) in _UNSAFE_CATEGORIES or c in _UNSAFE_CHARACTERS else c
        for c in name
    )
    name = " ".join(name.split()).strip(" .")
    return name[:200].rstrip(" .") or DEFAULT_DOWNLOAD_NAME


_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_UNSAFE_CHARACTERS = frozenset('"\\/:*?<>|;%')


def _ascii_name(name: str) -> str:
    """Accents dropped (é → e), any other letter outside ASCII as ``_``."""
    letters = (
        c if c.isascii() else "_"
        for c in unicodedata.normalize("NFKD", name)
        if not unicodedata.combining(c)
    )
    fallback = "".join(letters)
    stem, dot, extension = fallback.rpartition(".")
    if dot and not stem.strip("_ ."):
        return f"{DEFAULT_DOWNLOAD_NAME}.{extension}"
    return fallback if fallback.strip("_ .") else DEFAULT_DOWNLOAD_NAME
