"""contractors.mail: one normalised email out of whatever SendGrid posts."""

from __future__ import annotations

import base64
import json
import random
from datetime import UTC, datetime

import pytest

from contractors.mail import (
    AUTO_REPLY_HEADERS,
    InboundAttachment,
    ParsedEmail,
    UnreadableEmail,
    decode_bytes,
    decode_header_value,
    decode_sendgrid_fields,
    html_to_text,
    message_ids,
    normalise_message_id,
    parse_raw_mime,
    parse_sendgrid_form,
    sanitise_filename,
    sanitise_html,
)

REPLY_ADDRESS = "wo+42-9f2c4a1b7e3d5a60@inbound.grc.example"
WORK_ORDER_ID = "<wo-42.1741594000@grc.example>"


def eml(headers: str, body: bytes = b"", *, content_type: str | None = None) -> bytes:
    """A message from a header block written with LF, sent with CRLF as on the wire (8-bit
    header bytes in UTF-8, as some mailers send them)."""
    lines = headers.strip("\n").split("\n")
    if content_type:
        lines.append(f"Content-Type: {content_type}")
    return "\r\n".join(lines).encode() + b"\r\n\r\n" + body


BASIC_HEADERS = f"""\
From: Jean-Marc Weber <Contact@Plomberie-Martin.fr>
To: Habitat Exemple <{REPLY_ADDRESS}>
Subject: Re: [R-2026-000123] Fuite d'eau
Date: Tue, 10 Mar 2026 09:14:02 +0100
Message-ID: <abc123@plomberie-martin.fr>
In-Reply-To: {WORK_ORDER_ID}
MIME-Version: 1.0"""


def parse_text(body: bytes, content_type: str, encoding: str = "8bit") -> str:
    headers = BASIC_HEADERS + f"\nContent-Transfer-Encoding: {encoding}"
    return parse_raw_mime(eml(headers, body, content_type=content_type)).text


# --------------------------------------------------------------------------- headers


def test_parses_the_usual_headers() -> None:
    parsed = parse_raw_mime(
        eml(BASIC_HEADERS, b"Bonjour\r\n", content_type="text/plain; charset=utf-8")
    )

    assert parsed == ParsedEmail(
        message_id="<abc123@plomberie-martin.fr>",
        in_reply_to=(WORK_ORDER_ID,),
        references=(),
        from_address="contact@plomberie-martin.fr",
        from_name="Jean-Marc Weber",
        recipients=(REPLY_ADDRESS,),
        subject="Re: [R-2026-000123] Fuite d'eau",
        date=datetime(2026, 3, 10, 8, 14, 2, tzinfo=UTC),
        text="Bonjour",
        html=None,
        auto_reply_headers={},
        attachments=(),
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<abc@x.fr>", "<abc@x.fr>"),
        ("  <abc@x.fr>  ", "<abc@x.fr>"),
        ("abc@x.fr", "<abc@x.fr>"),
        ("<abc@x.fr> (comment)", "<abc@x.fr>"),
        ("", None),
        (None, None),
        ("no id here", None),
    ],
)
def test_message_ids_are_normalised(raw: str | None, expected: str | None) -> None:
    assert normalise_message_id(raw) == expected


def test_references_keep_every_id_in_order_without_duplicates() -> None:
    value = "<a@x>\r\n <b@y>\t<a@x>  c@z"
    assert message_ids(value) == ("<a@x>", "<b@y>")
    assert message_ids("a@x, b@y") == ("<a@x>", "<b@y>")


def test_thread_headers_are_read_from_folded_values() -> None:
    headers = BASIC_HEADERS.replace(
        f"In-Reply-To: {WORK_ORDER_ID}",
        f"In-Reply-To:\n {WORK_ORDER_ID}\nReferences: <other@x>\n {WORK_ORDER_ID}",
    ).replace("Message-ID: <abc123@plomberie-martin.fr>", "Message-ID: abc123@plomberie-martin.fr")
    parsed = parse_raw_mime(eml(headers, b"ok", content_type="text/plain"))

    assert parsed.message_id == "<abc123@plomberie-martin.fr>"
    assert parsed.in_reply_to == (WORK_ORDER_ID,)
    assert parsed.references == ("<other@x>", WORK_ORDER_ID)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("=?utf-8?Q?R=C3=A9ponse?= =?utf-8?Q?_automatique?=", "Réponse automatique"),
        ("=?UTF-8?B?UsOpcG9uc2U=?=", "Réponse"),
        # a multi-byte character split across two words
        ("=?utf-8?B?4oA=?= =?utf-8?B?lA==?=", "—"),
        ("=?iso-8859-1?q?caf=E9?= cr=?utf-8?q?=C3=A8?=me", "café crème"),
        # wrong or unknown charsets fall back instead of raising
        ("=?utf-8?Q?Fran=E7ois?=", "François"),
        ("=?x-unknown?Q?R=E9p=3A?= [R-1]", "Rép: [R-1]"),
        ("=?utf-8?Q?=97?=", "—"),
        # an undecodable word stays as it was written
        ("=?utf-8?B?!!!?= suite", "=?utf-8?B?!!!?= suite"),
        ("Re: [R-2026-000123]\r\n Fuite", "Re: [R-2026-000123] Fuite"),
        ("plain", "plain"),
    ],
)
def test_encoded_words_are_decoded_leniently(raw: str, expected: str) -> None:
    assert decode_header_value(raw) == expected


def test_subject_is_decoded_and_collapsed() -> None:
    headers = BASIC_HEADERS.replace(
        "Subject: Re: [R-2026-000123] Fuite d'eau",
        "Subject:  RE: [R-2026-000123]   Fuite d'eau =?UTF-8?Q?=E2=80=94?=\n\t12 rue des Lilas",
    )
    parsed = parse_raw_mime(eml(headers, b"x", content_type="text/plain"))

    assert parsed.subject == "RE: [R-2026-000123] Fuite d'eau — 12 rue des Lilas"


def test_control_characters_do_not_reach_the_subject_or_the_name() -> None:
    headers = BASIC_HEADERS.replace(
        "Subject: Re: [R-2026-000123] Fuite d'eau", "Subject: =?utf-8?Q?Re=07=3A_ok=E2=80=8B?="
    ).replace("From: Jean-Marc Weber", "From: =?utf-8?Q?Jean=00Marc?=")
    parsed = parse_raw_mime(eml(headers, b"x", content_type="text/plain"))

    assert parsed.subject == "Re: ok"
    assert parsed.from_name == "JeanMarc"


def test_raw_8bit_headers_are_read_as_utf8_or_windows_1252() -> None:
    raw = eml(BASIC_HEADERS, b"x", content_type="text/plain")
    utf8 = raw.replace(b"Fuite d'eau", "Fuite d'eau — évier".encode())
    latin = raw.replace(b"Fuite d'eau", "Fuite d'eau évier".encode("cp1252"))

    assert parse_raw_mime(utf8).subject == "Re: [R-2026-000123] Fuite d'eau — évier"
    assert parse_raw_mime(latin).subject == "Re: [R-2026-000123] Fuite d'eau évier"


@pytest.mark.parametrize(
    ("from_header", "name", "address"),
    [
        ('"Dupont, Jean" <Jean.Dupont@Example.FR>', "Dupont, Jean", "jean.dupont@example.fr"),
        ("=?utf-8?Q?Dupont=2C_Jos=C3=A9?= <jose@x.fr>", "Dupont, José", "jose@x.fr"),
        ('"=?utf-8?Q?Jos=C3=A9?=" <jose@x.fr>', "José", "jose@x.fr"),
        ("jose@x.fr", "", "jose@x.fr"),
        ("jose@x.fr (José Garcia)", "José Garcia", "jose@x.fr"),
        ("Undisclosed recipients:;", "", ""),
        ("no address at all", "", ""),
    ],
)
def test_sender_name_and_address(from_header: str, name: str, address: str) -> None:
    headers = BASIC_HEADERS.replace(
        "From: Jean-Marc Weber <Contact@Plomberie-Martin.fr>", f"From: {from_header}"
    )
    parsed = parse_raw_mime(eml(headers, b"x", content_type="text/plain"))

    assert (parsed.from_name, parsed.from_address) == (name, address)


def test_missing_from_gives_empty_sender() -> None:
    headers = "\n".join(line for line in BASIC_HEADERS.split("\n") if not line.startswith("From"))
    parsed = parse_raw_mime(eml(headers, b"x", content_type="text/plain"))

    assert (parsed.from_name, parsed.from_address) == ("", "")


def test_recipients_come_from_to_cc_and_envelope_lower_cased_and_unique() -> None:
    headers = BASIC_HEADERS.replace(
        f"To: Habitat Exemple <{REPLY_ADDRESS}>",
        f"To: Habitat <{REPLY_ADDRESS.upper()}>, Agence <Agence@Bailleur.FR>\n"
        "Cc: =?utf-8?Q?Fran=C3=A7ois?= <francois@x.fr>, agence@bailleur.fr, broken",
    )
    parsed = parse_raw_mime(
        eml(headers, b"x", content_type="text/plain"),
        envelope_to=["other@inbound.grc.example", REPLY_ADDRESS],
    )

    assert parsed.recipients == (
        REPLY_ADDRESS,
        "agence@bailleur.fr",
        "francois@x.fr",
        "other@inbound.grc.example",
    )


@pytest.mark.parametrize(
    ("date_header", "expected"),
    [
        ("Tue, 10 Mar 2026 09:14:02 +0100", datetime(2026, 3, 10, 8, 14, 2, tzinfo=UTC)),
        ("Tue, 10 Mar 2026 09:14:02 +0100 (CET)", datetime(2026, 3, 10, 8, 14, 2, tzinfo=UTC)),
        ("10 Mar 2026 09:14:02 -0000", datetime(2026, 3, 10, 9, 14, 2, tzinfo=UTC)),
        ("Tue, 10 Mar 2026 09:14:02 EST", datetime(2026, 3, 10, 14, 14, 2, tzinfo=UTC)),
        # an unknown zone name reads as "-0000", i.e. UTC of unknown origin
        ("Tue, 10 Mar 2026 09:14 CET", datetime(2026, 3, 10, 9, 14, tzinfo=UTC)),
        ("mardi 10 mars 2026", None),
        ("Tue, 99 Foo 2026 99:99:99 +0100", None),
        ("10 Mar 2026 25:00:00 +0100", None),
        ("Tue, 10 Mar 99999 09:14:02 +0100", None),
        ("", None),
    ],
)
def test_dates_are_utc_or_none(date_header: str, expected: datetime | None) -> None:
    headers = BASIC_HEADERS.replace("Date: Tue, 10 Mar 2026 09:14:02 +0100", f"Date: {date_header}")
    parsed = parse_raw_mime(eml(headers, b"x", content_type="text/plain"))

    assert parsed.date == expected


def test_auto_reply_headers_are_collected_under_lower_case_names() -> None:
    headers = (
        BASIC_HEADERS
        + "\nAuto-Submitted: auto-replied\nX-AutoReply: yes\nPRECEDENCE: bulk\nReturn-Path: <>"
        + "\nX-Auto-Response-Suppress: All\nList-Id: <travaux.liste.example>\nX-Other: 1"
    )
    parsed = parse_raw_mime(eml(headers, b"x", content_type="text/plain"))

    assert dict(parsed.auto_reply_headers) == {
        "auto-submitted": "auto-replied",
        "x-autoreply": "yes",
        "x-auto-response-suppress": "All",
        "precedence": "bulk",
        "list-id": "<travaux.liste.example>",
        "return-path": "<>",
    }
    assert set(parsed.auto_reply_headers) <= set(AUTO_REPLY_HEADERS)
    with pytest.raises(TypeError):
        parsed.auto_reply_headers["precedence"] = "list"  # type: ignore[index]


# --------------------------------------------------------------------------- charsets


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ("Réparé, 80 € œuvre".encode("cp1252"), 'text/plain; charset="windows-1252"', None),
        # "iso-8859-1" from Windows senders really is Windows-1252: € and œ survive
        ("Réparé, 80 € œuvre".encode("cp1252"), "text/plain; charset=iso-8859-1", None),
        ("Réparé, 80 € œuvre".encode("cp1252"), "text/plain; charset=utf-8", None),
        ("Réparé, 80 € œuvre".encode("cp1252"), "text/plain; charset=x-unknown", None),
        ("Réparé, 80 € œuvre".encode(), "text/plain", None),
        ("Réparé, 80 € œuvre".encode(), "text/plain; charset=us-ascii", None),
        # UTF-8 mislabelled as latin-1 by a script
        ("Réparé, 80 € œuvre".encode(), "text/plain; charset=iso-8859-1", None),
        ("Réparé, 80 € œuvre".encode("iso-8859-15"), "text/plain; charset=ISO-8859-15", None),
        ("Réparé".encode("cp1252"), "text/plain; charset=base64", "Réparé"),
        (b"R\xe9par\xe9 \x81", "text/plain; charset=iso-8859-1", "Réparé \ufffd"),
    ],
)
def test_bodies_decode_whatever_the_charset_says(
    body: bytes, content_type: str, expected: str | None
) -> None:
    assert parse_text(body, content_type) == (expected or "Réparé, 80 € œuvre")


def test_decode_bytes_never_raises() -> None:
    assert decode_bytes(b"caf\xc3\xa9", "utf-8") == "café"
    assert decode_bytes(b"caf\xe9", "utf-8") == "café"
    assert decode_bytes(b"caf\xe9", None) == "café"
    assert decode_bytes(b"caf\xe9", '"x-unknown"') == "café"
    assert decode_bytes(b"caf\xe9", "zlib") == "café"
    assert decode_bytes(b"\x81\x8d", "utf-8") == "\ufffd\ufffd"


@pytest.mark.parametrize(
    "content_type",
    ["text/plain; charset=utf-8", "text/plain", "text/plain; charset=x-unknown"],
)
def test_one_bad_byte_in_a_utf8_body_is_the_only_character_replaced(content_type: str) -> None:
    body = "Fuite réparée, joint changé ".encode() + b"\xff" + " à 14h.".encode()
    assert parse_text(body, content_type) == "Fuite réparée, joint changé \ufffd à 14h."


def test_a_declared_multibyte_charset_keeps_its_text_around_a_bad_byte() -> None:
    body = "修理完了".encode("shift_jis") + b"\xff" + "です".encode("shift_jis")
    assert parse_text(body, "text/plain; charset=shift_jis") == "修理完了\ufffdです"


def test_quoted_printable_and_base64_bodies() -> None:
    quoted = b"Nous passerons le 12/03 =C3=A0 14h, merci de pr=C3=A9venir la loca=\r\ntaire."
    encoded = base64.encodebytes("Intervention réalisée.\r\n".encode()).replace(b"\n", b"\r\n")

    assert (
        parse_text(quoted, "text/plain; charset=utf-8", "quoted-printable")
        == "Nous passerons le 12/03 à 14h, merci de prévenir la locataire."
    )
    assert parse_text(encoded, "text/plain; charset=utf-8", "base64") == "Intervention réalisée."


def test_crlf_become_lf_and_a_bom_and_surrounding_blank_lines_are_dropped() -> None:
    text = parse_text("\ufeff\r\nBonjour,\r\n\r\nOK\r\n\r\n".encode(), "text/plain; charset=utf-8")
    assert text == "Bonjour,\n\nOK"


def test_format_flowed_lines_are_joined() -> None:
    body = (
        b"Intervention r\xc3\xa9alis\xc3\xa9e ce matin : remplacement du \r\n"
        b"flexible.\r\n"
        b"-- \r\n"
        b"Eric\r\n"
        b"> cit\xc3\xa9 \r\n"
        b">  suite\r\n"
    )
    flowed = parse_text(body, "text/plain; charset=utf-8; format=flowed")
    delsp = parse_text(b"rempla \r\ncement\r\n", "text/plain; format=flowed; delsp=yes")

    assert flowed.splitlines() == [
        "Intervention réalisée ce matin : remplacement du flexible.",
        "-- ",
        "Eric",
        "> cité  suite",
    ]
    assert delsp == "remplacement"


# --------------------------------------------------------------------------- structure

ALTERNATIVE = b"""\
--alt\r
Content-Type: text/plain; charset=utf-8\r
\r
Passage pr\xc3\xa9vu jeudi 12 mars \xc3\xa0 14h.\r
--alt\r
Content-Type: text/html; charset=utf-8\r
\r
<p onclick="steal()">Passage pr&eacute;vu <b>jeudi 12 mars</b> &agrave; 14h.</p>\r
<script>alert(1)</script><img src="https://tracker.example/p.gif">\r
--alt--\r
"""


def test_alternative_gives_the_plain_text_and_the_sanitised_html() -> None:
    raw = eml(BASIC_HEADERS, ALTERNATIVE, content_type='multipart/alternative; boundary="alt"')
    parsed = parse_raw_mime(raw)

    assert parsed.text == "Passage prévu jeudi 12 mars à 14h."
    assert parsed.html == "<p>Passage prévu <b>jeudi 12 mars</b> à 14h.</p>"
    assert parsed.attachments == ()


def test_html_only_message_gets_its_text_from_the_html() -> None:
    html = (
        b"<html><body><div>Intervention termin&eacute;e.</div><blockquote>Cit&eacute;</blockquote>"
    )
    parsed = parse_raw_mime(eml(BASIC_HEADERS, html, content_type="text/html; charset=utf-8"))

    assert parsed.text == "Intervention terminée.\n> Cité"
    assert parsed.html is not None


def test_an_empty_plain_part_falls_back_to_the_html() -> None:
    body = ALTERNATIVE.replace(
        b"Passage pr\xc3\xa9vu jeudi 12 mars \xc3\xa0 14h.\r\n--alt\r\nContent-Type: text/html",
        b"\r\n\r\n--alt\r\nContent-Type: text/html",
    )
    parsed = parse_raw_mime(
        eml(BASIC_HEADERS, body, content_type='multipart/alternative; boundary="alt"')
    )

    assert parsed.text == "Passage prévu jeudi 12 mars à 14h."


MIXED = b"""\
--mixed\r
Content-Type: text/plain; charset=utf-8\r
\r
Voir devis et photo.\r
--mixed\r
Content-Type: application/pdf; name="devis.pdf"\r
Content-Disposition: attachment; filename="devis.pdf"\r
Content-Transfer-Encoding: base64\r
\r
JVBERi0xLjQKJeLjz9MK\r
--mixed\r
Content-Type: IMAGE/JPEG\r
Content-Disposition: attachment; filename="../../etc/\x01photo.jpg"\r
Content-Transfer-Encoding: base64\r
\r
/9j/4AAQSkZJRg==\r
--mixed\r
Content-Type: application/octet-stream\r
Content-Transfer-Encoding: base64\r
\r
TVqQAAMAAAAEAAAA\r
--mixed\r
Content-Type: application/pdf\r
Content-Disposition: attachment; filename*=utf-8''devis%20n%C2%B0%2031.pdf\r
\r
%PDF-1.4\r
--mixed\r
Content-Type: application/pdf; name="=?utf-8?B?ZmFjdHVyZSDDqXTDqS5wZGY=?="\r
Content-Disposition: attachment\r
\r
%PDF-1.4\r
--mixed\r
Content-Type: text/plain; name="notes.txt"\r
Content-Disposition: attachment; filename="notes.txt"\r
\r
not the body\r
--mixed--\r
"""


def test_mixed_parts_become_attachments_with_safe_names() -> None:
    parsed = parse_raw_mime(
        eml(BASIC_HEADERS, MIXED, content_type='multipart/mixed; boundary="mixed"')
    )

    assert parsed.text == "Voir devis et photo."
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [
        ("devis.pdf", "application/pdf"),
        ("photo.jpg", "image/jpeg"),
        ("piece-jointe", "application/octet-stream"),
        ("devis n° 31.pdf", "application/pdf"),
        ("facture été.pdf", "application/pdf"),
        ("notes.txt", "text/plain"),
    ]
    assert parsed.attachments[0].data == b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    assert parsed.attachments[1].data.startswith(b"\xff\xd8\xff")
    assert isinstance(parsed.attachments[0], InboundAttachment)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("devis.pdf", "devis.pdf"),
        ("C:\\Users\\jm\\Bureau\\devis.pdf", "devis.pdf"),
        ("../../etc/passwd", "passwd"),
        ("fac\x00ture\r\n.pdf", "facture.pdf"),
        ("  ..  ", "piece-jointe"),
        ("", "piece-jointe"),
        (None, "piece-jointe"),
        ("=?utf-8?Q?r=C3=A9sum=C3=A9.pdf?=", "résumé.pdf"),
    ],
)
def test_filenames_are_sanitised(name: str | None, expected: str) -> None:
    assert sanitise_filename(name) == expected


RELATED = b"""\
--rel\r
Content-Type: multipart/alternative; boundary="alt"\r
\r
--alt\r
Content-Type: text/plain; charset=utf-8\r
\r
Bien not\xc3\xa9.\r
[cid:image001.png@01DC]\r
--alt\r
Content-Type: text/html; charset=utf-8\r
\r
<p>Bien not\xc3\xa9.</p><img src="cid:image001.png@01DC">\r
--alt--\r
--rel\r
Content-Type: image/png; name="image001.png"\r
Content-Disposition: inline; filename="image001.png"\r
Content-ID: <image001.png@01DC>\r
Content-Transfer-Encoding: base64\r
\r
iVBORw0KGgo=\r
--rel--\r
"""


def test_inline_images_of_a_related_message_are_attachments() -> None:
    parsed = parse_raw_mime(
        eml(BASIC_HEADERS, RELATED, content_type='multipart/related; boundary="rel"')
    )

    assert parsed.text == "Bien noté.\n[cid:image001.png@01DC]"
    assert parsed.html == "<p>Bien noté.</p>"
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [
        ("image001.png", "image/png")
    ]


FORWARDED = b"""\
--fwd\r
Content-Type: text/plain; charset=utf-8\r
\r
Je vous transf\xc3\xa8re le message de la locataire.\r
--fwd\r
Content-Type: message/rfc822\r
Content-Disposition: attachment; filename="annulation.eml"\r
\r
From: Nadia Benali <n.benali@example.net>\r
Subject: Annulation\r
Content-Type: text/plain; charset=utf-8\r
\r
Je ne serai pas l\xc3\xa0 jeudi.\r
--fwd\r
Content-Type: message/rfc822\r
Content-Transfer-Encoding: base64\r
\r
RnJvbTogYUBiDQpTdWJqZWN0OiBpbm5lcg0KDQpIZWxsbyBpbm5lcg0K\r
--fwd--\r
"""


def test_a_forwarded_message_is_an_attachment_and_not_part_of_the_text() -> None:
    parsed = parse_raw_mime(
        eml(BASIC_HEADERS, FORWARDED, content_type='multipart/mixed; boundary="fwd"')
    )

    assert parsed.text == "Je vous transfère le message de la locataire."
    first, second = parsed.attachments
    assert (first.filename, first.content_type) == ("annulation.eml", "message/rfc822")
    assert b"Subject: Annulation" in first.data
    assert "Je ne serai pas là jeudi.".encode() in first.data
    assert (second.filename, second.content_type) == ("message-transfere.eml", "message/rfc822")
    assert second.data == b"From: a@b\r\nSubject: inner\r\n\r\nHello inner\r\n"


def test_a_forwarded_message_with_long_8bit_headers_is_kept_byte_for_byte() -> None:
    inner = (
        b"From: Fran\xe7ois <f@x.fr>\r\nSubject: R\xe9ponse " + b"tr\xe8s longue " * 20 + b"\r\n"
        b"Content-Type: multipart/mixed; boundary=C\r\n\r\n--C\r\nContent-Type: text/plain\r\n"
        b"\r\ncorps\r\n--C--\r\n"
    )
    body = (
        b"--B\r\nContent-Type: text/plain\r\n\r\nVoir ci-joint.\r\n"
        b"--B\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"--B--\r\n"
    )
    parsed = parse_raw_mime(eml(BASIC_HEADERS, body, content_type="multipart/mixed; boundary=B"))

    assert parsed.text == "Voir ci-joint."
    assert parsed.attachments[0].data == inner


def test_inline_text_parts_around_an_image_are_joined() -> None:
    body = (
        b"--m\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nAvant la photo.\r\n"
        b"--m\r\nContent-Type: image/jpeg\r\nContent-Disposition: inline; filename=a.jpg\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n/9j/4A==\r\n"
        b"--m\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nApr\xc3\xa8s la photo.\r\n--m--\r\n"
    )
    parsed = parse_raw_mime(eml(BASIC_HEADERS, body, content_type='multipart/mixed; boundary="m"'))

    assert parsed.text == "Avant la photo.\nAprès la photo."
    assert len(parsed.attachments) == 1


# --------------------------------------------------------------------------- garbage


@pytest.mark.parametrize("raw", [b"", b"   \r\n\r\n  "])
def test_empty_input_is_unreadable(raw: bytes) -> None:
    with pytest.raises(UnreadableEmail):
        parse_raw_mime(raw)


def test_random_bytes_without_any_header_are_unreadable() -> None:
    junk = random.Random(7).randbytes(3000)
    with pytest.raises(UnreadableEmail):
        parse_raw_mime(junk, envelope_to=[REPLY_ADDRESS])


def test_header_less_text_is_still_read() -> None:
    parsed = parse_raw_mime("Intervention terminée.\r\n".encode(), envelope_to=[REPLY_ADDRESS])

    assert parsed.text == "Intervention terminée."
    assert parsed.recipients == (REPLY_ADDRESS,)
    assert parsed.message_id is None


def test_headers_only_message_has_empty_text() -> None:
    parsed = parse_raw_mime(BASIC_HEADERS.replace("\n", "\r\n").encode() + b"\r\n")

    assert parsed.text == ""
    assert parsed.is_blank
    assert parsed.message_id == "<abc123@plomberie-martin.fr>"


def test_junk_body_in_a_text_part_is_dropped() -> None:
    junk = base64.encodebytes(random.Random(3).randbytes(2000))
    headers = BASIC_HEADERS + "\nContent-Transfer-Encoding: base64"
    parsed = parse_raw_mime(eml(headers, junk, content_type='text/plain; charset="x-unknown"'))

    assert parsed.text == ""
    assert parsed.is_blank
    assert parsed.from_address == "contact@plomberie-martin.fr"


def test_broken_structure_does_not_raise() -> None:
    truncated = eml(BASIC_HEADERS, ALTERNATIVE[:120], content_type="multipart/alternative")
    no_boundary = eml(BASIC_HEADERS, b"just text", content_type="multipart/mixed")
    bad_params = eml(BASIC_HEADERS, b"text", content_type='text/plain; charset="utf-8; ;;=')
    deep = b"".join(
        f"--b{i}\r\nContent-Type: multipart/mixed; boundary=b{i + 1}\r\n\r\n".encode()
        for i in range(60)
    )

    assert parse_raw_mime(truncated).text == ""
    assert parse_raw_mime(no_boundary).text == ""
    assert parse_raw_mime(bad_params).text == "text"
    assert parse_raw_mime(eml(BASIC_HEADERS, deep, content_type="multipart/mixed; boundary=b0"))


# --------------------------------------------------------------------------- HTML


def test_html_to_text_breaks_lines_and_decodes_entities() -> None:
    html = (
        "<html><head><title>Titre</title><style>p{color:red}</style></head><body>"
        "<div>Bonjour,<br>Nous passerons le 12/03 &agrave;&nbsp;14h.</div>"
        "<p>Premier paragraphe</p><p>Second &amp; dernier</p>"
        "<ul><li>un</li><li>deux</li></ul><script>alert('x')</script>"
        "<table><tr><td>case 1</td><td>case 2</td></tr></table>"
        "</body></html>"
    )

    assert html_to_text(html) == (
        "Bonjour,\nNous passerons le 12/03 à 14h.\nPremier paragraphe\n\nSecond & dernier\n\n"
        "un\ndeux\ncase 1\ncase 2"
    )


def test_html_to_text_prefixes_blockquotes_per_level() -> None:
    html = (
        "<div>Ma réponse</div><div class=gmail_quote>Le mar. 10 mars, X a écrit :"
        "<blockquote>Bonjour,<br><br>Répondez simplement à ce message"
        "<blockquote>plus ancien</blockquote>fin</blockquote></div>après"
    )

    assert html_to_text(html).split("\n") == [
        "Ma réponse",
        "Le mar. 10 mars, X a écrit :",
        "> Bonjour,",
        ">",
        "> Répondez simplement à ce message",
        "> > plus ancien",
        ">",
        "> fin",
        "",
        "après",
    ]


def test_html_to_text_reads_outlook_paragraphs_as_lines() -> None:
    html = (
        "<html><head><style>p.MsoNormal{margin:0}</style><!--[if gte mso 9]><xml><o:x>96</o:x>"
        "</xml><![endif]--></head><body><div class=WordSection1>"
        '<p class="MsoNormal">Bonjour,<o:p></o:p></p><p class="MsoNormal"><o:p>&nbsp;</o:p></p>'
        '<p class="MsoNormal">Intervention termin&eacute;e.<o:p></o:p></p></div></body></html>'
    )

    assert html_to_text(html) == "Bonjour,\n\nIntervention terminée."


def test_html_to_text_leaves_no_tag_and_survives_broken_markup() -> None:
    text = html_to_text("<div><b>gras<i> et <a href='x'>lien</a></div></p><p unclosed <br")
    assert "<" not in text
    assert text.startswith("gras et lien")
    assert html_to_text("<html><head><meta charset=utf-8><body>corps</body>") == "corps"
    assert html_to_text("<pre>  a\n    b</pre>") == "  a\n    b"
    assert html_to_text("") == ""


def test_sanitise_html_removes_what_could_run_or_track() -> None:
    dirty = (
        '<div onclick="steal()" style="background:url(https://t.example/x)">'
        "<script>alert(1)</script><style>body{display:none}</style>"
        '<a href="javascript:alert(1)">piège</a> <a href="https://ok.example/">lien</a>'
        '<img src="https://tracker.example/pixel.gif"><img src="cid:image001.png">'
        "<iframe src='https://evil.example'></iframe><form><input value=x></form>"
        "<p>Intervention terminée</p></div>"
    )
    clean = sanitise_html(dirty)

    for forbidden in ("script", "alert", "style", "onclick", "javascript:", "<img", "iframe"):
        assert forbidden not in clean
    assert "Intervention terminée" in clean
    assert "piège" in clean
    assert '<a href="https://ok.example/" rel="noopener noreferrer nofollow">lien</a>' in clean


def test_sanitise_html_drops_outlook_head_content() -> None:
    html = "<html><head><title>Objet</title><xml><o:p>96</o:p></xml></head><body>ok</body></html>"
    assert sanitise_html(html) == "ok"


# --------------------------------------------------------------------------- SendGrid


def test_raw_mode_delegates_to_the_mime_parser_with_the_envelope() -> None:
    raw = eml(BASIC_HEADERS, "Réparé".encode(), content_type="text/plain; charset=utf-8")
    form = {
        "email": raw.decode("latin-1"),
        "envelope": json.dumps({"to": ["Copy@Inbound.grc.example"], "from": "x@y"}),
        "to": "ignored@x",
    }

    parsed = parse_sendgrid_form(form, {})

    assert parsed.text == "Réparé"
    assert parsed.recipients == (REPLY_ADDRESS, "copy@inbound.grc.example")


def test_raw_mode_accepts_the_email_field_decoded_as_utf8() -> None:
    raw = eml(BASIC_HEADERS, "Réparé, 80 €".encode(), content_type="text/plain; charset=utf-8")

    assert parse_sendgrid_form({"email": raw.decode("utf-8")}, {}).text == "Réparé, 80 €"
    assert parse_sendgrid_form({"email": raw}, {}).text == "Réparé, 80 €"  # type: ignore[dict-item]


def parsed_mode_form(**overrides: str) -> dict[str, str]:
    form = {
        "headers": BASIC_HEADERS + "\nCc: Agence <agence@bailleur.fr>\nAuto-Submitted: no\n",
        "text": "Bonjour,\r\nNous passerons demain matin.\r\n",
        "html": "<p>Bonjour,</p><p>Nous passerons demain matin.</p><script>x()</script>",
        "from": "Jean-Marc Weber <contact@plomberie-martin.fr>",
        "to": f"Habitat Exemple <{REPLY_ADDRESS}>",
        "cc": "Agence <agence@bailleur.fr>",
        "subject": "Re: [R-2026-000123] Fuite d'eau — Metz",
        "envelope": json.dumps({"to": [REPLY_ADDRESS], "from": "contact@plomberie-martin.fr"}),
        "charsets": json.dumps({"to": "UTF-8", "text": "UTF-8", "html": "UTF-8"}),
        "attachments": "0",
    }
    form.update(overrides)
    return form


def test_parsed_mode_reads_fields_and_header_block() -> None:
    parsed = parse_sendgrid_form(parsed_mode_form(), {})

    assert parsed.message_id == "<abc123@plomberie-martin.fr>"
    assert parsed.in_reply_to == (WORK_ORDER_ID,)
    assert parsed.subject == "Re: [R-2026-000123] Fuite d'eau — Metz"
    assert (parsed.from_name, parsed.from_address) == (
        "Jean-Marc Weber",
        "contact@plomberie-martin.fr",
    )
    assert parsed.recipients == (REPLY_ADDRESS, "agence@bailleur.fr")
    assert parsed.date == datetime(2026, 3, 10, 8, 14, 2, tzinfo=UTC)
    assert parsed.text == "Bonjour,\nNous passerons demain matin."
    assert parsed.html == "<p>Bonjour,</p><p>Nous passerons demain matin.</p>"
    assert dict(parsed.auto_reply_headers) == {"auto-submitted": "no"}


def test_parsed_mode_without_text_uses_the_html_and_header_fallbacks() -> None:
    form = parsed_mode_form(text="", subject="", **{"from": ""})
    parsed = parse_sendgrid_form(form, {})

    assert parsed.text == "Bonjour,\n\nNous passerons demain matin."
    assert parsed.subject == "Re: [R-2026-000123] Fuite d'eau"
    assert parsed.from_address == "contact@plomberie-martin.fr"


def test_parsed_mode_attachments_follow_attachment_info() -> None:
    info = {
        "attachment2": {"filename": "devis.pdf", "name": "devis.pdf", "type": "Application/PDF"},
        "attachment10": {"filename": "C:\\photos\\IMG_1.HEIC", "type": "image/heic"},
        "attachment1": {"filename": "", "type": ""},
    }
    files = {
        "attachment10": ("x.heic", "application/octet-stream", b"heic"),
        "attachment2": ("devis.pdf", "application/pdf", b"%PDF"),
        "attachment1": ("", "image/jpeg; name=a.jpg", b"\xff\xd8"),
        "other": ("ignored.txt", "text/plain", b"?"),
    }
    form = parsed_mode_form(attachments="3", **{"attachment-info": json.dumps(info)})

    parsed = parse_sendgrid_form(form, files)

    assert [(a.filename, a.content_type, a.data) for a in parsed.attachments] == [
        ("piece-jointe", "image/jpeg", b"\xff\xd8"),
        ("devis.pdf", "application/pdf", b"%PDF"),
        ("IMG_1.HEIC", "image/heic", b"heic"),
    ]


def test_parsed_mode_survives_bad_json_and_missing_headers() -> None:
    form = {
        "text": "Intervention terminée",
        "from": "contact@plomberie-martin.fr",
        "envelope": "{not json",
        "attachment-info": "[1, 2]",
    }
    parsed = parse_sendgrid_form(form, {"attachment1": ("a.pdf", "application/pdf", b"%PDF")})

    assert parsed.text == "Intervention terminée"
    assert parsed.message_id is None
    assert parsed.date is None
    assert parsed.recipients == ()
    assert parsed.attachments == (InboundAttachment("a.pdf", "application/pdf", b"%PDF"),)


def test_parsed_mode_joins_flowed_text_of_a_single_part_message() -> None:
    headers = BASIC_HEADERS + "\nContent-Type: text/plain; charset=ISO-8859-1; format=flowed\n"
    form = parsed_mode_form(headers=headers, text="remplacement du \r\njoint.\r\n", html="")

    assert parse_sendgrid_form(form, {}).text == "remplacement du joint."


def test_an_empty_post_is_unreadable() -> None:
    with pytest.raises(UnreadableEmail):
        parse_sendgrid_form({"envelope": "{}", "charsets": "{}"}, {})
    with pytest.raises(UnreadableEmail):
        parse_sendgrid_form({"email": ""}, {})


def test_decode_sendgrid_fields_uses_each_declared_charset() -> None:
    raw_mime = b"From: a@b\r\nSubject: caf\xe9\r\n\r\n\x80\xff"
    fields = {
        "text": "Main d’œuvre 0 €".encode("cp1252"),
        "html": "<p>Réparé</p>".encode("iso-8859-1"),
        "subject": "Réponse".encode(),
        "from": "François <f@x.fr>".encode("cp1252"),  # labelled UTF-8, really cp1252
        "to": b"wo@x",
        "email": raw_mime,
        "already": "déjà décodé",
        "charsets": json.dumps(
            {"Text": "windows-1252", "html": "iso-8859-1", "subject": "UTF-8", "from": "UTF-8"}
        ).encode(),
    }

    decoded = decode_sendgrid_fields(fields)  # type: ignore[arg-type]

    assert decoded["text"] == "Main d’œuvre 0 €"
    assert decoded["html"] == "<p>Réparé</p>"
    assert decoded["subject"] == "Réponse"
    assert decoded["from"] == "François <f@x.fr>"
    assert decoded["to"] == "wo@x"
    assert decoded["already"] == "déjà décodé"
    assert decoded["email"].encode("latin-1") == raw_mime


@pytest.mark.parametrize("charsets", [b"{broken", b"[]", b'{"text": 3}', None])
def test_decode_sendgrid_fields_without_usable_charsets_falls_back(charsets: bytes | None) -> None:
    fields = {"text": "Réparé".encode("cp1252")}
    if charsets is not None:
        fields["charsets"] = charsets

    assert decode_sendgrid_fields(fields)["text"] == "Réparé"


def test_decoded_fields_round_trip_through_the_parser() -> None:
    raw = eml(BASIC_HEADERS, "Réparé, 80 €".encode("cp1252"), content_type="text/plain")
    form = decode_sendgrid_fields({"email": raw, "envelope": b'{"to": ["x@inbound.example"]}'})

    parsed = parse_sendgrid_form(form, {})

    assert parsed.text == "Réparé, 80 €"
    assert parsed.recipients == (REPLY_ADDRESS, "x@inbound.example")


# --------------------------------------------------------------------------- unreadable posts


def test_an_unreadable_post_still_gives_its_sender_subject_and_signed_address() -> None:
    from contractors.mail import salvage_headers

    raw_mode = (
        b'--b\r\nContent-Disposition: form-data; name="envelope"\r\n\r\n'
        b'{"to":["wo+12-0123456789abcdef@inbound.example"]}\r\n'
        b'--b\r\nContent-Disposition: form-data; name="email"\r\n\r\n'
        b"From: =?utf-8?q?Jean_M=C3=A9ca?= <Jean@Plomberie.example>\r\n"
        b"Subject: RE: [R-2026-000123]\r\n \x00ordre\r\n\r\n\x00\x01\x02\r\n--b--\r\n"
    )
    found = salvage_headers(raw_mode)
    assert found.from_address == "jean@plomberie.example"
    assert found.subject == "RE: [R-2026-000123] ordre"  # folded, the NUL dropped
    assert found.recipients == ("wo+12-0123456789abcdef@inbound.example",)

    parsed_mode = (
        b'--b\r\nContent-Disposition: form-data; name="from"\r\n\r\nJean <jean@x.example>\r\n'
        b'--b\r\nContent-Disposition: form-data; name="subject"\r\n\r\nTravaux\r\n--b--\r\n'
    )
    assert salvage_headers(parsed_mode).from_address == "jean@x.example"
    assert salvage_headers(parsed_mode).subject == "Travaux"
    assert salvage_headers(b"\x00\xff junk") == salvage_headers(b"")


def test_only_a_report_s_content_type_is_kept_for_the_reader() -> None:
    report = eml(BASIC_HEADERS, b"x", content_type="multipart/report; report-type=delivery-status")
    assert "content-type" in parse_raw_mime(report).auto_reply_headers
    plain = eml(BASIC_HEADERS, b"x", content_type="text/plain")
    assert "content-type" not in parse_raw_mime(plain).auto_reply_headers
