"""The inbound corpus, posted the way SendGrid Inbound Parse would, read by contractors.mail.

Each case of tests/fixtures/inbound/cases.toml is substituted, turned into the raw- or
parsed-mode form of its ``transport``, decoded as the webhook would and parsed. What the
parser alone can tell is checked here; the reading of the reply (kind, reason, appointment,
quote stripping) is checked through ``contractors.reading`` when that module exists.
"""

from __future__ import annotations

import functools
import random
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from contractors.mail import (
    InboundAttachment,
    ParsedEmail,
    UnreadableEmail,
    decode_sendgrid_fields,
    parse_raw_mime,
    parse_sendgrid_form,
)
from tests.contractors.sendgrid_posts import (
    ACCEPTED_ATTACHMENT_TYPES,
    FIXTURES,
    MAX_ATTACHMENT_BYTES,
    SAMPLE_SUBSTITUTIONS,
    form_for,
    load_case,
    load_cases,
    substitute,
)

CASES = load_cases()
SUBSTITUTIONS = SAMPLE_SUBSTITUTIONS
PARIS = ZoneInfo("Europe/Paris")
# The corpus is dated Tuesday 10 March 2026, 09:00-11:00 in Paris.
FROZEN_NOW = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
DATED_FROM = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
DATED_UNTIL = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)

KINDS = {
    "acknowledged",
    "scheduled",
    "done",
    "cannot_intervene",
    "question",
    "unclear",
    "auto_reply",
}
REASONS = {"tenant_absent", "quote_needed", "not_covered"}
CLIENTS = {"outlook", "gmail", "apple_mail", "thunderbird", "iphone", "android", "other"}
MATCHES = {
    "token",
    "subject",
    "thread",
    "triage",
    "tenant_intake",
    "held_sender",
    "duplicate",
    "unreadable",
}
WITHOUT_KIND = {"triage", "tenant_intake", "unreadable", "duplicate"}
SCHEDULE_FORMATS = [
    "le 12/03 à 14h",
    "passage prévu jeudi 12 mars à 14h",
    "le 12/03 entre 8h et 12h",
    "demain matin",
]


def case_id(case: dict[str, Any]) -> str:
    return str(case["file"]).removesuffix(".eml")


@functools.cache
def parsed_case(file_name: str) -> ParsedEmail | None:
    """The case posted in its transport and parsed; None when the parser finds no email."""
    case = next(c for c in CASES if c["file"] == file_name)
    fields, files = form_for(case, SUBSTITUTIONS)
    try:
        return parse_sendgrid_form(decode_sendgrid_fields(fields), files)
    except UnreadableEmail:
        return None


def accepted(attachment: InboundAttachment) -> bool:
    return (
        attachment.content_type in ACCEPTED_ATTACHMENT_TYPES
        and len(attachment.data) <= MAX_ATTACHMENT_BYTES
    )


# --------------------------------------------------------------------------- the corpus itself


def test_corpus_covers_every_situation() -> None:
    kinds = Counter(c.get("kind") for c in CASES)
    reasons = Counter(c.get("reason") for c in CASES)
    transports = Counter(c["transport"] for c in CASES)
    scheduled_texts = " ".join(
        text.lower()
        for c in CASES
        if c.get("kind") == "scheduled"
        for text in c.get("new_text_contains", [])
    )

    assert len(CASES) >= 40
    assert set(kinds) >= KINDS, KINDS - set(kinds)
    assert set(reasons) >= REASONS, REASONS - set(reasons)
    assert {c["client"] for c in CASES} == CLIENTS
    assert {c["language"] for c in CASES} >= {"fr", "en"}
    assert {c["match"] for c in CASES} == MATCHES
    assert transports["parsed"] >= 10
    assert transports["raw"] >= 10
    for schedule_format in SCHEDULE_FORMATS:
        assert schedule_format in scheduled_texts, schedule_format
    assert any(c.get("setup") == "claim_closed" for c in CASES)
    assert any(c.get("oversized_attachment_mb", 0) > 10 for c in CASES)


def test_every_fixture_has_exactly_one_case() -> None:
    files = [c["file"] for c in CASES]

    assert len(files) == len(set(files))
    assert set(files) == {path.name for path in FIXTURES.glob("*.eml")}


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_case_metadata_is_consistent(case: dict[str, Any]) -> None:
    assert case["client"] in CLIENTS
    assert case["language"] in {"fr", "en", "de"}  # German: mail that is not a reply
    assert case["transport"] in {"raw", "parsed"}
    assert case["match"] in MATCHES
    if case["match"] in WITHOUT_KIND:
        assert "kind" not in case
    else:
        assert case["kind"] in KINDS
    assert ("reason" in case) == (case.get("kind") == "cannot_intervene")
    if "reason" in case:
        assert case["reason"] in REASONS
    if "appointment_end" in case:
        assert case["appointment"] < case["appointment_end"]
    setup = case.get("setup", "")
    assert setup in {"", "claim_closed"} or setup.startswith("duplicate_of:")
    assert (case["match"] == "duplicate") == setup.startswith("duplicate_of:")
    assert case.get("notes")


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_case_parses_as_expected(case: dict[str, Any]) -> None:
    parsed = parsed_case(case["file"])
    reply_to = SUBSTITUTIONS["reply_to"]
    reference = SUBSTITUTIONS["reference"]
    work_order_id = SUBSTITUTIONS["work_order_message_id"]
    match = case["match"]

    if match == "unreadable":
        assert parsed is None or parsed.is_blank
        return
    assert parsed is not None
    assert not parsed.is_blank
    assert parsed.text.strip()
    assert parsed.date is not None
    assert (
        datetime(2026, 3, 10, 8, tzinfo=UTC) <= parsed.date <= datetime(2026, 3, 10, 10, tzinfo=UTC)
    )
    assert parsed.message_id

    thread = parsed.in_reply_to + parsed.references
    if match in {"token", "held_sender", "duplicate"}:
        assert reply_to in parsed.recipients
    else:
        assert reply_to not in parsed.recipients
    if match in {"token", "subject", "thread", "duplicate"}:
        assert parsed.from_address == SUBSTITUTIONS["contractor_email"]
    if match == "held_sender":
        assert parsed.from_address != SUBSTITUTIONS["contractor_email"]
    if match == "subject":
        assert reference in parsed.subject
        assert work_order_id not in thread
    if match == "thread":
        assert work_order_id in thread
        assert reference not in parsed.subject
    if match in {"triage", "tenant_intake"}:
        assert reference not in parsed.subject
        assert work_order_id not in thread
    if match == "tenant_intake":
        assert parsed.from_address == SUBSTITUTIONS["tenant_email"]

    kept = [a for a in parsed.attachments if accepted(a)]
    refused = [a for a in parsed.attachments if not accepted(a)]
    assert len(kept) == case.get("attachments_kept", 0), parsed.attachments
    assert len(refused) == case.get("attachments_refused", 0), parsed.attachments

    for expected in case.get("new_text_contains", []):
        assert substitute(expected, SUBSTITUTIONS) in parsed.text


def test_a_duplicate_carries_the_message_id_of_its_original() -> None:
    for case in CASES:
        if case["match"] != "duplicate":
            continue
        original = case["setup"].removeprefix("duplicate_of:")
        duplicate, first = parsed_case(case["file"]), parsed_case(original)
        assert duplicate is not None
        assert first is not None
        assert duplicate.message_id == first.message_id


def test_auto_replies_with_headers_show_them() -> None:
    for case in CASES:
        parsed = parsed_case(case["file"])
        if case.get("kind") != "auto_reply" or "wording" in case["file"]:
            continue
        assert parsed is not None
        assert parsed.auto_reply_headers, case["file"]


def test_html_is_sanitised_for_every_case() -> None:
    for case in CASES:
        parsed = parsed_case(case["file"])
        if parsed is None or parsed.html is None:
            continue
        for forbidden in ("<script", "<style", "<img", "onclick", "javascript:", "<o:p"):
            assert forbidden not in parsed.html.lower(), (case["file"], forbidden)


def test_damaged_corpus_messages_never_make_the_parser_raise() -> None:
    """Flipped bytes, cuts and stray MIME syntax: a message or UnreadableEmail, nothing else."""
    rng = random.Random(20260310)
    messages = [load_case(c, SUBSTITUTIONS) for c in CASES if not c.get("oversized_attachment_mb")]
    debris = [b"=?", b"?=", b"<", b'"', b"\r\n ", b";", b"--", b"\x00", b"boundary=", b"=?utf-8?B?"]
    for _ in range(400):
        damaged = bytearray(rng.choice(messages))
        position = rng.randrange(len(damaged))
        match rng.randrange(3):
            case 0:
                damaged[position] = rng.randrange(256)
            case 1:
                del damaged[position : position + rng.randrange(1, 400)]
            case _:
                damaged[position:position] = rng.choice(debris) * rng.randrange(1, 4)
        try:
            parsed = parse_raw_mime(bytes(damaged))
        except UnreadableEmail:
            continue
        assert isinstance(parsed.text, str)


# --------------------------------------------------------------------------- reading


def local_minutes(moment: datetime | date | None) -> str | None:
    """``2026-03-12T14:00`` in Paris time, whatever form the reader chose."""
    if moment is None:
        return None
    if isinstance(moment, datetime):
        if moment.tzinfo is not None:
            moment = moment.astimezone(PARIS)
        return moment.strftime("%Y-%m-%dT%H:%M")
    return moment.isoformat()


def appointment_bounds(appointment: Any) -> tuple[str | None, str | None]:
    if appointment is None or isinstance(appointment, datetime | date):
        return local_minutes(appointment), None
    start = getattr(appointment, "start", None) or getattr(appointment, "starts_at", None)
    end = getattr(appointment, "end", None) or getattr(appointment, "ends_at", None)
    return local_minutes(start), local_minutes(end)


def plain_value(value: Any) -> Any:
    return getattr(value, "value", value)


# Where contractors.reading disagrees with the corpus today. The corpus says what a person
# would read; each entry is a known gap of the reader, to remove once it reads the case right.
# Cases the reader is known to get wrong, with why (xfail, not strict): none at present.
READING_GAPS: dict[str, str] = {}

READ_CASES = [
    pytest.param(
        case,
        id=case_id(case),
        marks=[pytest.mark.xfail(reason=READING_GAPS[case["file"]], strict=False)]
        if case["file"] in READING_GAPS
        else [],
    )
    for case in CASES
    if "kind" in case
]


def test_reading_gaps_name_existing_cases() -> None:
    assert set(READING_GAPS) <= {c["file"] for c in CASES if "kind" in c}


@pytest.mark.parametrize("case", READ_CASES)
def test_case_reads_as_expected(case: dict[str, Any]) -> None:
    reading_module = pytest.importorskip("contractors.reading")
    read_reply = getattr(reading_module, "read_reply", None)
    if read_reply is None:
        pytest.skip("contractors.reading has no read_reply yet")
    parsed = parsed_case(case["file"])
    assert parsed is not None

    with freeze_time(FROZEN_NOW):
        reading = read_reply(
            parsed.text,
            written_at=parsed.date,
            tz=PARIS,
            headers=parsed.auto_reply_headers,
            subject=parsed.subject,
        )

    assert plain_value(reading.kind) == case["kind"]
    if "reason" in case:
        assert plain_value(reading.reason) == case["reason"]
    if "confident" in case:
        assert reading.confident is case["confident"]
    if "appointment" in case:
        start, end = appointment_bounds(reading.appointment)
        assert start == case["appointment"]
        if "appointment_end" in case:
            assert end == case["appointment_end"]
    for expected in case.get("new_text_contains", []):
        assert substitute(expected, SUBSTITUTIONS) in reading.new_text
    for excluded in case.get("new_text_excludes", []):
        assert substitute(excluded, SUBSTITUTIONS) not in reading.new_text
