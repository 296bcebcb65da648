"""Reading contractors' replies to a work order: quoted history, auto-replies, meaning."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from contractors.reading import (
    Appointment,
    CannotReason,
    Reading,
    ReplyKind,
    extract_new_text,
    is_auto_reply,
    read_reply,
)

PARIS = ZoneInfo("Europe/Paris")
# A Tuesday morning.
WRITTEN = datetime(2026, 3, 10, 9, 15, tzinfo=PARIS)

# The work order as the landlord sends it. It carries dates, times and words that would
# change the reading if any of it leaked into the "new text".
WORK_ORDER = """Bonjour,

Merci d'intervenir pour la demande R-2026-000123 (Fuite d'eau), créée le 09/03/2026 à 17:40.
Adresse : 12 rue des Lilas, 69003 Lyon, bâtiment B, logement 24
Locataire : Mme Dupont, 06 12 34 56 78, disponible le matin, absente le jeudi 19 mars.
Est-ce que l'intervention peut avoir lieu avant le 20/03 ?

Pour nous indiquer la date d'intervention ou la fin des travaux, répondez simplement à ce message.

Habitat du Rhône – service technique"""
WORK_ORDER_MARKERS = ("répondez simplement à ce message", "R-2026-000123", "Habitat du Rhône")


def at(day: int, hour: int = 0, minute: int = 0, *, month: int = 3, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


def quoted(text: str, prefix: str = "> ") -> str:
    return "\n".join(prefix + line if line else prefix.rstrip() for line in text.splitlines())


def read(text: str, **kwargs: object) -> Reading:
    kwargs.setdefault("written_at", WRITTEN)
    return read_reply(text, **kwargs)  # type: ignore[arg-type]


# --- extract_new_text ----------------------------------------------------------------------

OUTLOOK_FR = f"""Bonjour,

Nous passerons le 12/03 à 14h.

Cordialement,
Jean Martin
Plomberie Martin SARL
Tél. 04 78 00 00 00 – du lundi au vendredi de 8h à 18h

-----Message d'origine-----
De : GRC Habitat <grc@habitat.fr>
Envoyé : mardi 10 mars 2026 08:00
À : Plomberie Martin <contact@plomberie-martin.fr>
Objet : [R-2026-000123] Fuite d'eau – 12 rue des Lilas

{WORK_ORDER}
"""
# Outlook without the "Message d'origine" line, with non-breaking spaces before the colons.
OUTLOOK_FR_HEADERS_ONLY = f"""Bonjour,

Nous passerons le 12/03 à 14h.

Cordialement
Jean Martin

De\u00a0: GRC Habitat <grc@habitat.fr>
Envoyé\u00a0: mardi 10 mars 2026 08:00
À\u00a0: Plomberie Martin <contact@plomberie-martin.fr>
Objet\u00a0: [R-2026-000123] Fuite d'eau – 12 rue des Lilas

{WORK_ORDER}
"""
OUTLOOK_FR_UNDERSCORES = f"""Bonjour,

Nous passerons le 12/03 à 14h.
________________________________
De : GRC Habitat <grc@habitat.fr>
Envoyé : mardi 10 mars 2026 08:00
À : Plomberie Martin <contact@plomberie-martin.fr>
Objet : [R-2026-000123] Fuite d'eau – 12 rue des Lilas

{WORK_ORDER}
"""
OUTLOOK_EN = f"""Hello,

Technician scheduled for 12/03 at 14:00.

Best regards,
John Smith
Smith Plumbing Ltd - +44 20 7946 0000

-----Original Message-----
From: GRC Habitat <grc@habitat.fr>
Sent: Tuesday, March 10, 2026 8:00 AM
To: Smith Plumbing <contact@smith.co.uk>
Subject: [R-2026-000123] Fuite d'eau – 12 rue des Lilas

{WORK_ORDER}
"""
OUTLOOK_EN_HEADERS_ONLY = f"""Hello,

Technician scheduled for 12/03 at 14:00.

From: GRC Habitat <grc@habitat.fr>
Sent: Tuesday, March 10, 2026 8:00 AM
To: Smith Plumbing <contact@smith.co.uk>
Subject: [R-2026-000123] Fuite d'eau – 12 rue des Lilas

{WORK_ORDER}
"""
# An HTML-only mail converted to text: the Outlook headers end up on one line.
OUTLOOK_HTML_FLATTENED = f"""Bonjour,

Nous passerons le 12/03 à 14h.

*De :* GRC Habitat <grc@habitat.fr> *Envoyé :* mardi 10 mars 2026 08:00 *À :* Plomberie Martin *Objet :* [R-2026-000123] Fuite d'eau

{WORK_ORDER}
"""  # noqa: E501 - one flattened line is the point
GMAIL_FR = f"""Bonjour,

Nous passerons le 12/03 à 14h.

Le mar. 10 mars 2026 à 08:00, GRC Habitat <grc@habitat.fr> a écrit :

{quoted(WORK_ORDER)}
"""
GMAIL_FR_WRAPPED = f"""Bonjour,

Nous passerons le 12/03 à 14h.

Le mar. 10 mars 2026 à 08:00, GRC Habitat du Rhône <grc-notifications@habitat-du-rhone.fr>
a écrit :

{quoted(WORK_ORDER)}
"""
GMAIL_FR_WRAPPED_IN_ADDRESS = f"""Bonjour,

Nous passerons le 12/03 à 14h.

Le mar. 10 mars 2026 à 08:00, GRC Habitat du Rhône <
grc-notifications@habitat-du-rhone.fr> a écrit :

{quoted(WORK_ORDER)}
"""
GMAIL_EN = f"""Hello,

We will come on March 12 at 2 pm.

On Tue, Mar 10, 2026 at 8:00 AM GRC Habitat <grc@habitat.fr> wrote:

{quoted(WORK_ORDER)}
"""
GMAIL_EN_WRAPPED = f"""Hello,

We will come on March 12 at 2 pm.

On Tue, Mar 10, 2026 at 8:00 AM GRC Habitat du Rhone <grc-notifications@habitat-du-rhone.fr>
wrote:

{quoted(WORK_ORDER)}
"""
APPLE_MAIL = f"""Bonjour,

Nous passerons le 12/03 à 14h.

Envoyé de mon iPhone

> Le 10 mars 2026 à 08:00, GRC Habitat <grc@habitat.fr> a écrit :
>
{quoted(WORK_ORDER)}
"""
THUNDERBIRD = f"""Bonjour,

Nous passerons le 12/03 à 14h.

Le 10/03/2026 à 08:00, GRC Habitat a écrit :
{quoted(WORK_ORDER, ">")}
"""
IPHONE_EN = f"""Hello,

We will come on March 12 at 2 pm.

Sent from my iPhone

On 10 Mar 2026, at 08:00, GRC Habitat <grc@habitat.fr> wrote:

{quoted(WORK_ORDER)}
"""
SAMSUNG = f"""Bonjour,

Nous passerons le 12/03 à 14h.

Envoyé depuis mon appareil Galaxy

-------- Message d'origine --------
De : GRC Habitat <grc@habitat.fr>
Date : 10/03/2026 08:00 (GMT+01:00)
À : contact@plomberie.fr
Objet : [R-2026-000123] Fuite d'eau – 12 rue des Lilas

{WORK_ORDER}
"""
SAMSUNG_SMARTPHONE = f"""Bonjour,

Nous passerons le 12/03 à 14h.

Envoyé de mon smartphone Samsung Galaxy.
{WORK_ORDER}
"""
OUTLOOK_ANDROID = f"""Bonjour,

Nous passerons le 12/03 à 14h.

Obtenir Outlook pour Android
________________________________
From: GRC Habitat <grc@habitat.fr>
Sent: Tuesday, March 10, 2026 8:00:00 AM
To: contact@plomberie.fr <contact@plomberie.fr>
Subject: [R-2026-000123] Fuite d'eau – 12 rue des Lilas

{WORK_ORDER}
"""
OUTLOOK_IOS_EN = f"""Hello,

We will come on March 12 at 2 pm.

Get Outlook for iOS<https://aka.ms/o0ukef>
{WORK_ORDER}
"""
GMAIL_FORWARD = f"""Bonjour,

Nous passerons le 12/03 à 14h.

---------- Forwarded message ---------
De : GRC Habitat <grc@habitat.fr>
Date: mar. 10 mars 2026 à 08:00
Subject: [R-2026-000123] Fuite d'eau – 12 rue des Lilas
To: <contact@plomberie.fr>

{WORK_ORDER}
"""
APPLE_FORWARD = f"""Bonjour,

Nous passerons le 12/03 à 14h.

Début du message réexpédié :

De: GRC Habitat <grc@habitat.fr>
Objet: [R-2026-000123] Fuite d'eau – 12 rue des Lilas
Date: 10 mars 2026 à 08:00:00 UTC+1
À: contact@plomberie.fr

{WORK_ORDER}
"""
THUNDERBIRD_FORWARD = f"""Bonjour,

Nous passerons le 12/03 à 14h.

-------- Message transféré --------
Sujet : \t[R-2026-000123] Fuite d'eau – 12 rue des Lilas
Date : \tTue, 10 Mar 2026 08:00:00 +0100
De : \tGRC Habitat <grc@habitat.fr>
Pour : \tcontact@plomberie.fr

{WORK_ORDER}
"""
SIGNATURE_DASHES = f"""Bonjour,

Nous passerons le 12/03 à 14h.

-- 
Jean Martin – Plomberie Martin
Astreinte 7j/7 de 8h à 20h

{quoted(WORK_ORDER)}
"""  # noqa: W291 - the "-- " delimiter keeps its trailing space
CRLF_AND_BLANKS = (
    "Bonjour,\r\n\r\n\r\n\r\nNous passerons le 12/03 à 14h.\r\n\r\n\r\n"
    "-----Message d'origine-----\r\nDe : GRC\r\nEnvoyé : mardi\r\n\r\n" + WORK_ORDER
)

FR = "Bonjour,\n\nNous passerons le 12/03 à 14h."
EN = "Hello,\n\nWe will come on March 12 at 2 pm."
EN_OUTLOOK = "Hello,\n\nTechnician scheduled for 12/03 at 14:00."
SAME_ANSWER_EVERY_CLIENT = [
    pytest.param(OUTLOOK_FR, FR + "\n\nCordialement,", id="outlook-fr"),
    pytest.param(OUTLOOK_FR_HEADERS_ONLY, FR + "\n\nCordialement", id="outlook-fr-headers"),
    pytest.param(OUTLOOK_FR_UNDERSCORES, FR, id="outlook-fr-underscores"),
    pytest.param(OUTLOOK_EN, EN_OUTLOOK + "\n\nBest regards,", id="outlook-en"),
    pytest.param(OUTLOOK_EN_HEADERS_ONLY, EN_OUTLOOK, id="outlook-en-headers"),
    pytest.param(OUTLOOK_HTML_FLATTENED, FR, id="outlook-html"),
    pytest.param(GMAIL_FR, FR, id="gmail-fr"),
    pytest.param(GMAIL_FR_WRAPPED, FR, id="gmail-fr-wrapped"),
    pytest.param(GMAIL_FR_WRAPPED_IN_ADDRESS, FR, id="gmail-fr-wrapped-address"),
    pytest.param(GMAIL_EN, EN, id="gmail-en"),
    pytest.param(GMAIL_EN_WRAPPED, EN, id="gmail-en-wrapped"),
    pytest.param(APPLE_MAIL, FR, id="apple-mail"),
    pytest.param(THUNDERBIRD, FR, id="thunderbird"),
    pytest.param(IPHONE_EN, EN, id="iphone-en"),
    pytest.param(SAMSUNG, FR, id="samsung-galaxy"),
    pytest.param(SAMSUNG_SMARTPHONE, FR, id="samsung-smartphone"),
    pytest.param(OUTLOOK_ANDROID, FR, id="outlook-android"),
    pytest.param(OUTLOOK_IOS_EN, EN, id="outlook-ios"),
    pytest.param(GMAIL_FORWARD, FR, id="gmail-forward"),
    pytest.param(APPLE_FORWARD, FR, id="apple-forward"),
    pytest.param(THUNDERBIRD_FORWARD, FR, id="thunderbird-forward"),
    pytest.param(SIGNATURE_DASHES, FR, id="dash-signature"),
    pytest.param(CRLF_AND_BLANKS, FR, id="crlf-blank-lines"),
]


@pytest.mark.parametrize(("body", "expected"), SAME_ANSWER_EVERY_CLIENT)
def test_extract_new_text_keeps_only_the_reply(body: str, expected: str) -> None:
    new_text = extract_new_text(body)

    assert new_text == expected
    for marker in WORK_ORDER_MARKERS:
        assert marker not in new_text


@pytest.mark.parametrize(("body", "expected"), SAME_ANSWER_EVERY_CLIENT)
def test_quoted_work_order_never_changes_the_reading(body: str, expected: str) -> None:
    # The quoted order holds other dates (09/03, 19 mars, 20/03), a question and "absente":
    # any leak would turn this into "several dates", a question or a tenant absence.
    reading = read(body)

    assert reading.kind is ReplyKind.SCHEDULED
    assert reading.confident, reading.notes
    assert reading.appointment == Appointment(at(12, 14), None)
    assert reading.new_text == expected


def test_bottom_posted_reply_is_found_under_the_quote() -> None:
    body = f"""Le 10 mars 2026 à 08:00, GRC Habitat <grc@habitat.fr> a écrit :
{quoted(WORK_ORDER)}

Nous passerons le 12/03 à 14h.

Cordialement,
Jean Martin"""

    assert extract_new_text(body) == "Nous passerons le 12/03 à 14h.\n\nCordialement,"


def test_inline_quotes_are_dropped_and_answers_kept() -> None:
    body = "> Quelle date proposez-vous ?\nLe 12/03 à 14h.\n> Merci\nCordialement"

    assert extract_new_text(body) == "Le 12/03 à 14h.\nCordialement"


@pytest.mark.parametrize(
    "attribution",
    [
        # Without "Le …" (some webmails): quotequail does not know this one.
        "GRC Habitat <grc@habitat.fr> a écrit :",
        # Wrapped over three lines: quotequail joins two at most.
        "Le mardi 10 mars 2026 à 08:00,\nGRC Habitat du Rhône, service technique\n"
        "<grc-notifications@habitat-du-rhone.fr> a écrit :",
    ],
)
def test_attributions_quotequail_misses(attribution: str) -> None:
    body = f"Travaux terminés.\n\n{attribution}\n\n{quoted(WORK_ORDER)}"

    assert extract_new_text(body) == "Travaux terminés."


def test_attribution_in_another_language_is_found_by_quotequail() -> None:
    # Our own rules know French and English; quotequail adds German, Spanish, Dutch…
    attribution = "Am 10.03.2026 um 08:00 schrieb GRC <grc@habitat.fr>:"
    body = f"Ok für den 12/03.\n\n{attribution}\n{quoted(WORK_ORDER)}"

    assert extract_new_text(body) == "Ok für den 12/03."


def test_closing_is_kept_and_signature_under_it_dropped() -> None:
    body = (
        "Travaux terminés, fuite réparée.\n\nBien cordialement,\nJean Martin\n"
        "Plomberie Martin SARL\n06 12 34 56 78\nDu lundi au vendredi de 8h à 12h"
    )

    assert extract_new_text(body) == "Travaux terminés, fuite réparée.\n\nBien cordialement,"


def test_merci_followed_by_a_name_starts_a_signature() -> None:
    body = "Nous passerons le 12/03 à 14h.\nMerci,\nJean Martin\nPlomberie Martin\n04 78 00 00 00"

    assert extract_new_text(body) == "Nous passerons le 12/03 à 14h.\nMerci,"


@pytest.mark.parametrize(
    "body",
    [
        "Merci pour votre message.\nMerci\nNous passerons le 12/03 à 14h",
        "Bien reçu.\nMerci\nNous passerons demain matin",
    ],
)
def test_merci_followed_by_more_text_is_not_a_signature(body: str) -> None:
    assert extract_new_text(body) == body


def test_hyphen_lists_and_contractor_header_like_lines_are_kept() -> None:
    # mail-parser-reply drops hyphen lists as signatures; quotequail's unwrap() reads two
    # "Name : value" lines as a forwarded header block. Neither may happen here.
    body = (
        "Objet : remplacement du joint\nDate : 12/03 à 14h\n"
        "- fuite sous évier\n- joint changé\nTravaux terminés."
    )

    assert extract_new_text(body) == body


def test_sentence_starting_with_le_is_not_glued_to_the_attribution() -> None:
    attribution = "Le 10/03/2026 à 08:00, GRC Habitat a écrit :"
    body = f"Le locataire était absent.\n{attribution}\n{quoted(WORK_ORDER)}"

    assert extract_new_text(body) == "Le locataire était absent."


def test_confidentiality_footer_is_dropped() -> None:
    body = (
        "Travaux terminés.\n\nCe message et ses pièces jointes sont confidentiels et destinés "
        "exclusivement à leur destinataire. Locataire absent."
    )

    assert extract_new_text(body) == "Travaux terminés."


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("", ""),
        ("   \n\n  ", ""),
        ("Travaux terminés", "Travaux terminés"),
        ("\n\nA\n\n\n\nB\n\n\nC\n", "A\n\nB\n\nC"),
        ("A  \nB\t\n", "A\nB"),
        ("Ok\u200b pour\u00a0moi", "Ok pour moi"),
    ],
)
def test_extract_new_text_normalises_whitespace(body: str, expected: str) -> None:
    assert extract_new_text(body) == expected


# --- is_auto_reply -------------------------------------------------------------------------

NORMAL_SUBJECT = "RE: [R-2026-000123] Fuite d'eau – 12 rue des Lilas"
OUT_OF_OFFICE_FR = (
    "Bonjour,\n\nJe suis absente du bureau jusqu'au 16 mars inclus, avec un accès limité à "
    "mes e-mails.\nPour toute urgence, contactez le standard au 04 78 00 00 00.\n\nCordialement"
)
OUT_OF_OFFICE_EN = "Hello,\n\nI'm currently out of office and will be back on March 16.\n\nBest"


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"auto-submitted": "auto-generated"},
        {"AUTO-SUBMITTED": "Auto-Replied"},
        {"X-Autoreply": "yes"},
        {"x-autorespond": "Out of office"},
        {"Precedence": "auto_reply"},
    ],
)
def test_auto_reply_by_headers(headers: dict[str, str]) -> None:
    assert is_auto_reply(headers, NORMAL_SUBJECT, "Bien reçu, nous prenons en charge.")


@pytest.mark.parametrize(
    "subject",
    [
        "Réponse automatique : [R-2026-000123] Fuite d'eau",
        "RÉPONSE AUTOMATIQUE: [R-2026-000123]",
        "Automatic reply: [R-2026-000123] Fuite d'eau",
        "Absence du bureau : [R-2026-000123]",
        "Absence : Jean Martin",
        "Absent du bureau : [R-2026-000123]",
        "Auto: [R-2026-000123] Fuite d'eau",
        "Out of Office: [R-2026-000123]",
    ],
)
def test_auto_reply_by_subject(subject: str) -> None:
    assert is_auto_reply({}, subject, "Bonjour")


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({}, OUT_OF_OFFICE_FR),
        ({}, OUT_OF_OFFICE_EN),
        ({}, "Je serai absent du bureau du 10 au 16 mars."),
        (
            {},
            "Je suis en congés, de retour le 16 mars. En cas d'urgence, appelez le 04 78 00 00 00.",
        ),
        # Outlook's own marker lowers the bar: one out-of-office hint is enough.
        ({"X-Auto-Response-Suppress": "All"}, "Je suis en congés jusqu'au 16 mars."),
    ],
)
def test_auto_reply_by_body(headers: dict[str, str], body: str) -> None:
    assert is_auto_reply(headers, NORMAL_SUBJECT, body)


@pytest.mark.parametrize(
    ("headers", "subject", "body"),
    [
        ({}, NORMAL_SUBJECT, "Locataire absent lors de notre passage, merci de reprendre contact."),
        ({}, "Absence locataire R-2026-000123", "Locataire absent, nous repasserons."),
        ({}, NORMAL_SUBJECT, "Je serai absente le 12/03, pouvez-vous passer le 13 ?"),
        ({}, NORMAL_SUBJECT, "Je suis en congés jusqu'au 16 mars."),
        ({}, NORMAL_SUBJECT, "Je suis absent du bureau demain mais nous passerons le 12/03 à 14h."),
        ({"X-Auto-Response-Suppress": "All"}, NORMAL_SUBJECT, "Bien reçu, nous prenons en charge."),
        ({"Auto-Submitted": "no"}, NORMAL_SUBJECT, "Travaux terminés."),
        ({"Precedence": "first-class"}, NORMAL_SUBJECT, "Travaux terminés."),
        # Newsletters' headers: such a mail goes to a person (see read_reply), never filed.
        ({"precedence": "Bulk"}, NORMAL_SUBJECT, "Bien reçu, nous prenons en charge."),
        ({"Precedence": "junk"}, NORMAL_SUBJECT, "Bien reçu, nous prenons en charge."),
        ({"Precedence": "list"}, NORMAL_SUBJECT, "Bien reçu, nous prenons en charge."),
        ({}, NORMAL_SUBJECT, ""),
        # Out-of-office wording only in the quoted history does not count.
        (
            {},
            NORMAL_SUBJECT,
            f"Travaux terminés.\n\n-----Original Message-----\nFrom: x\n{OUT_OF_OFFICE_EN}",
        ),
    ],
)
def test_not_an_auto_reply(headers: dict[str, str], subject: str, body: str) -> None:
    assert not is_auto_reply(headers, subject, body)


def test_read_reply_reports_auto_replies_and_applies_nothing() -> None:
    reading = read(OUT_OF_OFFICE_FR, subject=NORMAL_SUBJECT)

    assert reading == Reading(ReplyKind.AUTO_REPLY, OUT_OF_OFFICE_FR)
    by_header = read("Nous passerons le 12/03 à 14h.", headers={"Auto-Submitted": "auto-replied"})
    assert by_header.kind is ReplyKind.AUTO_REPLY
    assert by_header.appointment is None


# --- read_reply: appointments --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("Bonjour, nous passerons le 12/03 à 14h", at(12, 14), None),
        ("Passage prévu jeudi 12 mars à 14h.", at(12, 14), None),
        ("Intervention le 12/03 entre 8h et 12h", at(12, 8), at(12, 12)),
        ("Intervention le 12/03 de 8h à 12h", at(12, 8), at(12, 12)),
        ("Intervention prévue le 12/03, 9h-12h", at(12, 9), at(12, 12)),
        ("Intervention le 12/03 entre 8 et 10h30", at(12, 8), at(12, 10, 30)),
        ("Nous passerons demain matin", at(11, 8), at(11, 12)),
        ("Nous passerons demain après-midi", at(11, 14), at(11, 18)),
        ("Nous passerons demain en fin de journée", at(11, 16), at(11, 18)),
        ("Passage jeudi en fin d'après-midi", at(12, 16), at(12, 18)),
        ("Nous passerons cet après-midi", at(10, 14), at(10, 18)),
        ("Le technicien passera après-demain à 10h", at(12, 10), None),
        ("Nous passerons aujourd'hui à 16h", at(10, 16), None),
        ("RDV pris avec la locataire pour lundi 16 mars à 9h30", at(16, 9, 30), None),
        ("on passe le 12 à 14h30", at(12, 14, 30), None),
        ("on passe le 1er à 8h", at(1, 8, month=4), None),
        ("intervention prévue le 12/03/2026 à 14h00", at(12, 14), None),
        ("Intervention prévue le 12.03 à 14 h", at(12, 14), None),
        ("Intervention prévue le 12-03-2026 à 14 h 00", at(12, 14), None),
        ("Intervention prévue à 14:00 le 12 mars", at(12, 14), None),
        ("Le 12.03 à 14 h", at(12, 14), None),
        ("à 14:00 le 12 mars", at(12, 14), None),
        ("Nous passerons jeudi à 14h", at(12, 14), None),
        ("Nous passerons ce jeudi à 10h", at(12, 10), None),
        ("Nous passerons mardi prochain à 10h", at(17, 10), None),
        ("Nous passerons vers midi le 12/03", at(12, 12), None),
        ("We will come on March 12 at 2 pm", at(12, 14), None),
        ("We will come on Thursday, March 12th at 2:30 pm", at(12, 14, 30), None),
        ("Technician scheduled for 12/03 at 14:00", at(12, 14), None),
        ("Our engineer will attend tomorrow between 8am and 12pm", at(11, 8), at(11, 12)),
        # A reference to an earlier message or a past visit is not the appointment.
        ("Suite à votre mail du 09/03, nous passerons le 12/03 à 14h", at(12, 14), None),
        ("Suite à notre passage du 09/03, nous repasserons le 13/03 à 10h", at(13, 10), None),
        ("Suite à votre mail du 10 mars, nous passerons le 12/03 à 14h", at(12, 14), None),
        # A duration is not a second time.
        ("Passage prévu le 12/03 vers 10h30, durée estimée 1h.", at(12, 10, 30), None),
        ("Intervention le 12/03 à 9h, prévoir 2h de coupure d'eau.", at(12, 9), None),
        ("Technician booked for 2 pm on 12/03", at(12, 14), None),
        ("Work will be done on 12/03 at 10am", at(12, 10), None),
        # Opening hours are not a day.
        ("Nous passerons le 12/03 à 14h. Standard ouvert du lundi au vendredi.", at(12, 14), None),
        # Time and date in separate sentences.
        ("Nous passerons le 12/03. Arrivée prévue vers 14h.", at(12, 14), None),
    ],
)
def test_scheduled_with_a_time(text: str, start: datetime, end: datetime | None) -> None:
    reading = read(text)

    assert reading.kind is ReplyKind.SCHEDULED
    assert reading.appointment == Appointment(start, end)
    assert reading.confident, reading.notes
    assert reading.reason is None


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("nous passerons le 12/03", at(12)),
        ("Intervention prévue le 12 mars", at(12)),
        ("Passage du technicien jeudi", at(12)),
        ("Nous interviendrons demain", at(11)),
        ("Nous passerons le 12/03, prévoir environ 2h de travaux", at(12)),
    ],
)
def test_a_date_without_a_time_is_an_all_day_appointment(text: str, day: datetime) -> None:
    reading = read(text)

    assert reading.kind is ReplyKind.SCHEDULED
    assert reading.appointment == Appointment(day, None, all_day=True)
    assert reading.confident, reading.notes


def test_appointment_is_aware_and_in_the_given_zone() -> None:
    reading = read("Nous passerons le 12/03 à 14h")

    assert reading.appointment is not None
    assert reading.appointment.start.tzinfo == PARIS
    assert reading.appointment.start.utcoffset() == timedelta(hours=1)
    summer = read("Nous passerons le 12/07 à 14h")
    assert summer.appointment is not None
    assert summer.appointment.start.utcoffset() == timedelta(hours=2)


def test_another_zone_is_honoured() -> None:
    reunion = ZoneInfo("Indian/Reunion")
    reading = read("Nous passerons demain à 9h", tz=reunion)

    assert reading.appointment == Appointment(datetime(2026, 3, 11, 9, tzinfo=reunion), None)


@pytest.mark.parametrize(
    ("written_at", "text", "expected"),
    [
        # No year: the next such day on or after the day of writing.
        (at(20, 10, month=12), "nous passerons le 05/01 à 9h", at(5, 9, month=1, year=2027)),
        (at(20, 10, month=12), "nous passerons le 5 janvier à 9h", at(5, 9, month=1, year=2027)),
        (at(10, 8), "nous passerons le 10/03 à 14h", at(10, 14)),
        # "le 12": this month, or the next when the 12th has gone by.
        (at(20, 10), "on passe le 12 à 14h", at(12, 14, month=4)),
        # "jeudi" written on a Thursday is the next one; "ce jeudi" is today.
        (at(12, 8), "nous passerons jeudi à 14h", at(19, 14)),
        (at(12, 8), "nous passerons ce jeudi à 14h", at(12, 14)),
        # A naive written_at is wall-clock time in Paris; an aware one is converted.
        (datetime(2026, 3, 10, 9, 15), "nous passerons demain à 9h", at(11, 9)),  # noqa: DTZ001
        (datetime(2026, 3, 10, 23, 30, tzinfo=UTC), "nous passerons demain à 9h", at(12, 9)),
    ],
)
def test_dates_are_resolved_against_the_writing_day(
    written_at: datetime, text: str, expected: datetime
) -> None:
    reading = read(text, written_at=written_at)

    assert reading.kind is ReplyKind.SCHEDULED
    assert reading.appointment == Appointment(expected, None)
    assert reading.confident, reading.notes


@pytest.mark.parametrize(
    ("text", "appointment", "note"),
    [
        ("Nous passerons le 09/03/2026 à 14h", Appointment(at(9, 14), None), "date in the past"),
        ("Nous passerons hier à 14h", Appointment(at(9, 14), None), "date in the past"),
        ("Nous passerons le 12/03 ou le 13/03", None, "several dates"),
        ("Nous passerons le 12/03 à 14h, sinon le 13/03 à 10h", None, "several dates"),
        ("Nous passerons le 12 mars ou jeudi 19 mars", None, "several dates"),
        (
            "Nous passerons le 12/03 à 9h ou à 15h",
            Appointment(at(12), None, all_day=True),
            "several times",
        ),
        ("Nous passerons vers 14h", None, "time without date"),
        (
            "Nous passerons jeudi 13 mars à 14h",
            Appointment(at(13, 14), None),
            "weekday does not match date",
        ),
        ("Nous passerons ce matin à 8h", Appointment(at(10, 8), None), "time in the past"),
        ("Nous passerons le 12/03 avant 12h", Appointment(at(12, 12), None), "time is a limit"),
        ("Le 12/03.", Appointment(at(12), None, all_day=True), "date without visit wording"),
        # "le 09/03" on 10 March: read as next year, as the rule says, but surely a slip.
        (
            "Nous passerons le 09/03 à 14h",
            Appointment(at(9, 14, year=2027), None),
            "date may be in the past",
        ),
        (
            "Nous passerons le 12/03 à 14h, cela vous convient-il ?",
            Appointment(at(12, 14), None),
            "also asks a question",
        ),
    ],
)
def test_doubtful_appointments_are_not_confident(
    text: str, appointment: Appointment | None, note: str
) -> None:
    reading = read(text)

    assert reading.kind is ReplyKind.SCHEDULED
    assert reading.appointment == appointment
    assert not reading.confident
    assert note in reading.notes


# --- read_reply: the other kinds -----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Bien reçu, nous prenons en charge.",
        "Pris en compte",
        "Demande réceptionnée, on s'en occupe",
        "Bien noté, nous revenons vers vous.",
        "Noted, we will handle it",
        "Well received, we'll take care of it.",
        "BIEN RECU",
        "Bien reçu, nous passerons dans la semaine.",
    ],
)
def test_acknowledged(text: str) -> None:
    reading = read(text)

    assert reading.kind is ReplyKind.ACKNOWLEDGED
    assert reading.confident
    assert reading.new_text == text
    assert reading.appointment is None
    assert reading.reason is None


def test_a_visit_without_a_date_is_an_acknowledgement() -> None:
    reading = read("Nous passerons la semaine prochaine.")

    assert reading.kind is ReplyKind.ACKNOWLEDGED
    assert reading.confident
    assert reading.appointment is None
    assert reading.notes == ("visit without date",)


@pytest.mark.parametrize(
    "text",
    [
        "Travaux terminés",
        "Travaux terminés.",
        "Intervention réalisée ce jour, fuite réparée",
        "Intervention réalisée ce matin à 8h, fuite réparée",
        "Dépannage effectué, ascenseur remis en service",
        "C'est réparé",
        "Job done / work completed",
        "The leak has been fixed.",
        "Hello, the job is done. Invoice to follow.",
        "Passage effectué le 09/03, fuite réparée.",
        "Le joint a été remplacé hier, problème résolu.",
        "Bien reçu. Travaux terminés.",
        # Case, accents and typographic apostrophes do not matter.
        "TRAVAUX TERMINÉS",
        "travaux termines",
        "C’est réparé",
        "Travaux\u00a0terminés",
    ],
)
def test_done(text: str) -> None:
    reading = read(text)

    assert reading.kind is ReplyKind.DONE
    assert reading.confident, reading.notes
    assert reading.appointment is None
    assert reading.reason is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "Locataire absent lors de notre passage, merci de reprendre contact",
            CannotReason.TENANT_ABSENT,
        ),
        ("Nous n'avons pas pu intervenir, personne au domicile.", CannotReason.TENANT_ABSENT),
        ("Passage le 09/03 : locataire absente.", CannotReason.TENANT_ABSENT),
        (
            "Personne n'était présent, nous avons laissé un avis de passage.",
            CannotReason.TENANT_ABSENT,
        ),
        ("We went there but no one was home.", CannotReason.TENANT_ABSENT),
        ("Le locataire n'était pas présent, avis de passage déposé.", CannotReason.TENANT_ABSENT),
        ("Un devis est nécessaire, nous vous le transmettons", CannotReason.QUOTE_NEEDED),
        ("Nous vous transmettons un devis.", CannotReason.QUOTE_NEEDED),
        ("A quote is required before we proceed.", CannotReason.QUOTE_NEEDED),
        ("Cette intervention ne relève pas de notre contrat", CannotReason.NOT_COVERED),
        ("hors contrat", CannotReason.NOT_COVERED),
        ("Prestation hors contrat, merci de voir avec le bailleur.", CannotReason.NOT_COVERED),
        ("Sorry, this is not covered by our contract.", CannotReason.NOT_COVERED),
        ("Impossible d'intervenir.", CannotReason.OTHER),
        ("Intervention impossible, accès au local refusé.", CannotReason.OTHER),
        ("We are unable to attend.", CannotReason.OTHER),
        ("Le dépannage n'a pas pu être réalisé, pièce à commander.", CannotReason.OTHER),
        # A known reason beats the generic "impossible".
        ("Impossible d'intervenir : locataire absent.", CannotReason.TENANT_ABSENT),
    ],
)
def test_cannot_intervene(text: str, reason: CannotReason) -> None:
    reading = read(text)

    assert reading.kind is ReplyKind.CANNOT_INTERVENE
    assert reading.reason is reason
    assert reading.confident, reading.notes
    assert reading.appointment is None


@pytest.mark.parametrize(
    "text",
    [
        "Pouvez-vous nous communiquer le code d'accès de l'immeuble ?",
        "Quel est le code d'accès ?",
        "Merci de nous indiquer le code d'accès.",
        "Bonjour, pourriez-vous nous donner le numéro de la locataire",
        "Bien reçu. Pouvez-vous nous communiquer le code ?",
        "Could you send us the tenant's phone number?",
        # Wording of other kinds inside the question is asked, not stated.
        "Les travaux sont-ils terminés ?",
        "Est-ce que la locataire sera absente jeudi ?",
    ],
)
def test_question(text: str) -> None:
    reading = read(text)

    assert reading.kind is ReplyKind.QUESTION
    assert reading.confident
    assert reading.appointment is None


def test_a_date_inside_a_question_is_not_an_appointment() -> None:
    reading = read("Pouvons-nous passer le 12/03 à 14h ?")

    assert reading.kind is ReplyKind.QUESTION
    assert reading.appointment is None
    assert reading.notes == ("date in question",)


@pytest.mark.parametrize(
    ("text", "note"),
    [
        ("ok", "no signal"),
        ("Bonjour", "no signal"),
        ("Bonjour,\n\nCordialement", "no signal"),
        ("Le chat dort sur le canapé.", "no signal"),
        ("Intervention sous 48h", "no signal"),
        ("", "empty"),
        ("   ", "empty"),
    ],
)
def test_unclear(text: str, note: str) -> None:
    reading = read(text)

    assert reading.kind is ReplyKind.UNCLEAR
    assert not reading.confident
    assert reading.notes == (note,)
    assert reading.appointment is None


# --- negations and conflicts ---------------------------------------------------------------


def test_negated_done_with_a_new_visit_is_scheduled() -> None:
    reading = read("les travaux ne sont pas terminés, nous repasserons le 13/03 à 10h")

    assert reading.kind is ReplyKind.SCHEDULED
    assert reading.appointment == Appointment(at(13, 10), None)
    assert reading.confident


@pytest.mark.parametrize(
    "text",
    [
        "Les travaux ne sont pas terminés.",
        "Travaux non terminés",
        "Les travaux ne sont toujours pas terminés",
        "The work is not completed yet.",
        "The repair isn't finished.",
        "The job is not done yet.",
        "La fuite sera réparée rapidement.",
        "Les travaux vont être réalisés prochainement.",
    ],
)
def test_negated_or_future_done_is_not_done(text: str) -> None:
    assert read(text).kind is not ReplyKind.DONE


def test_a_cancelled_visit_is_not_scheduled() -> None:
    reading = read("Nous ne pourrons pas passer demain")

    assert reading.kind is ReplyKind.CANNOT_INTERVENE
    assert reading.reason is CannotReason.OTHER
    assert reading.appointment is None
    assert not reading.confident
    assert "visit cancelled" in reading.notes


def test_a_cancelled_visit_replaced_by_another_is_scheduled() -> None:
    reading = read("Nous ne pourrons pas passer demain, nous passerons jeudi à 14h.")

    assert reading.kind is ReplyKind.SCHEDULED
    assert reading.appointment == Appointment(at(12, 14), None)
    assert reading.confident


@pytest.mark.parametrize(
    "text",
    [
        "La locataire annule le rendez-vous de jeudi.",
        "Rendez-vous de jeudi 14h décommandé par l'occupant.",
        "Nous annulons jeudi et passerons vendredi à 9h.",
        "The tenant cancelled Thursday's appointment.",
    ],
)
def test_a_visit_called_off_is_never_an_appointment(text: str) -> None:
    reading = read(text)

    assert reading.kind is ReplyKind.ACKNOWLEDGED
    assert reading.appointment is None
    assert not reading.confident  # a person reads what happens next
    assert "visit cancelled" in reading.notes


def test_a_called_off_visit_with_a_new_date_in_its_own_sentence_is_scheduled() -> None:
    reading = read("Le rendez-vous de jeudi est annulé. Nous passerons vendredi 13/03 à 9h.")

    assert reading.kind is ReplyKind.SCHEDULED
    assert reading.appointment == Appointment(at(13, 9), None)
    assert reading.confident


def test_a_visit_that_is_not_called_off_is_scheduled() -> None:
    reading = read("Le rendez-vous de jeudi à 14h n'est pas annulé, nous serons là.")

    assert reading.kind is ReplyKind.SCHEDULED
    assert reading.appointment == Appointment(at(12, 14), None)


def test_a_forwarded_cancellation_with_a_question_is_a_question() -> None:
    reading = read(
        "Je vous transfère le message de la locataire qui annule le rendez-vous de jeudi.\n"
        "Devons-nous reprogrammer de notre côté ou attendez-vous qu'elle vous recontacte ?"
    )

    assert reading.kind is ReplyKind.QUESTION
    assert reading.appointment is None


@pytest.mark.parametrize(
    ("text", "reason", "appointment"),
    [
        ("Travaux terminés mais locataire absent.", CannotReason.TENANT_ABSENT, None),
        (
            "Dépannage effectué, un devis suivra pour le remplacement.",
            CannotReason.QUOTE_NEEDED,
            None,
        ),
        (
            "Travaux terminés. Nous repasserons le 20/03 pour la finition.",
            None,
            Appointment(at(20), None, all_day=True),
        ),
        (
            "Locataire absent, nous repasserons le 13/03 à 10h.",
            CannotReason.TENANT_ABSENT,
            Appointment(at(13, 10), None),
        ),
        (
            "Un devis sera établi après notre passage le 12/03.",
            CannotReason.QUOTE_NEEDED,
            Appointment(at(12), None, all_day=True),
        ),
    ],
)
def test_conflicting_signals_are_unclear(
    text: str, reason: CannotReason | None, appointment: Appointment | None
) -> None:
    reading = read(text)

    assert reading.kind is ReplyKind.UNCLEAR
    assert not reading.confident
    assert "conflicting signals" in reading.notes
    # What was found is kept as a suggestion for the person who decides.
    assert reading.reason is reason
    assert reading.appointment == appointment


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Travaux terminés. Pouvez-vous prévenir la locataire ?", ReplyKind.DONE),
        ("Locataire absent, pouvez-vous la relancer ?", ReplyKind.CANNOT_INTERVENE),
        ("Nous passerons le 12/03 à 14h. Quel est le code d'accès ?", ReplyKind.SCHEDULED),
    ],
)
def test_a_question_next_to_a_stronger_signal_needs_a_person(text: str, kind: ReplyKind) -> None:
    reading = read(text)

    assert reading.kind is kind
    assert not reading.confident
    assert "also asks a question" in reading.notes


def test_several_reasons_are_not_confident() -> None:
    reading = read("Locataire absent et de toute façon hors contrat.")

    assert reading.kind is ReplyKind.CANNOT_INTERVENE
    assert reading.reason is CannotReason.TENANT_ABSENT
    assert not reading.confident
    assert "several reasons" in reading.notes


def test_an_accepted_quote_is_not_a_reason_to_stop() -> None:
    reading = read("Suite à l'acceptation du devis, nous passerons le 12/03 à 14h.")

    assert reading.kind is ReplyKind.SCHEDULED
    assert reading.confident


# --- the public types ----------------------------------------------------------------------


def test_stored_values_do_not_change() -> None:
    assert [kind.value for kind in ReplyKind] == [
        "acknowledged",
        "scheduled",
        "done",
        "cannot_intervene",
        "question",
        "unclear",
        "auto_reply",
    ]
    assert [reason.value for reason in CannotReason] == [
        "tenant_absent",
        "quote_needed",
        "not_covered",
        "other",
    ]


def test_readings_are_immutable() -> None:
    reading = read("Travaux terminés")

    with pytest.raises(dataclasses.FrozenInstanceError):
        reading.kind = ReplyKind.UNCLEAR  # type: ignore[misc]
    assert reading.notes == ()
    assert reading.new_text == "Travaux terminés"


# --- read_reply: only a reply about the work is read with confidence --------------------------

NEWSLETTER_RATES = """Hello,

Good news for savers: our rates are fixed until June, and our 3.45% Fixed Rate bond is open
to new customers this week. Switch today and see what you could save.

Read more: https://bank.example/rates
Unsubscribe: https://bank.example/unsubscribe"""
GERMAN_TERMINE = """Sehr geehrte Damen und Herren,

die Termine für die Wartung der Aufzüge sind bestätigt. Bitte informieren Sie die Mieter.

Mit freundlichen Grüßen
Hausverwaltung Müller"""
BOUNCE_TEXT = """This is the mail system at host mx.example.

Your message was received by the server but could not be delivered to one or more
recipients. The mail system said: 550 5.1.1 user unknown"""


@pytest.mark.parametrize(
    ("text", "headers", "note"),
    [
        # Each of these changed a claim on a95777f (resolved it, or moved it to in_progress).
        (
            NEWSLETTER_RATES,
            {"List-Unsubscribe": "<https://bank.example/u>"},
            "newsletter or mailing list",
        ),
        (
            "Our rates are fixed until June.",
            {"List-Id": "<offers.bank.example>"},
            "newsletter or mailing list",
        ),
        (GERMAN_TERMINE, {}, "neither French nor English"),
        (
            "Los trabajos están terminados, gracias por su paciencia y saludos",
            {},
            "neither French nor English",
        ),
        (BOUNCE_TEXT, {}, "delivery report"),
        (
            "Received.",
            {"Content-Type": "multipart/report; report-type=delivery-status"},
            "delivery report",
        ),
        (
            "Received.",
            {"From": "Mail Delivery System <MAILER-DAEMON@mx.example>"},
            "delivery report",
        ),
        ("Received.", {"From": "postmaster@mx.example"}, "delivery report"),
        (
            "Bien reçu, nous prenons en charge.",
            {"Auto-Submitted": "auto-generated", "X-Failed-Recipients": "x@example.org"},
            "delivery report",
        ),
        # A genuine reply that only carries Precedence: bulk: a person reads it, nothing is filed.
        ("Travaux terminés, fuite réparée.", {"Precedence": "bulk"}, "newsletter or mailing list"),
        (
            "Travaux terminés.\n" + "\n".join(f"https://example.org/{n}" for n in range(4)),
            {},
            "newsletter or mailing list",
        ),
    ],
)
def test_what_is_not_a_reply_about_the_work_goes_to_a_person(text, headers, note) -> None:
    reading = read(text, headers=headers, subject="Newsletter")

    assert reading.kind is ReplyKind.UNCLEAR
    assert reading.confident is False
    assert note in reading.notes


def test_a_bounce_subject_is_a_delivery_report() -> None:
    reading = read("Received.", subject="Undelivered Mail Returned to Sender")
    assert (reading.kind, reading.notes) == (ReplyKind.UNCLEAR, ("delivery report",))


@pytest.mark.parametrize(
    "text",
    [
        "Switch today: 3.45% Fixed Rate mortgage.",
        "Our rates are fixed until June.",
        "Prices were fixed last year.",
        "We offer fixed prices and finished goods.",
        "Your issue has been resolved? Tell us in our survey.",
    ],
)
def test_a_done_word_that_is_not_about_the_work_is_not_done(text: str) -> None:
    assert read(text).kind is not ReplyKind.DONE


@pytest.mark.parametrize(
    "text",
    [
        "Fixed.",
        "Réparé.",
        "Terminé, merci.",
        "The leak is fixed.",
        "It's fixed now.",
        "We fixed the leak this morning.",
        "Repaired the tap yesterday, all good.",
        "Everything has been repaired.",
        "Parfait, c'est réparé.",
        "Bonjour, l'intervention a été réalisée ce matin. Le joint du robinet a été changé et nous "
        "avons vérifié qu'il n'y a plus de fuite sous l'évier de la cuisine, la locataire était "
        "présente et a pu constater le bon fonctionnement. Cordialement",
    ],
)
def test_a_done_word_about_the_work_is_done(text: str) -> None:
    reading = read(text)
    assert (reading.kind, reading.confident) == (ReplyKind.DONE, True)


def test_a_bare_received_counts_only_in_a_short_reply() -> None:
    assert read("Received, thanks.").kind is ReplyKind.ACKNOWLEDGED
    long_text = (
        "We received many questions about our new offers this month and our team answered "
        "them in the frequently asked questions page, which also covers delivery times, "
        "payment options and returns for every product of the catalogue."
    )
    assert read(long_text).kind is not ReplyKind.ACKNOWLEDGED


def test_a_long_text_goes_to_a_person() -> None:
    text = "Travaux terminés.\n\n" + "Le détail de notre intervention suit. " * 40
    reading = read(text)
    assert (reading.kind, reading.confident) == (ReplyKind.DONE, False)
    assert "long text" in reading.notes


@pytest.mark.parametrize(
    "text",
    [
        "Bonjour, nous passerons le 12/03 à 14h. Cordialement",
        "Travaux terminés, merci.",
        "OK pour jeudi 14h",
        "Hello, the technician will come on Thursday at 2pm. Best regards",
        "Bien reçu, nous prenons en charge la demande.",
        "Le technicien passera demain entre 8h et 12h",
        "Ok pour le rdv de demain a 14h",
        "Ja",  # too short to tell
    ],
)
def test_french_and_english_replies_are_not_taken_for_another_language(text: str) -> None:
    assert "neither French nor English" not in read(text).notes


@pytest.mark.parametrize(
    "text",
    [
        "I lavori sono terminati, grazie mille e saluti",
        "De werkzaamheden zijn klaar, met vriendelijke groeten",
        "Os trabalhos foram concluídos, obrigado e atenciosamente",
        "Работы завершены, спасибо за ожидание коллеги",
    ],
)
def test_other_languages_go_to_a_person(text: str) -> None:
    reading = read(text)
    assert (reading.kind, reading.confident) == (ReplyKind.UNCLEAR, False)
    assert "neither French nor English" in reading.notes


def test_a_reply_on_the_attribution_line_keeps_its_text() -> None:
    body = (
        "Parfait, c'est réparé. Le lun. 7 déc. 2026 à 09:00, GRC Habitat <grc@habitat.fr> a "
        "écrit :\n" + quoted(WORK_ORDER)
    )
    assert extract_new_text(body) == "Parfait, c'est réparé."
    reading = read(body)
    assert (reading.kind, reading.confident) == (ReplyKind.DONE, True)
    wrapped = (
        "Done, all fixed. On Mon, 7 Dec 2026 at 09:00, GRC Habitat <grc@habitat.fr>\nwrote:\n"
        + quoted(WORK_ORDER)
    )
    assert extract_new_text(wrapped) == "Done, all fixed."


# --- read_reply: the mail's own Date and its arrival -----------------------------------------


def test_dates_are_read_from_the_mail_s_own_date() -> None:
    # Written on Monday 9 March, processed on Tuesday: "demain" is the 10th.
    reading = read(
        "Nous passerons demain à 14h.",
        written_at=at(9, 18),
        received_at=at(9, 18, 5),
    )
    assert reading.appointment == Appointment(at(10, 14), None)
    assert reading.confident


@pytest.mark.parametrize(
    ("text", "written", "received", "note"),
    [
        (
            "Nous passerons demain à 14h.",
            at(1, 9),
            at(10, 9),
            "sent long before or after it arrived",
        ),
        ("Travaux terminés.", at(20, 9), at(10, 9), "sent long before or after it arrived"),
        # Written yesterday, stuck in a queue: "aujourd'hui à 10h" is already over on arrival.
        ("Nous passerons aujourd'hui à 10h.", at(9, 8), at(10, 9), "time in the past"),
        ("Nous passerons le 15/08 à 14h.", at(10, 9), at(10, 9, 5), "date months ahead"),
    ],
)
def test_a_date_far_from_the_arrival_goes_to_a_person(text, written, received, note) -> None:
    reading = read(text, written_at=written, received_at=received)
    assert reading.confident is False
    assert note in reading.notes


@pytest.mark.parametrize(
    ("text", "start", "end", "all_day"),
    [
        ("Nous passerons demain matin.", at(11, 8), at(11, 12), False),
        ("Passage le 17/03 entre 8h et 12h.", at(17, 8), at(17, 12), False),
        ("Nous interviendrons le 17/03 dans la matinée.", at(17, 8), at(17, 12), False),
        ("Le technicien passera le 17/03 l'après-midi.", at(17, 14), at(17, 18), False),
        ("Nous passerons le 17/03 à 14h.", at(17, 14), None, False),
    ],
)
def test_windows_are_windows(text, start, end, all_day) -> None:
    reading = read(text, received_at=WRITTEN)
    assert reading.kind is ReplyKind.SCHEDULED
    assert reading.confident
    assert reading.appointment == Appointment(start, end, all_day)
