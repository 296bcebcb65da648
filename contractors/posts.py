"""SendGrid Inbound Parse posts: the e-mail inside a stored multipart/form-data body."""

from __future__ import annotations

import email.parser
import email.policy
from email.message import Message

from contractors.mail import (
    ParsedEmail,
    UnreadableEmail,
    decode_sendgrid_fields,
    parse_sendgrid_form,
)

__all__ = ["parse_post"]


def parse_post(content_type: str, raw_post: bytes) -> ParsedEmail:
    """The e-mail inside a stored Inbound Parse post (either mode)."""
    fields: dict[str, bytes] = {}
    files: dict[str, tuple[str, str, bytes]] = {}
    for headers, data in _form_parts(content_type, raw_post):
        name = headers.get_param("name", header="content-disposition")
        if not isinstance(name, str) or not name:
            continue
        filename = headers.get_filename()
        if filename is not None:
            files[name] = (filename, headers.get_content_type(), data)
        else:
            fields[name] = data
    if not fields and not files:
        raise UnreadableEmail("the post has no fields")
    return parse_sendgrid_form(decode_sendgrid_fields(fields), files)


_HEADER_PARSER = email.parser.BytesHeaderParser(policy=email.policy.compat32)


def _form_parts(content_type: str, raw_post: bytes) -> list[tuple[Message, bytes]]:
    """The parts of a multipart/form-data body, their bytes untouched.

    Split on the boundary rather than handed to a MIME parser: form-data parts carry no
    transfer encoding, and the raw-mode ``email`` field (the whole message, often
    megabytes) must reach the e-mail parser byte for byte, and only once.
    """
    holder = Message()
    holder["Content-Type"] = content_type
    boundary = holder.get_param("boundary")
    if holder.get_content_type() != "multipart/form-data" or not isinstance(boundary, str):
        raise UnreadableEmail("the post is not multipart/form-data")
    delimiter = b"--" + boundary.encode("latin-1")
    chunks = raw_post.split(b"\r\n" + delimiter)
    start = chunks[0].find(delimiter)  # a preamble may come first
    if start < 0:
        raise UnreadableEmail("the post's multipart body lacks its boundary")
    chunks[0] = chunks[0][start + len(delimiter) :]
    parts = []
    for chunk in chunks:
        if chunk.startswith(b"--"):
            break  # the closing delimiter
        head, separator, data = chunk.partition(b"\r\n\r\n")
        if not separator:
            continue
        parts.append((_HEADER_PARSER.parsebytes(head.lstrip(b"\r\n")), data))
    return parts
