"""What SendGrid Inbound Parse would post for an .eml, and the inbound corpus (test helper).

SendGrid posts a multipart form in one of two modes:

* raw: the whole message in the ``email`` field, next to ``to``, ``from``, ``subject``,
  ``envelope``, ``charsets``, ``spam_score``, ``dkim``, ``SPF`` and ``sender_ip``;
* parsed: the header block in ``headers``, the bodies in ``text`` and ``html`` (each in the
  charset the ``charsets`` field names), ``from``/``to``/``cc``/``subject`` decoded, and every
  other part as a file ``attachment1..N`` described in ``attachment-info``.

Fields are returned as bytes, as they travel in the HTTP body; the webhook decodes them with
``contractors.mail.decode_sendgrid_fields``. This module reads the .eml with the standard
library on its own terms, so that it does not share the parser's bugs.
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
import re
import tomllib
from email.message import Message
from email.utils import getaddresses
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "inbound"

SAMPLE_SUBSTITUTIONS = {
    "reply_to": "wo+42-9f2c4a1b7e3d5a60@inbound.grc.example",
    "reference": "R-2026-000123",
    "contractor_email": "contact@plomberie-martin.fr",
    "work_order_message_id": "<wo-42.1741594000@grc.example>",
    "contact_address": "contact@inbound.grc.example",
    "tenant_email": "n.benali@example.net",
}

# The webhook's limits, which the corpus's attachments_kept / attachments_refused assume.
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
ACCEPTED_ATTACHMENT_TYPES = frozenset({"image/jpeg", "image/png", "image/heic", "application/pdf"})

# Cases sent to the generic contact address rather than to a work order's reply address.
_SENT_TO_CONTACT_ADDRESS = frozenset({"subject", "thread", "triage", "tenant_intake"})

Fields = dict[str, bytes]
Files = dict[str, tuple[str, str, bytes]]


# --------------------------------------------------------------------------- the corpus


def load_cases() -> list[dict[str, Any]]:
    """The ``[[case]]`` tables of cases.toml, in file order."""
    with (FIXTURES / "cases.toml").open("rb") as handle:
        return list(tomllib.load(handle)["case"])


def substitute(text: str, substitutions: dict[str, str]) -> str:
    for name, value in substitutions.items():
        text = text.replace("{{" + name + "}}", value)
    return text


def load_case(case: dict[str, Any] | str, substitutions: dict[str, str]) -> bytes:
    """The case's .eml with its placeholders replaced, plus the generated oversized attachment
    when the case asks for one."""
    file_name = case if isinstance(case, str) else case["file"]
    raw = (FIXTURES / file_name).read_bytes()
    for name, value in substitutions.items():
        raw = raw.replace(b"{{" + name.encode() + b"}}", value.encode())
    size_mb = None if isinstance(case, str) else case.get("oversized_attachment_mb")
    if size_mb:
        raw = append_attachment(
            raw,
            filename="IMG_2044.HEIC",
            content_type="image/heic",
            data=_filler(int(size_mb * 1024 * 1024)),
        )
    return raw


def envelope_recipient(case: dict[str, Any], substitutions: dict[str, str]) -> str:
    """The SMTP recipient SendGrid received the case for."""
    if case["match"] in _SENT_TO_CONTACT_ADDRESS:
        return substitutions["contact_address"]
    return substitutions["reply_to"]


def _filler(size: int) -> bytes:
    # Looks like the start of a HEIF file; the rest is a repeated pattern (cheap to build).
    head = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"
    pattern = bytes(range(256))
    body = pattern * (size // len(pattern) + 1)
    return (head + body)[:size]


def append_attachment(eml: bytes, *, filename: str, content_type: str, data: bytes) -> bytes:
    """Add a base64 attachment before the closing boundary of a multipart message."""
    header_end = _header_block_end(eml)
    found = re.search(rb'boundary="?([^";\r\n]+)"?', eml[:header_end], re.IGNORECASE)
    if found is None:
        raise ValueError("append_attachment needs a multipart message")
    closing = b"--" + found.group(1) + b"--"
    newline = b"\r\n" if b"\r\n" in eml[:header_end] else b"\n"
    encoded = base64.encodebytes(data).replace(b"\n", newline)
    part = newline.join(
        [
            b"--" + found.group(1),
            f"Content-Type: {content_type}; name={filename}".encode(),
            f"Content-Disposition: attachment; filename={filename}".encode(),
            b"Content-Transfer-Encoding: base64",
            b"",
            encoded,
        ]
    )
    position = eml.rindex(closing)
    return eml[:position] + part + eml[position:]


# --------------------------------------------------------------------------- reading the .eml


def _header_block_end(eml: bytes) -> int:
    ends = [i for i in (eml.find(b"\r\n\r\n"), eml.find(b"\n\n")) if i >= 0]
    return min(ends) if ends else len(eml)


def _decode(data: bytes, charset: str | None) -> tuple[str, str]:
    """The text and the charset that read it: declared, else UTF-8, else Windows-1252."""
    for candidate in (charset, "utf-8"):
        if not candidate:
            continue
        try:
            return data.decode(candidate), candidate
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("cp1252", errors="replace"), "windows-1252"


def _header_text(message: Message, name: str) -> str:
    try:
        value = message[name]
    except Exception:  # a header the policy cannot parse: SendGrid would pass it on raw
        value = next((v for n, v in message.raw_items() if n.lower() == name.lower()), None)
    if value is None:
        return ""
    return " ".join(str(value).split())


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", errors="replace")


def _is_attachment(part: Message) -> bool:
    disposition = str(part.get("Content-Disposition", "")).split(";", 1)[0].strip().lower()
    if part.get_content_type() not in ("text/plain", "text/html"):
        return True
    return disposition == "attachment" or bool(part.get_filename())


def _leaves(part: Message) -> list[Message]:
    if part.get_content_type() == "message/rfc822":
        return [part]
    if part.is_multipart():
        return [leaf for child in part.get_payload() for leaf in _leaves(child)]
    return [part]


def _attachment_data(part: Message) -> bytes:
    if part.get_content_type() == "message/rfc822":
        return part.get_payload()[0].as_bytes()
    return part.get_payload(decode=True) or b""


def _sender(message: Message) -> str:
    pairs = getaddresses([_header_text(message, "From")])
    return pairs[0][1] if pairs else ""


def _common_fields(message: Message, envelope_to: list[str]) -> Fields:
    return {
        "to": _utf8(_header_text(message, "To")),
        "from": _utf8(_header_text(message, "From")),
        "subject": _utf8(_header_text(message, "Subject")),
        "envelope": json.dumps({"to": envelope_to, "from": _sender(message)}).encode(),
        "spam_score": b"0.1",
        "dkim": b"{@grc.example : pass}",
        "SPF": b"pass",
        "sender_ip": b"203.0.113.25",
    }


# --------------------------------------------------------------------------- the two modes


def raw_form(eml: bytes, envelope_to: list[str] | str) -> tuple[Fields, Files]:
    """The post of the raw mode: the message as it came, plus a few decoded headers."""
    recipients = [envelope_to] if isinstance(envelope_to, str) else list(envelope_to)
    message = email.message_from_bytes(eml, policy=email.policy.default)
    fields = _common_fields(message, recipients)
    fields["email"] = eml
    fields["charsets"] = json.dumps({"to": "UTF-8", "from": "UTF-8", "subject": "UTF-8"}).encode()
    return fields, {}


def parsed_form(eml: bytes, envelope_to: list[str] | str) -> tuple[Fields, Files]:
    """The post of the parsed mode: header block, bodies in their charsets, attachments."""
    recipients = [envelope_to] if isinstance(envelope_to, str) else list(envelope_to)
    message = email.message_from_bytes(eml, policy=email.policy.default)
    fields = _common_fields(message, recipients)
    fields["headers"] = eml[: _header_block_end(eml)] + b"\n"
    charsets = {"to": "UTF-8", "from": "UTF-8", "subject": "UTF-8"}
    if message.get("Cc"):
        fields["cc"] = _utf8(_header_text(message, "Cc"))
        charsets["cc"] = "UTF-8"

    bodies: dict[str, list[tuple[str, str]]] = {"text": [], "html": []}
    files: Files = {}
    info: dict[str, dict[str, str]] = {}
    for leaf in _leaves(message):
        if not _is_attachment(leaf):
            field_name = "text" if leaf.get_content_subtype() == "plain" else "html"
            text, charset = _decode(
                leaf.get_payload(decode=True) or b"", leaf.get_content_charset()
            )
            bodies[field_name].append((text, charset))
            continue
        number = f"attachment{len(files) + 1}"
        filename = leaf.get_filename() or ""
        content_type = leaf.get_content_type()
        files[number] = (filename, content_type, _attachment_data(leaf))
        info[number] = {"filename": filename, "name": filename, "type": content_type}
        if leaf.get("Content-ID"):
            info[number]["content-id"] = str(leaf["Content-ID"]).strip("<>")

    for field_name, parts in bodies.items():
        if not parts:
            continue
        text = "\n".join(t for t, _ in parts)
        # Sent in the part's own charset when it can carry the text, else in UTF-8.
        charset = parts[0][1]
        try:
            fields[field_name] = text.encode(charset)
        except (LookupError, UnicodeEncodeError):
            charset = "UTF-8"
            fields[field_name] = text.encode(charset)
        charsets[field_name] = charset
    fields["charsets"] = json.dumps(charsets).encode()
    fields["attachments"] = str(len(files)).encode()
    if files:
        fields["attachment-info"] = json.dumps(info).encode()
    return fields, files


def form_for(case: dict[str, Any], substitutions: dict[str, str]) -> tuple[Fields, Files]:
    """The post for a corpus case, in the mode the case names."""
    eml = load_case(case, substitutions)
    recipient = envelope_recipient(case, substitutions)
    build = parsed_form if case["transport"] == "parsed" else raw_form
    return build(eml, [recipient])
