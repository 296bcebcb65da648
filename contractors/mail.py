"""Inbound email: turn what SendGrid Inbound Parse posts into one normalised message.

Contractors answer work orders from every mail client there is, so nothing here trusts a
declared charset, a header's syntax or the MIME structure. The two SendGrid modes end in
the same :class:`ParsedEmail`:

* **raw** mode posts the whole MIME message in the ``email`` field: :func:`parse_raw_mime`;
* **parsed** mode posts the header block, the text and HTML bodies and the attachments as
  separate fields and files: :func:`parse_sendgrid_form` reads them.

Form fields are text that SendGrid encoded with the charset named in its ``charsets``
field. Web frameworks decode form fields as UTF-8 whatever that field says, so the webhook
should read the fields as bytes and decode them with :func:`decode_sendgrid_fields`; a
value that arrives here as ``str`` is taken as already decoded.

No size limit is applied here: the webhook enforces them before calling in.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import email
import email.policy
import email.utils
import functools
import json
import logging
import quopri
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import Message
from email.parser import Parser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from types import MappingProxyType

import nh3

__all__ = [
    "AUTO_REPLY_HEADERS",
    "InboundAttachment",
    "ParsedEmail",
    "SalvagedHeaders",
    "UnreadableEmail",
    "decode_bytes",
    "decode_header_value",
    "decode_sendgrid_fields",
    "html_to_text",
    "message_ids",
    "normalise_message_id",
    "parse_raw_mime",
    "parse_sendgrid_form",
    "salvage_headers",
    "sanitise_filename",
    "sanitise_html",
]

log = logging.getLogger(__name__)

DEFAULT_ATTACHMENT_NAME = "piece-jointe"
FORWARDED_MESSAGE_NAME = "message-transfere.eml"

# Headers that let the reader recognise out-of-office replies, mailing lists and bounces.
AUTO_REPLY_HEADERS = (
    "auto-submitted",
    "x-autoreply",
    "x-autorespond",
    "x-auto-response-suppress",
    "precedence",
    "list-id",
    "list-unsubscribe",
    "list-post",
    "return-path",
    "content-type",  # kept only for multipart/report: a delivery or read report
    "x-failed-recipients",
)


class UnreadableEmail(Exception):
    """The input is not an email at all (empty post, empty message, header-less junk)."""


@dataclass(frozen=True)
class InboundAttachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class ParsedEmail:
    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    from_address: str
    from_name: str
    recipients: tuple[str, ...]
    subject: str
    date: datetime | None
    text: str
    html: str | None
    auto_reply_headers: Mapping[str, str]
    attachments: tuple[InboundAttachment, ...]

    @property
    def is_blank(self) -> bool:
        """Nothing a person could read: no text and no attachment (a garbled message)."""
        return not self.text.strip() and not self.attachments


# --------------------------------------------------------------------------- charsets

# Mailers label Windows-1252 text "iso-8859-1" all the time (the € and œ of cp1252 sit where
# latin-1 has invisible control characters); browsers made the same call long ago.
_CHARSET_ALIASES = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin-1": "cp1252",
    "latin1": "cp1252",
    "l1": "cp1252",
    "ansi_x3.4-1968": "ascii",
    "us-ascii": "ascii",
    "ks_c_5601-1987": "cp949",
}


# Python's names for the single-byte charsets European mailers declare.
_SINGLE_BYTE_LATIN = frozenset(
    {"cp1252", "cp1250", "iso8859-1", "iso8859-15", "iso8859-2", "iso8859-9", "mac-roman"}
)


def _codec_name(declared: str | None) -> str | None:
    """The Python codec for a declared charset, or None when it names no text encoding."""
    if not declared:
        return None
    label = declared.strip().strip("\"'").lower()
    label = label.split("*", 1)[0]  # RFC 2231 language suffix: utf-8*fr
    label = _CHARSET_ALIASES.get(label, label)
    try:
        info = codecs.lookup(label)
    except LookupError:
        return None
    # codecs.lookup also knows bytes-to-bytes transforms (base64, zlib, rot13...).
    if not getattr(info, "_is_text_encoding", True):
        return None
    return info.name


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode with the declared charset, replacing only the bytes it refuses; never raises.

    A text that shows no sign of its label is mislabelled, not damaged, and the fallbacks
    decide (UTF-8, then Windows-1252): "utf-8" on a text with no UTF-8 sequence at all, and
    "us-ascii", which mailers write when they did not look, before 8-bit UTF-8 or
    Windows-1252. One bad byte in a UTF-8 text stays one replacement character: the rest is
    read as UTF-8, not the whole part as Windows-1252.
    """
    codec = _codec_name(declared)
    if codec in _SINGLE_BYTE_LATIN and not data.isascii():
        # Scripts and old gateways label UTF-8 text "iso-8859-1"; a real Latin-1 text is
        # almost never valid UTF-8 (é alone, E9, is not), so valid UTF-8 wins.
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    if codec and codec != "ascii":
        try:
            return data.decode(codec)
        except (UnicodeError, ValueError, LookupError):
            pass  # damaged, or a wrong label: see below
        if codec == "utf-8":
            if _mostly_utf8(data):
                return data.decode("utf-8", errors="replace")
        else:
            try:
                return data.decode("utf-8")  # a UTF-8 text under another label
            except UnicodeDecodeError:
                pass
            try:
                return data.decode(codec, errors="replace")
            except (UnicodeError, ValueError, LookupError):
                pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        if _mostly_utf8(data):
            return data.decode("utf-8", errors="replace")
        return data.decode("cp1252", errors="replace")


def _mostly_utf8(data: bytes) -> bool:
    """Bytes that are UTF-8 with a few damaged ones: at least as many well-formed
    multi-byte characters as bad bytes. A Windows-1252 text read as UTF-8 has none: its
    accented letters are single bytes that UTF-8 refuses."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - data.count("\ufffd".encode())
    good = sum(1 for character in text if ord(character) > 0x7F) - text.count("\ufffd")
    return good > 0 and good >= bad


def _bytes_of_text(value: str) -> bytes:
    """Bytes back from a string that a framework decoded from raw bytes.

    Latin-1 when every character fits (exact if it was decoded as latin-1; if it was decoded
    as UTF-8, the charset fallbacks still read it right), else UTF-8 with the undecodable
    bytes a surrogateescape decoding kept.
    """
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8", errors="surrogateescape")


# --------------------------------------------------------------------------- parsing policy

_HEADER_REGISTRY = HeaderRegistry()
_CACHED_HEADER_MAX_LENGTH = 998  # RFC 5322 line length: longer ones are rare and not reused


@functools.lru_cache(maxsize=1024)
def _structured_header(name: str, value: str) -> BaseHeader:
    return _HEADER_REGISTRY(name, value)


class _MemoisingHeaderRegistry(HeaderRegistry):
    """The default header registry, remembering what it parsed.

    The parser asks for a part's Content-Type about five times, and each time the default
    policy parses the header again; header objects are immutable, so one parse is enough.
    This makes parsing a typical reply four times faster.
    """

    def __call__(self, name: str, value: str) -> BaseHeader:
        if len(value) > _CACHED_HEADER_MAX_LENGTH:  # keeps the cache's memory bounded
            return super().__call__(name, value)
        return _structured_header(name, value)


# email.policy.default in every respect but speed.
_POLICY = email.policy.default.clone(header_factory=_MemoisingHeaderRegistry())
# Writes a parsed message back as it came: refolding a long header that holds 8-bit bytes
# raises in the standard library, and a forwarded message should stay untouched anyway.
_AS_RECEIVED = _POLICY.clone(refold_source="none", linesep="\r\n")


# --------------------------------------------------------------------------- headers

_FOLDING = re.compile(r"\r?\n(?=[ \t])")
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([QqBb])\?([^?]*)\?=")
_WHITESPACE = re.compile(r"\s+")
_QP_HEADER_BYTE = re.compile(rb"=([0-9A-Fa-f]{2})")
_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
_SURROGATES = re.compile(r"[\udc80-\udcff]")


def _unescape_8bit(value: str) -> str:
    """Turn the surrogate-escaped 8-bit bytes of a raw header into text."""
    if value.isascii() or not _SURROGATES.search(value):
        return value
    return decode_bytes(value.encode("utf-8", errors="surrogateescape"))


def _decode_encoded_word(encoding: str, payload: str) -> bytes | None:
    if encoding in "Qq":
        raw = payload.replace("_", " ").encode("ascii", errors="replace")
        return _QP_HEADER_BYTE.sub(lambda m: bytes([int(m.group(1), 16)]), raw)
    padded = payload + "=" * (-len(payload) % 4)
    try:
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None


def decode_header_value(value: str) -> str:
    """Unfold a raw header value and decode its RFC 2047 encoded words, leniently.

    Unknown or wrong charsets fall back like bodies do, an undecodable word stays as written,
    and consecutive words in one charset are joined before decoding because clients split
    multi-byte characters across them.
    """
    text = _unescape_8bit(_FOLDING.sub("", value))
    if "=?" not in text:
        return text
    pieces: list[str] = []
    pending: bytearray = bytearray()
    pending_charset: str | None = None
    position = 0

    def flush() -> None:
        nonlocal pending_charset
        if pending:
            pieces.append(decode_bytes(bytes(pending), pending_charset))
            pending.clear()
        pending_charset = None

    for match in _ENCODED_WORD.finditer(text):
        between = text[position : match.start()]
        decoded = _decode_encoded_word(match.group(2), match.group(3))
        position = match.end()
        # Whitespace between two encoded words is folding, not content (RFC 2047, 6.2).
        if between and not (pending and between.isspace()):
            flush()
            pieces.append(between)
        if decoded is None:
            flush()
            pieces.append(match.group(0))
            continue
        charset = match.group(1)
        if pending and charset.lower() != (pending_charset or "").lower():
            flush()
        pending_charset = charset
        pending.extend(decoded)
    flush()
    pieces.append(text[position:])
    return "".join(pieces)


def _collapse(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def _strip_controls(text: str) -> str:
    return "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf"))


def _display_text(text: str) -> str:
    """One line to show an agent: no control or invisible format characters, single spaces."""
    if not text.isprintable():
        text = _strip_controls(text.replace("\t", " ").replace("\n", " "))
    return _collapse(text)


class _Headers:
    """Header values as written, by lower-case name.

    Subject, addresses, ids and dates are read from ``Message.raw_items`` and decoded
    leniently here: the email package's structured header objects raise or give up on some
    of the malformed values real mailers send.
    """

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        self._values: dict[str, list[str]] = {}
        for name, value in items:
            self._values.setdefault(name.strip().lower(), []).append(str(value))

    def __bool__(self) -> bool:
        return bool(self._values)

    def first(self, name: str) -> str | None:
        values = self._values.get(name)
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        return self._values.get(name, [])

    def text(self, name: str) -> str:
        value = self.first(name)
        return _display_text(decode_header_value(value)) if value is not None else ""


def normalise_message_id(value: str | None) -> str | None:
    """``" <abc@x> "`` and ``"abc@x"`` both become ``"<abc@x>"``; None for nothing."""
    ids = message_ids(value)
    return ids[0] if ids else None


def message_ids(value: str | None) -> tuple[str, ...]:
    """Every message id in an In-Reply-To or References value, normalised, in order."""
    if not value:
        return ()
    text = _FOLDING.sub("", value)
    found = _MESSAGE_ID.findall(text)
    if not found:
        # Some mailers drop the angle brackets; take the words that look like ids.
        found = [word for word in text.replace(",", " ").split() if "@" in word]
    unique: dict[str, None] = {}
    for message_id in found:
        unique.setdefault(f"<{message_id.strip('<>')}>", None)
    return tuple(unique)


def _addresses(values: Iterable[str]) -> list[tuple[str, str]]:
    """(display name, lower-case addr-spec) pairs; entries without an addr-spec dropped."""
    pairs = []
    texts = [_unescape_8bit(_FOLDING.sub("", value)) for value in values]
    for name, address in getaddresses(texts):
        address = address.strip().strip("<>").lower()
        if "@" not in address or any(ch.isspace() for ch in address):
            continue
        pairs.append((_display_text(decode_header_value(name)), address))
    return pairs


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(_collapse(value))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:  # "-0000": UTC, origin unknown (RFC 5322, 3.3)
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _auto_reply_headers(headers: _Headers) -> Mapping[str, str]:
    found = {}
    for name in AUTO_REPLY_HEADERS:
        value = headers.first(name)
        if value is None:
            continue
        if name == "content-type" and not value.strip().lower().startswith("multipart/report"):
            continue  # any other message type says nothing about who sent it
        found[name] = _collapse(decode_header_value(value))
    return MappingProxyType(found)


def _envelope_recipients(envelope: str | None) -> list[str]:
    if not envelope:
        return []
    try:
        data = json.loads(envelope)
    except ValueError:
        return []
    recipients = data.get("to") if isinstance(data, dict) else None
    if isinstance(recipients, str):
        recipients = [recipients]
    if not isinstance(recipients, list):
        return []
    return [a for _, a in _addresses(r for r in recipients if isinstance(r, str))]


# --------------------------------------------------------------------------- HTML


class _TextExtractor(HTMLParser):
    """Readable text from an HTML body.

    Block elements end lines; the content of a blockquote is prefixed with "> " per level,
    the way plain-text mailers quote, so that quote stripping works on both kinds of body.
    """

    _BLOCKS = frozenset({
        "address", "article", "aside", "blockquote", "center", "dd", "div", "dl", "dt",
        "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
        "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table",
        "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    })  # fmt: skip
    _HIDDEN = frozenset({"script", "style", "head", "title", "template", "xml", "noscript"})

    def __init__(self, *, paragraphs_are_lines: bool) -> None:
        super().__init__(convert_charrefs=True)
        # Outlook writes every line as its own margin-less paragraph; elsewhere a paragraph
        # ends with a blank line.
        self._paragraphs_are_lines = paragraphs_are_lines
        self._lines: list[tuple[int, str]] = []
        self._current: list[str] = []
        self._depth = 0
        self._hidden: list[str] = []
        self._preformatted = 0

    def _end_line(self, *, keep_empty: bool = False) -> None:
        line = "".join(self._current)
        self._current.clear()
        line = line.rstrip() if self._preformatted else _WHITESPACE.sub(" ", line).strip()
        if line or keep_empty:
            self._lines.append((self._depth, line))

    def _blank_line(self) -> None:
        self._end_line()
        if self._lines and self._lines[-1][1]:
            self._lines.append((self._depth, ""))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self._hidden.clear()  # an unclosed <head> ends where the body starts
        if tag in self._HIDDEN:
            self._hidden.append(tag)
        if self._hidden:
            return
        if tag == "br":
            self._end_line(keep_empty=True)
        elif tag in self._BLOCKS:
            self._end_line()
            if tag == "blockquote":
                self._depth += 1
            elif tag == "pre":
                self._preformatted += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._hidden:
            return
        if tag == "br":
            self._end_line(keep_empty=True)
        elif tag in self._BLOCKS:
            self._end_line()

    def handle_endtag(self, tag: str) -> None:
        if self._hidden:
            if tag in self._hidden:
                while self._hidden.pop() != tag:
                    pass  # also closes what was left open inside it
            return
        if tag not in self._BLOCKS:
            return
        if tag == "p":
            if self._paragraphs_are_lines:
                self._end_line(keep_empty=True)
            else:
                self._blank_line()
            return
        self._end_line()
        if tag == "blockquote":
            self._depth = max(0, self._depth - 1)
            self._blank_line()
        elif tag == "pre":
            self._preformatted = max(0, self._preformatted - 1)

    def close(self) -> None:
        # HTMLParser hands an unterminated tag at the very end over as text.
        unterminated = self.rawdata.find("<")
        if unterminated >= 0:
            self.rawdata = self.rawdata[:unterminated]
        super().close()

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self._current.append(data.replace("\xa0", " "))

    def text(self) -> str:
        self._end_line()
        out: list[str] = []
        previous: tuple[int, str] | None = None
        for depth, line in self._lines:
            if not line and previous is not None and not previous[1] and previous[0] == depth:
                continue  # consecutive empty lines at one quote depth read as one
            previous = (depth, line)
            out.append(("> " * depth + line).rstrip())
        return "\n".join(out).strip("\n")


def html_to_text(html: str) -> str:
    """Readable plain text from an HTML body: no tags left, entities decoded.

    ``<br>``, paragraphs, divisions and list items end lines; blockquote content is kept,
    each line prefixed with "> " per level, so that quote stripping can remove it.
    """
    parser = _TextExtractor(paragraphs_are_lines="MsoNormal" in html)
    parser.feed(html)
    parser.close()
    return parser.text()


_SAFE_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "div", "dl", "dt",
    "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "q", "s",
    "small", "span", "strike", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th",
    "thead", "tr", "u", "ul",
}  # fmt: skip
# Content that must not survive as text either: code, CSS, and Outlook's XML settings.
_DROPPED_WITH_CONTENT = {"script", "style", "head", "title", "xml", "template", "noscript"}
_SAFE_ATTRIBUTES = {
    "a": {"href", "title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "abbr": {"title"},
}


def sanitise_html(html: str) -> str:
    """HTML that is safe to show an agent.

    No script, style, event handler or ``style`` attribute (CSS can fetch URLs), links only
    to http(s), mailto and tel, and no images at all: a remote image tells the sender the
    message was read and inline ones are kept as attachments anyway.
    """
    return nh3.clean(
        html,
        tags=_SAFE_TAGS,
        clean_content_tags=_DROPPED_WITH_CONTENT,
        attributes=_SAFE_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    ).strip()


# --------------------------------------------------------------------------- bodies

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ufffd]")
_MAX_NESTING = 20  # deeper MIME trees are built to exhaust parsers, not to carry replies


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")


def _looks_like_text(text: str) -> bool:
    """False for binary junk: real text has next to no control or replacement characters."""
    if not text:
        return True
    return len(_CONTROL_CHARS.findall(text)) <= max(2, len(text) // 20)


def _unflow(text: str, *, delsp: bool) -> str:
    """Join the soft line breaks of a format=flowed body (RFC 3676)."""
    out: list[str] = []
    carry: str | None = None
    carry_depth = 0
    for raw_line in text.split("\n"):
        depth = len(raw_line) - len(raw_line.lstrip(">"))
        line = raw_line[depth:]
        if line.startswith(" "):
            line = line[1:]  # space-stuffing
        if carry is not None and depth != carry_depth:
            out.append(">" * carry_depth + (" " if carry_depth else "") + carry)
            carry = None
        joined = (carry or "") + line
        if line.endswith(" ") and line != "-- ":
            carry = joined[:-1] if delsp else joined
            carry_depth = depth
            continue
        out.append(">" * depth + (" " if depth and joined else "") + joined)
        carry = None
    if carry is not None:
        out.append(">" * carry_depth + (" " if carry_depth else "") + carry)
    return "\n".join(out)


def _param(part: Message, name: str) -> str | None:
    try:
        value = part.get_param(name)
    except (ValueError, TypeError, IndexError, AttributeError):
        return None
    if isinstance(value, tuple):  # RFC 2231 (charset, language, value)
        value = email.utils.collapse_rfc2231_value(value)
    return str(value) if value is not None else None


def _is_flowed(part: Message) -> bool:
    return (
        part.get_content_type() == "text/plain"
        and (_param(part, "format") or "").lower() == "flowed"
    )


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    text = _normalise_newlines(decode_bytes(payload, _param(part, "charset")))
    if not _looks_like_text(text):
        return ""
    if _is_flowed(part):
        text = _unflow(text, delsp=(_param(part, "delsp") or "").lower() == "yes")
    return text


def sanitise_filename(name: str | None, default: str = DEFAULT_ATTACHMENT_NAME) -> str:
    """The last path component, without control characters; ``default`` when nothing is left."""
    if not name:
        return default
    text = _strip_controls(decode_header_value(str(name)))
    text = re.split(r"[\\/]", text)[-1]
    text = _collapse(text).strip(". ")
    return text[:200] or default


def _disposition(part: Message) -> str:
    value = part.get("Content-Disposition")
    return str(value).split(";", 1)[0].strip().lower() if value else ""


@dataclass
class _Body:
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[InboundAttachment] = field(default_factory=list)

    def extend(self, other: _Body) -> None:
        self.plain.extend(other.plain)
        self.html.extend(other.html)
        self.attachments.extend(other.attachments)


def _filename(part: Message) -> str | None:
    try:
        return part.get_filename()
    except (ValueError, TypeError, IndexError, AttributeError):
        return None


def _enclosed_message(part: Message, content_type: str) -> InboundAttachment:
    """A message/* part (a forwarded message) as one attachment holding its bytes."""
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    data = inner.as_bytes(policy=_AS_RECEIVED) if isinstance(inner, Message) else b""
    # The parser reads a message/rfc822 part as a message whatever its encoding; some
    # clients base64 it anyway (RFC 2046 forbids it), leaving the encoded text as the body.
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    if encoding == "base64":
        try:
            data = base64.b64decode(b"".join(data.split()))
        except (binascii.Error, ValueError):
            log.debug("base64 forwarded message could not be decoded")
    elif encoding == "quoted-printable":
        data = quopri.decodestring(data)
    name = sanitise_filename(_filename(part), FORWARDED_MESSAGE_NAME)
    return InboundAttachment(filename=name, content_type=content_type, data=data)


def _attachment(part: Message, content_type: str) -> InboundAttachment:
    data = part.get_payload(decode=True)
    return InboundAttachment(
        filename=sanitise_filename(_filename(part)),
        content_type=content_type,
        data=data if isinstance(data, bytes) else b"",
    )


def _undecodable_part(part: Message) -> InboundAttachment:
    payload = part.get_payload()
    data = payload.encode("utf-8", errors="surrogateescape") if isinstance(payload, str) else b""
    return InboundAttachment(DEFAULT_ATTACHMENT_NAME, "application/octet-stream", data)


def _collect(part: Message, depth: int = 0) -> _Body:
    body = _Body()
    content_type = part.get_content_type()
    if part.get_content_maintype() == "message" and part.is_multipart():
        # A forwarded message is an attachment: its text is not the sender's.
        try:
            body.attachments.append(_enclosed_message(part, content_type))
        except Exception as exc:  # a parser bug on one part must not cost the whole message
            log.warning("enclosed message could not be written back: %r", exc)
            body.attachments.append(InboundAttachment(FORWARDED_MESSAGE_NAME, content_type, b""))
        return body
    if part.is_multipart():
        children = part.get_payload()
        if not isinstance(children, list) or depth > _MAX_NESTING:
            return body
        if content_type == "multipart/alternative":
            return _collect_alternatives(children, depth)
        for child in children:
            if isinstance(child, Message):
                body.extend(_collect(child, depth + 1))
        return body
    try:
        _collect_leaf(part, content_type, body, top_level=depth == 0)
    except Exception as exc:  # a parser bug on one part must not cost the whole message
        log.warning("MIME part %s could not be read: %r", content_type, exc)
        body.attachments.append(_undecodable_part(part))
    return body


def _collect_leaf(part: Message, content_type: str, body: _Body, *, top_level: bool) -> None:
    disposition = _disposition(part)
    is_text = content_type in ("text/plain", "text/html")
    # A named text part is an attached file, unless it is the whole message.
    named = bool(_filename(part)) and not top_level
    if is_text and disposition != "attachment" and not named:
        text = _part_text(part)
        (body.plain if content_type == "text/plain" else body.html).append(text)
    else:
        body.attachments.append(_attachment(part, content_type))


def _collect_alternatives(children: list[Message | str], depth: int) -> _Body:
    # Alternatives say the same thing: keep the first plain rendering and the last (richest)
    # HTML one, but every attachment (inline images live inside multipart/related).
    body = _Body()
    for child in children:
        if not isinstance(child, Message):
            continue
        rendering = _collect(child, depth + 1)
        if rendering.plain and not body.plain:
            body.plain = rendering.plain
        if rendering.html:
            body.html = rendering.html
        body.attachments.extend(rendering.attachments)
    return body


def _join(texts: list[str]) -> str:
    return "\n".join(t.strip("\n") for t in texts if t.strip())


# --------------------------------------------------------------------------- assembling


def _build(
    headers: _Headers,
    *,
    plain: str,
    html: str,
    attachments: Sequence[InboundAttachment],
    extra_recipients: Iterable[str] = (),
    from_field: str | None = None,
    subject_field: str | None = None,
) -> ParsedEmail:
    senders = (_addresses([from_field]) if from_field else []) or _addresses(
        headers.all("from")[:1]
    )
    from_name, from_address = senders[0] if senders else ("", "")
    recipients = [a for _, a in _addresses(headers.all("to") + headers.all("cc"))]
    text = plain if plain.strip() else (html_to_text(html) if html else "")
    text = text.strip("\n")  # blank lines around the text carry nothing
    return ParsedEmail(
        message_id=normalise_message_id(headers.first("message-id")),
        in_reply_to=_unique(i for v in headers.all("in-reply-to") for i in message_ids(v)),
        references=_unique(i for v in headers.all("references") for i in message_ids(v)),
        from_address=from_address,
        from_name=from_name,
        recipients=_unique([*recipients, *extra_recipients]),
        subject=(
            _display_text(decode_header_value(subject_field))
            if subject_field
            else headers.text("subject")
        ),
        date=_parse_date(headers.first("date")),
        text=text,
        html=sanitise_html(html) if html.strip() else None,
        auto_reply_headers=_auto_reply_headers(headers),
        attachments=tuple(attachments),
    )


def parse_raw_mime(raw: bytes, envelope_to: Sequence[str] = ()) -> ParsedEmail:
    """Parse a whole MIME message (SendGrid raw mode, or an .eml file).

    ``envelope_to`` holds the SMTP recipients, which name the reply address even when the
    headers do not (Bcc, rewriting gateways). Raises :class:`UnreadableEmail` for empty input
    and for bytes with neither a header nor readable text; a message with headers always
    parses, with an empty text when its body is junk (see :attr:`ParsedEmail.is_blank`).
    """
    if not raw or raw.isspace():
        raise UnreadableEmail("empty message")
    try:
        message = email.message_from_bytes(raw, policy=_POLICY)
        headers = _Headers(message.raw_items())
        body = _collect(message)
    except Exception as exc:  # the parser is lenient; this is for its rare internal errors
        log.warning("inbound message could not be parsed: %r", exc)
        raise UnreadableEmail(f"MIME structure could not be parsed: {type(exc).__name__}") from exc
    envelope = [a for _, a in _addresses(envelope_to)]
    parsed = _build(
        headers,
        plain=_join(body.plain),
        html="\n".join(body.html),
        attachments=body.attachments,
        extra_recipients=envelope,
    )
    if not headers and parsed.is_blank:
        raise UnreadableEmail("neither a header nor readable text: not an email")
    return parsed


def _form_text(value: str | bytes | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return decode_bytes(value)
    return value


def _attachment_number(name: str) -> int:
    return int(name.removeprefix("attachment"))


def _form_attachments(
    form: Mapping[str, str], files: Mapping[str, tuple[str, str, bytes]]
) -> list[InboundAttachment]:
    try:
        info = json.loads(_form_text(form.get("attachment-info")) or "{}")
    except ValueError:
        info = {}
    if not isinstance(info, dict):
        info = {}
    names = sorted((n for n in files if re.fullmatch(r"attachment\d+", n)), key=_attachment_number)
    attachments = []
    for name in names:
        filename, content_type, data = files[name]
        entry = info.get(name)
        described = entry if isinstance(entry, dict) else {}
        declared_type = described.get("type") or content_type or "application/octet-stream"
        attachments.append(
            InboundAttachment(
                filename=sanitise_filename(described.get("filename") or filename),
                content_type=str(declared_type).split(";", 1)[0].strip().lower(),
                data=data,
            )
        )
    return attachments


def parse_sendgrid_form(
    form: Mapping[str, str], files: Mapping[str, tuple[str, str, bytes]]
) -> ParsedEmail:
    """Parse a SendGrid Inbound Parse post, in either mode.

    ``form`` holds the text fields (decode them with :func:`decode_sendgrid_fields`), and
    ``files`` maps each file field to ``(filename, content type, data)``.
    """
    envelope = _envelope_recipients(_form_text(form.get("envelope")))
    raw = form.get("email")
    if raw:
        return parse_raw_mime(raw if isinstance(raw, bytes) else _bytes_of_text(raw), envelope)

    header_block = _form_text(form.get("headers"))
    plain = _normalise_newlines(_form_text(form.get("text")))
    html = _form_text(form.get("html"))
    from_field = _form_text(form.get("from")).strip()
    if not (header_block.strip() or plain.strip() or html.strip() or from_field):
        raise UnreadableEmail("empty post: neither a message nor its parts")
    header_message = Parser(policy=_POLICY).parsestr(header_block, headersonly=True)
    headers = _Headers(header_message.raw_items())
    if not _looks_like_text(plain):
        plain = ""
    elif _is_flowed(header_message):
        # Only a single-part message says so in its headers; a multipart one's text part
        # kept its own Content-Type, which SendGrid does not post.
        plain = _unflow(plain, delsp=(_param(header_message, "delsp") or "").lower() == "yes")
    form_recipients = [
        a for field_name in ("to", "cc") for _, a in _addresses([_form_text(form.get(field_name))])
    ]
    return _build(
        headers,
        plain=plain,
        html=html,
        attachments=_form_attachments(form, files),
        extra_recipients=[*form_recipients, *envelope],
        from_field=from_field or None,
        subject_field=_form_text(form.get("subject")) or None,
    )


@dataclass(frozen=True)
class SalvagedHeaders:
    """What could be read of a post that is not a readable e-mail."""

    from_address: str
    subject: str
    recipients: tuple[str, ...]


_SALVAGE_LIMIT = 1024 * 1024  # headers and the envelope sit at the start of a post
_RAW_HEADER = re.compile(
    r"^(from|subject|to|cc|delivered-to|x-original-to)[ \t]*:[ \t]*(.*(?:\r?\n[ \t].*)*)",
    re.IGNORECASE | re.MULTILINE,
)
# Parsed mode: form fields ("from", "subject", "to") rather than header lines.
_FORM_FIELD = re.compile(
    r'name="(from|subject|to|cc)"\r?\n(?:[^\r\n]+\r?\n)*\r?\n(.*?)\r?\n--', re.DOTALL
)
# A work order's signed reply address anywhere (the SendGrid envelope, a To header).
_REPLY_ADDRESS = re.compile(r"\bwo\+\d{1,10}-[0-9a-f]{16}@[a-z0-9.-]+", re.IGNORECASE)


def salvage_headers(raw_post: bytes) -> SalvagedHeaders:
    """Sender, subject and recipients of a post that could not be parsed, best effort: read
    from header lines, form fields and any signed reply address in its first megabyte.
    Never raises; control characters are dropped (PostgreSQL refuses NUL)."""
    text = raw_post[:_SALVAGE_LIMIT].decode("latin-1")
    values: dict[str, list[str]] = {}
    for pattern in (_FORM_FIELD, _RAW_HEADER):
        for match in pattern.finditer(text):
            values.setdefault(match.group(1).lower(), []).append(match.group(2))
    try:
        senders = _addresses(values.get("from", [])[:1])
        subject = _display_text(decode_header_value(next(iter(values.get("subject", [])), "")))
        named = [
            address
            for name in ("to", "cc", "delivered-to", "x-original-to")
            for _, address in _addresses(values.get(name, []))
        ]
    except Exception as exc:  # best effort: a post this broken keeps what was found so far
        log.debug("headers of an unreadable post could not be decoded: %r", exc)
        senders, subject, named = [], "", []
    signed = [address.lower() for address in _REPLY_ADDRESS.findall(text)]
    return SalvagedHeaders(
        from_address=_strip_controls(senders[0][1]) if senders else "",
        subject=subject,
        recipients=_unique([*signed, *(_strip_controls(a) for a in named)]),
    )


def decode_sendgrid_fields(raw_fields: Mapping[str, bytes]) -> dict[str, str]:
    """Decode the text fields of a SendGrid post with the charsets it declares.

    SendGrid encodes ``text``, ``html``, ``subject``... in the message's own charsets and
    says which in the ``charsets`` JSON field; each falls back to UTF-8, then
    Windows-1252. The raw-mode ``email`` field is decoded as latin-1, byte for byte, so
    that :func:`parse_sendgrid_form` gets the exact MIME bytes back.
    """
    charsets_raw = raw_fields.get("charsets", b"{}")
    try:
        charsets = json.loads(_form_text(charsets_raw) or "{}")
    except ValueError:
        charsets = {}
    if not isinstance(charsets, dict):
        charsets = {}
    charsets = {str(k).lower(): v for k, v in charsets.items() if isinstance(v, str)}
    decoded = {}
    for name, value in raw_fields.items():
        if isinstance(value, str):
            decoded[name] = value
        elif name == "email":
            decoded[name] = value.decode("latin-1")
        else:
            decoded[name] = decode_bytes(value, charsets.get(name.lower()))
    return decoded
