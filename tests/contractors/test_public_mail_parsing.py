"""Real-world public mail (tests/fixtures/public_mail) read by contractors.mail, as the raw
MIME message and as both SendGrid posts: a message or UnreadableEmail, never an exception."""

from __future__ import annotations

import pytest

from contractors.mail import (
    ParsedEmail,
    UnreadableEmail,
    decode_sendgrid_fields,
    parse_raw_mime,
    parse_sendgrid_form,
)
from tests.contractors.sendgrid_posts import SAMPLE_SUBSTITUTIONS, parsed_form, raw_form
from tests.grc.inbound.test_public_mail_corpus import FILES, public_mail, sent_from

REPLY_TO = SAMPLE_SUBSTITUTIONS["reply_to"]
CONTRACTOR = SAMPLE_SUBSTITUTIONS["contractor_email"]


def _checked(parse, *args) -> ParsedEmail | None:
    try:
        parsed = parse(*args)
    except UnreadableEmail:
        return None
    assert isinstance(parsed.text, str)
    assert isinstance(parsed.subject, str)
    assert parsed.html is None or isinstance(parsed.html, str)
    return parsed


@pytest.mark.parametrize("file_name", FILES, ids=[f.removesuffix(".eml") for f in FILES])
def test_public_mail_parses_or_is_unreadable(file_name: str) -> None:
    original = public_mail(file_name)
    as_reply = sent_from(original, CONTRACTOR)

    _checked(parse_raw_mime, original)
    from_raw = _checked(parse_raw_mime, as_reply, [REPLY_TO])
    for build in (raw_form, parsed_form):
        fields, files = build(as_reply, [REPLY_TO])
        from_form = _checked(parse_sendgrid_form, decode_sendgrid_fields(fields), files)
        if from_form is not None:
            assert from_form.from_address == CONTRACTOR
            assert REPLY_TO in from_form.recipients
    if from_raw is not None:
        assert from_raw.from_address == CONTRACTOR
