#!/usr/bin/env python3
"""Inbound e-mail benchmark: contractors' replies through the SendGrid webhook and the
``inbound`` RQ workers, against PostgreSQL and Redis on loopback.

1. creates a fresh PostgreSQL database, runs the migrations, loads the demo landlord
   (``--dwellings``, no claims) and creates, in-process with the product's ``create_claim``,
   claims the demo's multiservice contract covers until there are enough work orders (one
   per reply, plus those of the diagnosis); empties a dedicated Redis database (FLUSHDB on
   that number only);
2. builds one realistic reply per work order up front, to its signed Reply-To and from the
   contractor's own address: ~50% appointment, ~30% "travaux terminés", ~20% acknowledgement,
   question or out-of-office; Outlook, Gmail, Apple Mail, Thunderbird and Android layouts
   quoting the real work-order e-mail; raw-MIME posts mostly, some parsed-mode posts,
   3-20 KB, a few with a small JPEG;
3. starts gunicorn (2 workers, production settings, REDIS_URL set) and ``--workers``
   ``flask grc worker inbound`` processes, each in its own process group;
4. posts the replies from ``--concurrency`` keep-alive-less ``http.client`` threads as fast
   as the webhook takes them (or at ``--rate``), then waits until no row is ``received``;
5. reports webhook posts/s and latency, end-to-end e-mails/s (first post -> last
   ``processed_at``, and first post -> last commit from the line the workers log for each
   e-mail after its commit), the steady 10-90% rate and the rate once posting is over, the
   post -> processed and post -> committed delays, how many RQ jobs ran, the statuses;
   checks every e-mail was processed once (1 attempt, token match on its own work order),
   what each reply meant against what was read, the claims moved, no ``unreadable``, no
   failed RQ job;
6. diagnosis with the run's workers stopped: one worker alone on stored e-mails (capacity
   and CPU per e-mail), then ``workers.jobs.process_received_emails`` in-process on a few
   hundred stored e-mails: plain (wall time, SQL statements per e-mail), then under cProfile
   (parse / read / match / apply / SQL);
7. stops every process it started, always, and writes JSON (+ logs, profile) to
   bench/results/.

Only counts and timings are printed: never a name, number, address or message text.
Run ``python bench/inbound.py --help``; see bench/README.md.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import cProfile
import dataclasses
import http.client
import json
import logging
import os
import pstats
import random
import re
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.header import Header
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

ROOT = Path(__file__).resolve().parent.parent
# First, before this folder: bench/notifications.py must not hide the notifications package.
sys.path.insert(0, str(ROOT))
from benchlib import (  # noqa: E402
    CLK_TCK,
    RESULTS,
    Group,
    adopt_env,
    backend_cpu,
    code_state,
    cpu_delta,
    cpu_seconds,
    create_database,
    database_url,
    drop_database,
    flask_worker,
    log,
    log_lines,
    machine,
    percentiles,
    production_env,
    queue_state,
    require_loopback,
    seed_demo,
    start_gunicorn,
    stop_on_sigterm,
    system_cpu,
    utc_stamp,
    wait_for_rq_workers,
    write_result,
)

TARGET_PER_S = 100.0
PARIS = ZoneInfo("Europe/Paris")
INBOUND_DOMAIN = "inbound.bailleur-bench.invalid"
CONTACT_ADDRESS = "contact@bailleur-bench.invalid"
EMAIL_FROM = "ne-pas-repondre@bailleur-bench.invalid"
LANDLORD = "Habitat Bench"
MULTISERVICE_CONTRACT = "MS-2025-01"
# A developer's own settings and provider keys never reach the bench's processes.
PROVIDER_AND_GRC = ("TWILIO_", "SENDGRID_", "GRC_")

# What each kind of reply must become (InboundStatus) and what it does to its claim.
EXPECTED_STATUS = {
    "scheduled": "applied",
    "done": "applied",
    "acknowledged": "applied",
    "question": "review",
    "out_of_office": "filed",
}
EXPECTED_CLAIM = {
    "scheduled": "in_progress",
    "done": "resolved",
    "acknowledged": "in_progress",
    "question": "assigned",
    "out_of_office": "assigned",
}


# --- The world: demo landlord, claims routed to the multiservice contractor ------------------


@dataclass
class Target:
    """One work order waiting for a reply (the generated data never leaves this process)."""

    work_order_id: int
    claim_id: int
    reply_address: str
    subject: str
    text: str
    html: str
    sent_at: datetime
    contractor_email: str
    contractor_name: str


class NoHandOver:
    """An outbox dispatcher that hands nothing over: setup rows stay pending."""

    def __call__(self, messages: list[tuple[Any, Any]]) -> None:
        return None

    def wake(self) -> None:
        return None


def create_work_orders(app: Any, count: int, seed: int) -> tuple[list[Target], dict[str, Any]]:
    """Claims on occupied dwellings of the multiservice contract's residences, in categories
    it covers, through ``create_claim`` (routing, work order and its e-mail included)."""
    import sqlalchemy as sa

    from grc import worktable
    from grc.claims.models import Category, IntakeChannel, LocationKind
    from grc.claims.operations import NewClaim, create_claim
    from grc.contracts import work_orders
    from grc.contracts.models import (
        Contract,
        WorkOrder,
        contract_categories,
        contract_residences,
    )
    from grc.db import utcnow
    from grc.extensions import db
    from grc.housing.models import Building, Dwelling
    from grc.messaging.models import OutboxMessage, Purpose
    from grc.people.models import Lease, Role, User

    rng = random.Random(seed)
    dispatchers = worktable.dispatchers(app)
    assert dispatchers is not None
    worktable.set_dispatchers(app, dataclasses.replace(dispatchers, delivery=NoHandOver()))
    started = time.perf_counter()
    try:
        with app.app_context():
            session = db.session
            contract = session.execute(
                sa.select(Contract).where(Contract.reference == MULTISERVICE_CONTRACT)
            ).scalar_one()
            categories = list(
                session.execute(
                    sa.select(Category.code)
                    .join(contract_categories, contract_categories.c.category_id == Category.id)
                    .where(
                        contract_categories.c.contract_id == contract.id,
                        Category.location_kind == LocationKind.DWELLING,
                    )
                    .order_by(Category.code)
                ).scalars()
            )
            today = datetime.now(PARIS).date()
            dwellings = sorted(
                set(
                    session.execute(
                        sa.select(Dwelling.id)
                        .join(Building, Building.id == Dwelling.building_id)
                        .join(
                            contract_residences,
                            contract_residences.c.residence_id == Building.residence_id,
                        )
                        .join(Lease, Lease.dwelling_id == Dwelling.id)
                        .where(
                            contract_residences.c.contract_id == contract.id,
                            Lease.start_date <= today,
                            sa.or_(Lease.end_date.is_(None), Lease.end_date >= today),
                        )
                    ).scalars()
                )
            )
            agent = session.execute(
                sa.select(User).where(User.role == Role.AGENT).order_by(User.id).limit(1)
            ).scalar_one()
            if not categories or not dwellings:
                raise SystemExit("the demo has no multiservice contract with occupied dwellings")
            created = routed = 0
            order_ids: list[int] = []
            while len(order_ids) < count:
                if created > 2 * count + 100:
                    raise SystemExit(
                        f"only {len(order_ids)} of {created} claims got a work "
                        "order: routing no longer sends them to the contract"
                    )
                batch: list[int] = []
                for _ in range(min(50, count - len(order_ids))):
                    claim = create_claim(
                        session,
                        NewClaim(
                            category=rng.choice(categories),
                            channel=IntakeChannel.PHONE,
                            description=rng.choice(DESCRIPTIONS),
                            dwelling_id=rng.choice(dwellings),
                        ),
                        agent,
                        utcnow(),
                    )
                    created += 1
                    batch.append(claim.id)
                session.commit()
                found = (
                    session.execute(
                        sa.select(WorkOrder.id)
                        .where(WorkOrder.claim_id.in_(batch))
                        .order_by(WorkOrder.id)
                    )
                    .scalars()
                    .all()
                )
                routed += len(found)
                order_ids.extend(found)
            order_ids = order_ids[:count]
            claims_s = time.perf_counter() - started

            targets: list[Target] = []
            for first in range(0, len(order_ids), 500):
                chunk = order_ids[first : first + 500]
                orders = (
                    session.execute(sa.select(WorkOrder).where(WorkOrder.id.in_(chunk)))
                    .scalars()
                    .all()
                )
                mails = {
                    m.claim_id: m
                    for m in session.execute(
                        sa.select(OutboxMessage).where(
                            OutboxMessage.claim_id.in_([o.claim_id for o in orders]),
                            OutboxMessage.purpose == Purpose.WORK_ORDER,
                        )
                    ).scalars()
                }
                for order in sorted(orders, key=lambda o: o.id):
                    mail = mails[order.claim_id]
                    targets.append(
                        Target(
                            work_order_id=order.id,
                            claim_id=order.claim_id,
                            reply_address=work_orders.reply_address(order),
                            subject=mail.subject or "",
                            text=mail.body_text,
                            html=mail.body_html or "",
                            sent_at=order.created_at,
                            contractor_email=order.contractor.email,
                            contractor_name=order.contractor.name,
                        )
                    )
            db.session.remove()
    finally:
        worktable.set_dispatchers(app, dispatchers)
    return targets, {
        "claims_created": created,
        "work_orders": routed,
        "categories": len(categories),
        "occupied_dwellings": len(dwellings),
        "seconds": time.perf_counter() - started,
        "claims_seconds": claims_s,
    }


DESCRIPTIONS = (
    "Fuite sous l'évier de la cuisine, l'eau coule dans le placard.",
    "Le radiateur de la chambre reste froid depuis hier.",
    "La chasse d'eau coule en permanence.",
    "Le volet roulant du salon est bloqué en position basse.",
    "Plus d'eau chaude au robinet de la salle de bain.",
    "La serrure de la porte d'entrée ferme mal.",
    "La VMC ne fonctionne plus, forte humidité dans la salle de bain.",
    "Prise électrique de la cuisine qui ne fonctionne plus.",
)


# --- Replies: what contractors send, as their mail clients write it --------------------------

WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
MONTHS_SHORT = (
    "janv.",
    "févr.",
    "mars",
    "avr.",
    "mai",
    "juin",
    "juil.",
    "août",
    "sept.",
    "oct.",
    "nov.",
    "déc.",
)
FIRST = ("Julien", "Nicolas", "Sandrine", "Thomas", "Céline", "Mehdi", "Laurent", "Sophie")
LAST = ("Weber", "Muller", "Schmitt", "Klein", "Hoffmann", "Becker", "Wagner", "Meyer")
PARTS = (
    "le joint",
    "le flexible",
    "le mécanisme",
    "le thermostat",
    "le moteur",
    "le cylindre",
    "le disjoncteur",
    "le siphon",
)


def _visit(rng: random.Random, today: date) -> tuple[date, int, int]:
    """A visit 2-30 days ahead, Monday to Saturday, between 8:00 and 17:30."""
    while True:
        day = today + timedelta(days=rng.randint(2, 30))
        if day.weekday() < 6:
            return day, rng.randint(8, 17), rng.choice((0, 0, 0, 30))


def _hm(hour: int, minute: int) -> str:
    return f"{hour}h" if minute == 0 else f"{hour}h{minute:02d}"


def new_text(kind: str, rng: random.Random, today: date, signature: str) -> str:
    """What the contractor writes above the quoted work order (French, as they do)."""
    if kind == "scheduled":
        day, hour, minute = _visit(rng, today)
        dm, dmy = f"{day:%d/%m}", f"{day:%d/%m/%Y}"
        long = f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]}"
        return rng.choice(
            (
                f"Bonjour,\n\nNous passerons le {dm} à {_hm(hour, minute)}.\n\nCordialement,\n"
                f"{signature}",
                f"Bonjour,\n\nIntervention prévue le {long} à {_hm(hour, minute)}.\n"
                f"Le technicien a prévenu l'occupant.\n\nBien cordialement,\n{signature}",
                f"Bonjour,\nRendez-vous pris avec l'occupant le {dmy} entre {hour}h et "
                f"{min(hour + 2, 19)}h.\nCordialement\n{signature}",
                f"Bonjour,\n\nNotre technicien passera le {long} à {_hm(hour, minute)}.\n\n"
                f"Merci,\n{signature}",
                f"Passage prévu le {dm} à {_hm(hour, minute)}.",
            )
        )
    if kind == "done":
        return rng.choice(
            (
                "Travaux terminés, fuite réparée.",
                f"Bonjour,\n\nIntervention réalisée ce jour, {rng.choice(PARTS)} a été remplacé. "
                f"Travaux terminés.\n\nCordialement,\n{signature}",
                f"Bonjour,\nDépannage effectué, tout fonctionne à nouveau.\nBonne journée\n"
                f"{signature}",
                f"Travaux terminés.\nBon d'intervention signé par l'occupant en pièce jointe.\n\n"
                f"{signature}",
                f"Bonjour,\n\nC'est réparé. La facture suivra.\n\nCordialement,\n{signature}",
            )
        )
    if kind == "acknowledged":
        return rng.choice(
            (
                f"Bien reçu, nous prenons en charge.\n\nCordialement,\n{signature}",
                f"Bonjour,\nDemande réceptionnée, on s'en occupe.\n{signature}",
            )
        )
    if kind == "question":
        return rng.choice(
            (
                f"Bonjour,\n\nPouvez-vous nous communiquer le code d'accès de l'immeuble ?\n\n"
                f"Merci,\n{signature}",
                f"Bonjour,\nPourriez-vous nous donner un autre numéro pour joindre l'occupant ?\n"
                f"Cordialement\n{signature}",
            )
        )
    back = today + timedelta(days=rng.randint(3, 15))
    return (
        f"Bonjour,\n\nJe suis absent du bureau jusqu'au {back.day} {MONTHS[back.month - 1]} "
        "inclus, avec un accès limité à ma messagerie. Pour toute urgence, merci de "
        "contacter notre standard.\n\nCordialement,\n" + signature
    )


def _quoted(text: str, prefix: str = "> ") -> str:
    return "\n".join(prefix + line if line else prefix.rstrip() for line in text.splitlines())


def _html_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _html_lines(text: str, tag: str = "p", cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return "".join(
        f"<{tag}{attr}>{_html_escape(line) or '&nbsp;'}</{tag}>\n" for line in text.splitlines()
    )


# Outlook's HTML head: font and style definitions, which make most of its size.
_OUTLOOK_STYLES = (
    '@font-face {font-family:"Cambria Math"; panose-1:2 4 5 3 5 4 6 3 2 4;}',
    "@font-face {font-family:Calibri; panose-1:2 15 5 2 2 2 4 3 2 4;}",
    "@font-face {font-family:Aptos; panose-1:2 11 0 4 2 2 2 2 2 4;}",
    "p.MsoNormal, li.MsoNormal, div.MsoNormal {margin:0cm; font-size:11.0pt; "
    'font-family:"Aptos",sans-serif; mso-ligatures:standardcontextual; mso-fareast-language:'
    "EN-US;}",
    "a:link, span.MsoHyperlink {mso-style-priority:99; color:#467886; text-decoration:underline;}",
    'span.EmailStyle17 {mso-style-type:personal-compose; font-family:"Aptos",sans-serif; '
    "color:windowtext;}",
    ".MsoChpDefault {mso-style-type:export-only; font-size:11.0pt; mso-fareast-language:EN-US;}",
    "@page WordSection1 {size:612.0pt 792.0pt; margin:70.85pt 70.85pt 70.85pt 70.85pt;}",
    "div.WordSection1 {page:WordSection1;}",
    "p.MsoListParagraph, li.MsoListParagraph {mso-style-priority:34; margin-top:0cm; "
    "margin-right:0cm; margin-bottom:0cm; margin-left:36.0pt; font-size:11.0pt;}",
    "span.apple-converted-space {mso-style-name:apple-converted-space;}",
    "p.xmsonormal, li.xmsonormal {mso-style-name:x_msonormal; margin:0cm; font-size:11.0pt; "
    'font-family:"Calibri",sans-serif;}',
)
_SIGNATURE_ROW = (
    '<tr><td style="padding:0cm 5.4pt 0cm 5.4pt;border:none;vertical-align:top">'
    '<p class="MsoNormal" style="font-size:8.0pt;color:#595959;font-family:'
    'Arial,sans-serif">{}</p></td></tr>\n'
)
_DISCLAIMER = (
    "Ce message et ses pièces jointes sont confidentiels et destinés exclusivement "
    "à leurs destinataires. Si vous l'avez reçu par erreur, merci de le détruire et "
    "d'en avertir l'expéditeur. Pensez à l'environnement avant d'imprimer ce message."
)


def _padding(style: str, size: int, rng: random.Random) -> str:
    """About ``size`` characters of what a mail client really adds to its HTML."""
    if size <= 0:
        return ""
    chunks: list[str] = []
    total = 0
    if style == "outlook":
        while total < size:
            rule = rng.choice(_OUTLOOK_STYLES) + "\n"
            chunks.append(rule)
            total += len(rule)
        return "<style><!--\n/* Font Definitions */\n" + "".join(chunks) + "--></style>\n"
    while total < size:  # a designed HTML signature: a table of small-print rows
        row = _SIGNATURE_ROW.format(
            _html_escape(
                rng.choice(
                    (
                        _DISCLAIMER,
                        "Service planification – du lundi au vendredi, 7h30-17h",
                        "Certifié Qualibat – RGE – Membre de la FFB",
                        "Suivez-nous sur nos réseaux",
                    )
                )
            )
        )
        chunks.append(row)
        total += len(row)
    return (
        '<table class="MsoNormalTable" border="0" cellspacing="0" cellpadding="0">\n'
        + "".join(chunks)
        + "</table>\n"
    )


def _small_jpeg(rng: random.Random, size: int) -> bytes:
    """A valid 8x8 grey baseline JPEG, grown to ``size`` bytes with an APP1 (EXIF-like)
    segment, as phone photos carry."""
    quant = bytes([1] * 64)
    dqt = b"\xff\xdb\x00\x43\x00" + quant
    sof = b"\xff\xc0\x00\x0b\x08\x00\x08\x00\x08\x01\x01\x11\x00"
    # One DC code (category 0) and one AC code (EOB): every block is flat grey.
    dht_dc = b"\xff\xc4\x00\x14\x00" + bytes([1] + [0] * 15) + b"\x00"
    dht_ac = b"\xff\xc4\x00\x14\x10" + bytes([1] + [0] * 15) + b"\x00"
    sos = b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"
    scan = b"\x00"  # DC diff 0 then EOB, both 1-bit codes "0", padded with zero bits
    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    fixed = 2 + len(app0) + len(dqt) + len(sof) + len(dht_dc) + len(dht_ac) + len(sos) + 1 + 2
    filler = max(0, min(65000, size - fixed - 4))
    app1 = (
        b"\xff\xe1"
        + (filler + 2).to_bytes(2, "big")
        + bytes(rng.randrange(0, 255) for _ in range(filler))
    )
    return b"\xff\xd8" + app0 + app1 + dqt + sof + dht_dc + dht_ac + sos + scan + b"\xff\xd9"


def _qp(text: str, charset: str) -> bytes:
    data = text.replace("\r\n", "\n").encode(charset, errors="replace")
    encoded = binascii.b2a_qp(data, quotetabs=False, istext=True, header=False)
    return encoded.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _b64(data: bytes) -> bytes:
    raw = base64.b64encode(data)
    return b"\r\n".join(raw[i : i + 76] for i in range(0, len(raw), 76))


def _header(value: str) -> str:
    return value if value.isascii() else Header(value, "utf-8").encode(maxlinelen=76)


@dataclass
class Reply:
    kind: str  # scheduled, done, acknowledged, question, out_of_office
    client: str  # outlook, gmail, apple, thunderbird, android
    mode: str  # raw, parsed
    body: bytes  # the multipart/form-data post
    content_type: str
    attachment: bool
    target: Target
    notes: dict[str, Any] = field(default_factory=dict)


def build_reply(
    target: Target, kind: str, rng: random.Random, now: datetime, mode: str, with_jpeg: bool
) -> Reply:
    """One reply to a work order, as the contractor's mail client writes it, wrapped in the
    post SendGrid Inbound Parse makes of it (raw or parsed mode)."""
    local_now = now.astimezone(PARIS)
    today = local_now.date()
    person = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    signature = f"{person}\n{target.contractor_name}\nService planification"
    client = rng.choices(
        ("outlook", "gmail", "apple", "thunderbird", "android"), (40, 25, 15, 10, 10)
    )[0]
    text_new = new_text(kind, rng, today, signature)
    sent = target.sent_at.astimezone(PARIS)
    original_from = f"{LANDLORD} <{EMAIL_FROM}>"
    charset = "utf-8"
    headers: list[tuple[str, str]] = []
    subject_prefix = {
        "outlook": "RE: ",
        "gmail": "Re: ",
        "apple": "Re: ",
        "thunderbird": "Re: ",
        "android": "RE: ",
    }[client]
    subject = subject_prefix + target.subject

    if kind == "out_of_office":  # Outlook's automatic answer: no quoted history
        client = "outlook"
        subject = "Réponse automatique : " + target.subject
        headers += [("Auto-Submitted", "auto-replied"), ("X-Auto-Response-Suppress", "All")]
        plain = text_new
        html_body = _html_lines(text_new, "p", "MsoNormal")
        quoted_html = ""
    elif client == "outlook":
        charset = rng.choice(("utf-8", "iso-8859-1"))  # Outlook FR: cp1252 labelled latin-1
        separator = rng.choice(("-----Message d'origine-----", "_" * 32))
        history = (
            f"{separator}\nDe : {original_from}\n"
            f"Envoyé : {WEEKDAYS[sent.weekday()]} {sent.day} {MONTHS[sent.month - 1]} "
            f"{sent.year} {sent:%H:%M}\nÀ : {target.contractor_name} "
            f"<{target.contractor_email}>\nObjet : {target.subject}\n\n{target.text}"
        )
        plain = f"{text_new}\n\n{history}"
        html_body = _html_lines(text_new, "p", "MsoNormal")
        quoted_html = (
            '<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt '
            '0cm 0cm 0cm">' + _html_lines(history, "p", "MsoNormal") + "</div>"
        )
    else:
        if client == "thunderbird":
            attribution = f"Le {sent:%d/%m/%Y} à {sent:%H:%M}, {LANDLORD} a écrit :"
        elif client == "apple":
            attribution = (
                f"Le {sent.day} {MONTHS[sent.month - 1]} {sent.year} à "
                f"{sent:%H:%M}, {original_from} a écrit :"
            )
        else:
            attribution = (
                f"Le {WEEKDAYS[sent.weekday()][:3]}. {sent.day} "
                f"{MONTHS_SHORT[sent.month - 1]} {sent.year} à {sent:%H:%M}, "
                f"{LANDLORD} <{EMAIL_FROM}> a écrit :"
            )
        top = text_new
        if client == "apple":
            top += "\n\nEnvoyé de mon iPhone"
        elif client == "android":
            top += "\n\nEnvoyé depuis mon smartphone Samsung Galaxy."
        plain = f"{top}\n\n{attribution}\n\n{_quoted(target.text)}\n"
        html_body = f'<div dir="ltr">{_html_lines(top, "div")}</div>'
        quoted_html = (
            f'<div class="gmail_quote"><div dir="ltr" class="gmail_attr">'
            f'{_html_escape(attribution)}<br></div><blockquote class="gmail_quote" '
            'style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);'
            f'padding-left:1ex">{target.html}</blockquote></div>'
        )

    attachments: list[tuple[str, str, bytes]] = []
    if with_jpeg:
        attachments.append(
            (
                f"IMG_{now:%Y%m%d}_{rng.randint(100000, 235959)}.jpg",
                "image/jpeg",
                _small_jpeg(rng, rng.randint(3000, 7000)),
            )
        )

    # The size a post should reach: 3-20 KB, most of them small.
    wanted = int(3000 + 17000 * rng.random() ** 1.6)
    wrapper_style = "outlook" if client == "outlook" else "signature"
    base_html = (
        f'<html><head><meta charset="{charset}"></head><body>{{pad_head}}'
        f"{html_body}{{pad_sig}}{quoted_html}</body></html>"
    )

    def assemble(pad: int) -> tuple[bytes, str, list[tuple[str, str]], str, str]:
        padding = _padding(wrapper_style, pad, random.Random(pad))
        html = base_html.replace("{pad_head}", padding if wrapper_style == "outlook" else "")
        html = html.replace("{pad_sig}", padding if wrapper_style != "outlook" else "")
        message_headers = [
            (
                "From",
                formataddr(
                    (
                        person if client != "outlook" else target.contractor_name,
                        target.contractor_email,
                    )
                ),
            ),
            (
                "To",
                formataddr((LANDLORD, target.reply_address))
                if rng.random() < 0.5
                else target.reply_address,
            ),
            ("Subject", subject),
            ("Date", format_datetime(now.astimezone(PARIS))),
            ("Message-ID", f"<{secrets.token_hex(12)}@mail.{client}.bench.invalid>"),
            ("MIME-Version", "1.0"),
            *headers,
        ]
        if kind != "out_of_office":
            parent = f"<{secrets.token_urlsafe(16)}.filter0042p1las1.1.0@sendgrid.net>"
            message_headers += [("In-Reply-To", parent), ("References", parent)]
        return (*_mime(message_headers, plain, html, charset, attachments, client), html, plain)

    raw, top_type, mime_headers, html, plain_text = assemble(0)
    estimate = len(raw) + 600
    if estimate < wanted:
        raw, top_type, mime_headers, html, plain_text = assemble(int((wanted - estimate) / 1.05))

    envelope = json.dumps({"to": [target.reply_address], "from": target.contractor_email})
    common = {
        "to": _form_header(mime_headers, "To"),
        "from": _form_header(mime_headers, "From"),
        "subject": subject,
        "envelope": envelope,
        "sender_ip": "192.0.2.10",
        "spam_score": f"{rng.uniform(-0.5, 2.5):.3f}",
        "SPF": "pass",
        "dkim": "{@" + target.contractor_email.split("@")[1] + " : pass}",
    }
    if mode == "raw":
        fields: dict[str, bytes] = {
            "email": raw,
            **{k: v.encode() for k, v in common.items()},
            "charsets": b'{"to":"UTF-8","from":"UTF-8","subject":"UTF-8"}',
        }
        body, content_type = multipart(fields, {})
    else:
        header_block = "\n".join(f"{name}: {_header(value)}" for name, value in mime_headers)
        header_block += f"\nContent-Type: {top_type}\n"
        field_charset = "UTF-8" if charset == "utf-8" else "iso-8859-1"
        codec = "utf-8" if charset == "utf-8" else "cp1252"
        fields = {
            "headers": header_block.encode(),
            "text": plain_text.encode(codec, errors="replace"),
            "html": html.encode(codec, errors="replace"),
            **{k: v.encode() for k, v in common.items()},
            "attachments": str(len(attachments)).encode(),
            "charsets": json.dumps(
                {
                    "to": "UTF-8",
                    "from": "UTF-8",
                    "subject": "UTF-8",
                    "text": field_charset,
                    "html": field_charset,
                }
            ).encode(),
        }
        files = {}
        if attachments:
            info = {}
            for number, (filename, content_type, data) in enumerate(attachments, 1):
                files[f"attachment{number}"] = (filename, content_type, data)
                info[f"attachment{number}"] = {
                    "filename": filename,
                    "name": filename,
                    "type": content_type,
                }
            fields["attachment-info"] = json.dumps(info).encode()
        body, content_type = multipart(fields, files)
    return Reply(kind, client, mode, body, content_type, bool(attachments), target)


def _form_header(headers: list[tuple[str, str]], name: str) -> str:
    return next(value for key, value in headers if key == name)


def _mime(
    headers: list[tuple[str, str]],
    plain: str,
    html: str,
    charset: str,
    attachments: list[tuple[str, str, bytes]],
    client: str,
) -> tuple[bytes, str, list[tuple[str, str]]]:
    """The MIME message: multipart/alternative (text + HTML, quoted-printable), inside a
    multipart/mixed when there is an attachment."""
    codec = "utf-8" if charset == "utf-8" else "cp1252"
    flowed = "; format=flowed" if client == "thunderbird" else ""
    alt = "----=_NextPart_" + secrets.token_hex(10)
    text_part = (
        f'Content-Type: text/plain; charset="{charset}"{flowed}\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    ).encode()
    text_part += _qp(plain, codec) + b"\r\n"
    html_part = (
        f'Content-Type: text/html; charset="{charset}"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    ).encode()
    html_part += _qp(html, codec) + b"\r\n"
    alternative = (
        f"--{alt}\r\n".encode()
        + text_part
        + f"--{alt}\r\n".encode()
        + html_part
        + f"--{alt}--\r\n".encode()
    )
    alt_type = f'multipart/alternative; boundary="{alt}"'
    if attachments:
        mixed = "----=_NextPart_" + secrets.token_hex(10)
        body = f"--{mixed}\r\nContent-Type: {alt_type}\r\n\r\n".encode() + alternative
        for filename, content_type, data in attachments:
            body += (
                f'--{mixed}\r\nContent-Type: {content_type}; name="{filename}"\r\n'
                f'Content-Disposition: attachment; filename="{filename}"\r\n'
                "Content-Transfer-Encoding: base64\r\n\r\n"
            ).encode()
            body += _b64(data) + b"\r\n"
        body += f"--{mixed}--\r\n".encode()
        top_type = f'multipart/mixed; boundary="{mixed}"'
    else:
        body, top_type = alternative, alt_type
    head = "".join(f"{name}: {_header(value)}\r\n" for name, value in headers)
    head += f"Content-Type: {top_type}\r\n\r\n"
    return head.encode() + body, top_type, headers


def multipart(
    fields: dict[str, bytes], files: dict[str, tuple[str, str, bytes]]
) -> tuple[bytes, str]:
    """multipart/form-data as SendGrid posts it, byte for byte."""
    boundary = "xYzZY" + secrets.token_hex(8)
    parts: list[bytes] = []
    for name, data in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + data
            + b"\r\n"
        )
    for name, (filename, content_type, data) in files.items():
        parts.append(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'
            ).encode()
            + data
            + b"\r\n"
        )
    return b"".join(
        parts
    ) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


KIND_WEIGHTS = (
    ("scheduled", 50),
    ("done", 30),
    ("acknowledged", 8),
    ("question", 6),
    ("out_of_office", 6),
)


def build_replies(
    targets: list[Target], seed: int, parsed_share: float, jpeg_share: float
) -> list[Reply]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    kinds = [k for k, _ in KIND_WEIGHTS]
    weights = [w for _, w in KIND_WEIGHTS]
    replies = []
    for target in targets:
        kind = rng.choices(kinds, weights)[0]
        mode = "parsed" if rng.random() < parsed_share else "raw"
        jpeg = kind in ("done", "scheduled") and rng.random() < jpeg_share / 0.8
        replies.append(build_reply(target, kind, rng, now, mode, jpeg))
    return replies


def describe_replies(replies: list[Reply]) -> dict[str, Any]:
    sizes = [len(r.body) for r in replies]
    return {
        "count": len(replies),
        "kinds": dict(Counter(r.kind for r in replies)),
        "clients": dict(Counter(r.client for r in replies)),
        "modes": dict(Counter(r.mode for r in replies)),
        "with_jpeg": sum(r.attachment for r in replies),
        "post_bytes": {k: round(v) for k, v in percentiles(sizes).items()},
        "post_bytes_total": sum(sizes),
    }


# --- Services ---------------------------------------------------------------------------------


def start_workers(
    env: dict[str, str], count: int, stamp: str, tag: str, redis_conn: Any
) -> list[Group]:
    from rq import Worker as RqWorker

    before = RqWorker.count(connection=redis_conn)
    workers = [
        flask_worker(env, "inbound", RESULTS / f"inbound-{stamp}-{tag}{n}.log")
        for n in range(count)
    ]
    wait_for_rq_workers(redis_conn, workers, before + count)
    time.sleep(0.5)  # settled in their blocking dequeue
    return workers


_PROCESSED_LINE = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) INFO workers\.jobs inbound e-mail (\d+): "
    r"(\w+)$",
    re.MULTILINE,
)


def completions(paths: list[Path]) -> tuple[dict[int, float], int]:
    """e-mail id -> when its processing was committed (the job logs each e-mail after its
    commit; local time, millisecond resolution), and how many such lines there were."""
    found: dict[int, float] = {}
    lines = 0
    for path in paths:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        for stamp, millis, email_id, _status in _PROCESSED_LINE.findall(text):
            ended = time.mktime(time.strptime(stamp, "%Y-%m-%d %H:%M:%S")) + int(millis) / 1000
            found[int(email_id)] = ended
            lines += 1
    return found, lines


# --- Load generator ---------------------------------------------------------------------------


def post_all(
    address: str, path: str, auth: str, replies: list[Reply], concurrency: int, rate: float
) -> list[dict[str, Any]]:
    """Post every reply once, from ``concurrency`` threads taking the next one in turn;
    paced at ``rate`` posts/s when given."""
    host, port = address.split(":")
    results: list[dict[str, Any] | None] = [None] * len(replies)
    lock = threading.Lock()
    next_index = iter(range(len(replies)))
    started = time.time()

    def run() -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        while True:
            with lock:
                index = next(next_index, None)
            if index is None:
                break
            if rate > 0:
                wait = started + index / rate - time.time()
                if wait > 0:
                    time.sleep(wait)
            reply = replies[index]
            headers = {
                "Content-Type": reply.content_type,
                "Authorization": auth,
                "Content-Length": str(len(reply.body)),
                "User-Agent": "Sendlib/1.0",
            }
            sent_at = time.time()
            t0 = time.perf_counter()
            status, email_id, error = 0, None, None
            try:
                conn.request("POST", path, body=reply.body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                status = response.status
                if status == 200:
                    email_id = json.loads(data)["id"]
                if response.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException, ValueError) as exc:
                error = type(exc).__name__
                conn.close()
            results[index] = {
                "index": index,
                "sent_at": sent_at,
                "answered_at": time.time(),
                "latency": time.perf_counter() - t0,
                "status": status,
                "id": email_id,
                "error": error,
            }
        conn.close()

    threads = [threading.Thread(target=run, name=f"poster-{n}") for n in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [r for r in results if r is not None]


def wait_processed(
    db_url: str, ids: list[int], timeout: float, stall: float, workers: list[Group]
) -> tuple[bool, float | None]:
    """Until none of ``ids`` is ``received``; returns (complete, time it was first seen)."""
    started = last_progress = last_report = time.time()
    last_left = len(ids)
    with psycopg.connect(db_url, autocommit=True) as conn:
        while True:
            left = conn.execute(
                "SELECT count(*) FROM inbound_emails WHERE id = ANY(%s) AND status = 'received'",
                (ids,),
            ).fetchone()[0]
            now = time.time()
            if left == 0:
                return True, now
            if left != last_left:
                last_left, last_progress = left, now
            if now - last_report >= 5:
                log(f"  {len(ids) - left}/{len(ids)} processed")
                last_report = now
            if now - started > timeout or now - last_progress > stall:
                log(f"  gave up waiting: {left} still received")
                return False, None
            for worker in workers:
                if worker.process.poll() is not None:
                    log(f"  a worker exited ({worker.process.returncode}):\n{worker.tail()}")
                    return False, None
            time.sleep(0.1)


# --- Figures and checks -----------------------------------------------------------------------


def fetch_rows(db_url: str, ids: list[int]) -> dict[int, dict[str, Any]]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT e.id, e.status, e.attempts, e.matched_by, e.work_order_id, e.claim_id, "
            "e.reply_kind, extract(epoch FROM e.received_at), extract(epoch FROM e.processed_at),"
            " (e.reading->>'confident') = 'true', e.error IS NOT NULL, c.status, "
            "(SELECT count(*) FROM inbound_attachments a WHERE a.email_id = e.id) "
            "FROM inbound_emails e LEFT JOIN claims c ON c.id = e.claim_id "
            "WHERE e.id = ANY(%s)",
            (ids,),
        ).fetchall()
    keys = (
        "id",
        "status",
        "attempts",
        "matched_by",
        "work_order_id",
        "claim_id",
        "reply_kind",
        "received_at",
        "processed_at",
        "confident",
        "has_error",
        "claim_status",
        "attachments",
    )
    return {row[0]: dict(zip(keys, row, strict=True)) for row in rows}


def run_figures(
    replies: list[Reply],
    posts: list[dict[str, Any]],
    rows: dict[int, dict[str, Any]],
    all_seen_at: float | None,
    done: dict[int, float],
    rq_jobs: int,
) -> dict[str, Any]:
    ok = [p for p in posts if p["status"] == 200]
    first_post = min(p["sent_at"] for p in posts)
    last_answer = max(p["answered_at"] for p in posts)
    processed = sorted(
        float(r["processed_at"]) for r in rows.values() if r["processed_at"] is not None
    )
    figures: dict[str, Any] = {
        "posted": len(posts),
        "accepted_200": len(ok),
        "failed_posts": dict(
            Counter(str(p["status"] or p["error"]) for p in posts if p["status"] != 200)
        ),
        "post_window_s": last_answer - first_post,
        "posts_per_s": len(posts) / (last_answer - first_post),
        "post_latency_s": percentiles([p["latency"] for p in ok]),
    }
    if processed:
        n = len(processed)
        lo, hi = processed[n // 10], processed[(9 * n) // 10]
        delays = []
        for post in ok:
            row = rows.get(post["id"])
            if row and row["processed_at"] is not None:
                delays.append(float(row["processed_at"]) - post["sent_at"])
        timeline = Counter(int(t - first_post) for t in processed)
        if done:
            ended = sorted(done.values())
            m = len(ended)
            figures["completed"] = {
                "emails": m,
                "rq_jobs": rq_jobs,
                "emails_per_s": m / (ended[-1] - first_post),
                "steady_per_s_10_90": (
                    ((9 * m) // 10 - m // 10) / (ended[(9 * m) // 10] - ended[m // 10])
                    if ended[(9 * m) // 10] > ended[m // 10]
                    else None
                ),
                "per_s_after_last_post": (
                    sum(1 for t in ended if t > last_answer) / (ended[-1] - last_answer)
                    if ended[-1] > last_answer + 1
                    else None
                ),
                "delay_post_to_committed_s": percentiles(
                    [done[p["id"]] - p["sent_at"] for p in ok if p["id"] in done]
                ),
                "note": "from the workers' logs: the line the job writes for each e-mail after "
                "its commit; rq_jobs is how many RQ jobs (batches) ran",
            }
        figures.update(
            {
                "processed": n,
                "end_to_end_s": processed[-1] - first_post,
                "emails_per_s": n / (processed[-1] - first_post),
                "steady_per_s_10_90": ((9 * n) // 10 - n // 10) / (hi - lo) if hi > lo else None,
                "processing_after_last_post_s": processed[-1] - last_answer,
                # The workers alone, once the webhook is idle (the backlog drains).
                "per_s_after_last_post": (
                    sum(1 for t in processed if t > last_answer) / (processed[-1] - last_answer)
                    if processed[-1] > last_answer + 1
                    else None
                ),
                "all_seen_processed_after_first_post_s": (
                    all_seen_at - first_post if all_seen_at else None
                ),
                "delay_post_to_processed_s": percentiles(delays),
                "processed_per_second": [timeline.get(s, 0) for s in range(max(timeline) + 1)],
                "note": "processed_at is the worker's clock when the job started processing "
                "(grc.inbound.processing sets it to the job's `now`); the commit follows",
            }
        )
    return figures


def check_run(
    replies: list[Reply],
    posts: list[dict[str, Any]],
    rows: dict[int, dict[str, Any]],
    redis_after: dict[str, int],
    processed_lines: int,
) -> dict[str, Any]:
    by_id = {p["id"]: replies[p["index"]] for p in posts if p["id"] is not None}
    statuses = Counter(r["status"] for r in rows.values())
    attempts = Counter(r["attempts"] for r in rows.values())
    wrong_order = sum(
        1 for i, r in rows.items() if r["work_order_id"] != by_id[i].target.work_order_id
    )
    matched_by = Counter(r["matched_by"] for r in rows.values())
    misread: Counter[str] = Counter()
    claim_wrong: Counter[str] = Counter()
    read_as: dict[str, Counter[str]] = {}
    for email_id, row in rows.items():
        reply = by_id[email_id]
        read_as.setdefault(reply.kind, Counter())[f"{row['status']}/{row['reply_kind']}"] += 1
        if row["status"] != EXPECTED_STATUS[reply.kind]:
            misread[reply.kind] += 1
        elif row["claim_status"] != EXPECTED_CLAIM[reply.kind]:
            claim_wrong[reply.kind] += 1
    applied_claims = Counter(r["claim_status"] for r in rows.values() if r["status"] == "applied")
    expected_jpegs = sum(1 for i in rows if by_id[i].attachment)
    kept_jpegs = sum(r["attachments"] for r in rows.values())
    distinct_ids = len({p["id"] for p in posts if p["id"] is not None})
    ok = (
        len(rows) == len(posts) == distinct_ids
        and statuses.get("received", 0) == 0
        and statuses.get("unreadable", 0) == 0
        and attempts.get(1, 0) == len(rows)
        and wrong_order == 0
        and matched_by.get("token", 0) == len(rows)
        and redis_after["failed"] == 0
        and redis_after["queued"] == 0
        and redis_after["started"] == 0
        and processed_lines == len(rows)
        and not claim_wrong
        and kept_jpegs == expected_jpegs
    )
    return {
        "ok": ok,
        "rows": len(rows),
        "distinct_ids": distinct_ids,
        "statuses": dict(statuses),
        "attempts": {str(k): v for k, v in attempts.items()},
        "matched_by": {str(k): v for k, v in matched_by.items()},
        "wrong_work_order": wrong_order,
        "read_not_as_written": dict(misread),
        "read_as_by_kind": {k: dict(v) for k, v in read_as.items()},
        "claims_not_moved_as_expected": dict(claim_wrong),
        "claims_of_applied": dict(applied_claims),
        "jpegs_sent": expected_jpegs,
        "attachments_kept": kept_jpegs,
        "rq": redis_after,
        "processed_lines_in_worker_logs": processed_lines,
        "note": "read_not_as_written counts replies the reader classified differently from "
        "what the generator wrote (not a failure of the pipeline: they go to review)",
    }


# --- Diagnosis --------------------------------------------------------------------------------


def store_in_process(app: Any, replies: list[Reply], *, hand_over: bool) -> list[int]:
    """Store posts the way the webhook does (``store_inbound``), without HTTP; the inbound
    hand-over is switched off unless asked for."""
    from grc import worktable
    from grc.db import utcnow
    from grc.extensions import db
    from grc.inbound.operations import store_inbound

    dispatchers = worktable.dispatchers(app)
    assert dispatchers is not None
    worktable.set_dispatchers(app, dataclasses.replace(dispatchers, inbound=NoHandOver()))
    ids: list[int] = []
    try:
        with app.app_context():
            for reply in replies:
                ids.append(store_inbound(db.session, reply.content_type, reply.body, utcnow()))
            db.session.commit()
            db.session.remove()
    finally:
        worktable.set_dispatchers(app, dispatchers)
    if hand_over:
        dispatchers.inbound(ids)  # every job enqueued at once (one Redis pipeline)
    return ids


def single_worker(
    app: Any, env: dict[str, str], replies: list[Reply], db_url: str, redis_conn: Any, stamp: str
) -> dict[str, Any]:
    """One worker alone on e-mails stored beforehand: its capacity and CPU per e-mail."""
    ids = store_in_process(app, replies, hand_over=False)
    workers = start_workers(env, 1, stamp, "single", redis_conn)
    try:
        cpu_before = workers[0].cpu()
        from grc import worktable

        started = time.time()
        worktable.dispatchers(app).inbound(ids)  # type: ignore[union-attr]  (registered by create_app)
        complete, _ = wait_processed(db_url, ids, 600, 60, workers)
        wall = time.time() - started
        cpu = cpu_delta(cpu_before, workers[0].cpu())
    finally:
        for worker in workers:
            worker.stop()
    rows = fetch_rows(db_url, ids)
    processed = sorted(float(r["processed_at"]) for r in rows.values() if r["processed_at"])
    span = processed[-1] - processed[0] if len(processed) > 1 else 0
    return {
        "emails": len(ids),
        "complete": complete,
        "wall_s": wall,
        "per_s": (len(processed) - 1) / span if span else None,
        "ms_per_email": 1000 * span / (len(processed) - 1) if span else None,
        "cpu_ms_per_email": 1000 * cpu / len(ids),
        "statuses": dict(Counter(r["status"] for r in rows.values())),
        "attempts": dict(Counter(str(r["attempts"]) for r in rows.values())),
        "rq": queue_state(redis_conn, "inbound"),
    }


def _sum(stats: dict[Any, Any], path_part: str, name: str) -> tuple[int, float]:
    calls = cumtime = 0.0
    for (filename, _, funcname), (_cc, nc, _tt, ct, _) in stats.items():
        if funcname == name and path_part in filename.replace("\\", "/"):
            calls, cumtime = calls + nc, cumtime + ct
    return int(calls), cumtime


PROFILED = (
    ("job: workers.jobs.process_received_emails", "workers/jobs.py", "process_received_emails"),
    (
        "claim a batch: inbound.claim_received_emails",
        "grc/inbound/operations.py",
        "claim_received_emails",
    ),
    ("one e-mail: jobs._process_claimed_email", "workers/jobs.py", "_process_claimed_email"),
    (
        "processing: inbound.processing.process_inbound_email",
        "grc/inbound/processing.py",
        "process_inbound_email",
    ),
    ("lock + load the row (Session.get FOR UPDATE)", "sqlalchemy/orm/session.py", "get"),
    ("parse: posts.parse_post (form + MIME)", "contractors/posts.py", "parse_post"),
    ("  parse: the form (email.message_from_bytes)", "email/__init__.py", "message_from_bytes"),
    ("  parse: mail.parse_raw_mime", "contractors/mail.py", "parse_raw_mime"),
    ("  parse: mail.sanitise_html (nh3)", "contractors/mail.py", "sanitise_html"),
    ("  parse: mail.html_to_text", "contractors/mail.py", "html_to_text"),
    ("repeat key: processing._claim_repeat_key", "grc/inbound/processing.py", "_claim_repeat_key"),
    ("attachments: processing._keep_attachments", "grc/inbound/processing.py", "_keep_attachments"),
    ("read: reading.read_reply", "contractors/reading.py", "read_reply"),
    ("  read: reading.extract_new_text", "contractors/reading.py", "extract_new_text"),
    ("match: processing._match", "grc/inbound/processing.py", "_match"),
    ("apply: processing._apply", "grc/inbound/processing.py", "_apply"),
    (
        "  apply: updates.apply_contractor_update",
        "grc/contracts/updates.py",
        "apply_contractor_update",
    ),
    ("  apply: operations.transition_claim", "grc/claims/operations.py", "transition_claim"),
    (
        "  apply: operations.schedule_appointment",
        "grc/claims/operations.py",
        "schedule_appointment",
    ),
    (
        "  apply: notify.notify_tenant (SMS rendered and queued)",
        "grc/claims/notify.py",
        "notify_tenant",
    ),
    ("commit (Session.commit, flush included)", "sqlalchemy/orm/session.py", "commit"),
    ("flush (Session.flush: autoflush + commit)", "sqlalchemy/orm/session.py", "flush"),
    ("outbox hand-over to RQ (after commit)", "grc/worktable.py", "_dispatch"),
    ("SQL: psycopg cursor.execute", "psycopg/cursor.py", "execute"),
    ("SQL: psycopg commit", "psycopg/connection.py", "commit"),
    ("logging", "logging/__init__.py", "handle"),
)


def in_process(
    app: Any, replies: list[Reply], stamp: str, admin_url: str, database: str
) -> dict[str, Any]:
    """``workers.jobs.process_received_emails`` run in-process on stored e-mails: first on
    half of them plain, timed, with every SQL statement, commit and pool check-out counted;
    then on the other half under cProfile."""
    import sqlalchemy as sa

    from grc.extensions import db
    from workers.jobs import process_received_emails

    half = len(replies) // 2
    statements: Counter[str] = Counter()
    events: Counter[str] = Counter()
    logging.disable(logging.INFO)  # the job's INFO lines would land on this terminal
    try:
        plain_ids = store_in_process(app, replies[:half], hand_over=False)
        with app.app_context():
            engine = db.engine

            def on_execute(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
                shape = " ".join(statement.split())
                shape = re.sub(r"\(%\(\w+\)s(?:, %\(\w+\)s)*\)", "(…)", shape)
                statements[shape[:110]] += 1

            listeners = [
                (engine, "before_cursor_execute", on_execute),
                (engine, "commit", lambda conn: events.update(["commit"])),
                (engine.pool, "checkout", lambda *a: events.update(["pool checkout"])),
            ]
            for target, name, fn in listeners:
                sa.event.listen(target, name, fn)
            pg_before = backend_cpu(admin_url, database)
            cpu_before = time.process_time()
            t0 = time.perf_counter()
            try:
                plain_summary = process_received_emails()
            finally:
                plain_wall = time.perf_counter() - t0
                cpu_used = time.process_time() - cpu_before
                pg_used = cpu_delta(pg_before, backend_cpu(admin_url, database))
                for target, name, fn in listeners:
                    sa.event.remove(target, name, fn)

        profiled_ids = store_in_process(app, replies[half:], hand_over=False)
        with app.app_context():
            profiler = cProfile.Profile()
            t0 = time.perf_counter()
            profiler.enable()
            profiled_summary = process_received_emails()
            profiler.disable()
            profiled_wall = time.perf_counter() - t0
            db.session.remove()
    finally:
        logging.disable(logging.NOTSET)
    prof_path = RESULTS / f"inbound-{stamp}-inprocess.prof"
    profiler.dump_stats(str(prof_path))
    text_path = RESULTS / f"inbound-{stamp}-profile.txt"
    with text_path.open("w") as out:
        for order in ("cumulative", "tottime"):
            out.write(f"===== sorted by {order} =====\n")
            pstats.Stats(str(prof_path), stream=out).sort_stats(order).print_stats(50)
    raw = pstats.Stats(str(prof_path)).stats  # type: ignore[attr-defined]
    count = len(profiled_ids)
    breakdown = {}
    for label, part, name in PROFILED:
        calls, cum = _sum(raw, part, name)
        breakdown[label] = {
            "ms_per_email": round(1000 * cum / count, 3),
            "calls_per_email": round(calls / count, 2),
        }
    n = len(plain_ids)
    return {
        "plain": {
            "emails": n,
            "job_summary": plain_summary,
            "ms_per_email": 1000 * plain_wall / n,
            "per_s_one_process": n / plain_wall,
            "cpu_ms_per_email_this_process": 1000 * cpu_used / n,
            "cpu_ms_per_email_postgres_backend": 1000 * pg_used / n,
            "sql_statements_per_email": sum(statements.values()) / n,
            "statements_per_email": {k: round(v / n, 3) for k, v in statements.most_common()},
            "events_per_email": {k: v / n for k, v in events.most_common()},
        },
        "profiled": {
            "emails": count,
            "job_summary": profiled_summary,
            "ms_per_email_under_cprofile": 1000 * profiled_wall / count,
            "breakdown": breakdown,
            "profile_file": str(prof_path.relative_to(ROOT)),
            "profile_text": str(text_path.relative_to(ROOT)),
        },
        "note": "one job on all the stored e-mails, as a worker runs it (claims of 10 "
        "included); pool_pre_ping adds a ping per check-out that is not a cursor "
        "execute",
    }


# --- Main -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--emails", "-n", type=int, default=2000, help="replies posted")
    parser.add_argument("--concurrency", type=int, default=3, help="posting threads")
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="pace the posts at this many per second (0: as fast as answered)",
    )
    parser.add_argument("--workers", type=int, default=2, help="inbound worker processes")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--dwellings", type=int, default=2000, help="size of the demo stock")
    parser.add_argument(
        "--parsed-share",
        type=float,
        default=0.15,
        help="share of parsed-mode posts (the rest are raw MIME)",
    )
    parser.add_argument(
        "--jpeg-share", type=float, default=0.05, help="share of replies with a small JPEG attached"
    )
    parser.add_argument(
        "--single-worker-emails",
        type=int,
        default=400,
        help="diagnosis: one worker alone on this many pre-queued e-mails (0: skip)",
    )
    parser.add_argument(
        "--profile-emails",
        type=int,
        default=300,
        help="diagnosis: in-process processing, half plain, half under cProfile (0: skip)",
    )
    parser.add_argument("--database", default="grc_bench_inbound")
    parser.add_argument(
        "--admin-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="URL of a database to connect to for CREATE DATABASE",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379")
    parser.add_argument(
        "--redis-db",
        type=int,
        default=12,
        help="Redis database number used (and FLUSHDB'd) by the bench",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=600,
        help="give up waiting for the processing after this many seconds",
    )
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    parser.add_argument(
        "--preload-claims",
        type=int,
        default=0,
        help="closed claims copied in (COPY, as bench/watch.py) before the replies are built",
    )
    parser.add_argument(
        "--preload-tenants",
        type=int,
        default=0,
        help="tenants copied in (COPY, as bench/intake.py) before the replies are built",
    )
    args = parser.parse_args(argv)
    if args.emails < 1 or args.concurrency < 1 or args.workers < 1:
        parser.error("--emails, --concurrency and --workers must be positive")
    require_loopback(args.admin_url, "database")
    require_loopback(args.redis_url, "Redis")

    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = utc_stamp()
    db_url = database_url(args.admin_url, args.database)
    redis_url = f"{args.redis_url.rstrip('/')}/{args.redis_db}"
    instance = Path(tempfile.mkdtemp(prefix="grc-bench-inbound-"))
    basic_user, basic_password = "sendgrid", secrets.token_urlsafe(24)
    path_secret = secrets.token_urlsafe(24)
    result: dict[str, Any] = {
        "bench": "inbound",
        "started_utc": stamp,
        "options": {k: v for k, v in vars(args).items() if k != "admin_url"},
        "targets": {"emails_per_s": TARGET_PER_S},
        "code": code_state(),
        "loadavg_at_start": os.getloadavg(),
    }
    groups: list[Group] = []
    exit_code = 1
    stop_on_sigterm(result)
    try:
        import redis

        redis_conn = redis.Redis.from_url(redis_url)
        redis_conn.flushdb()
        result["machine"] = machine(args.admin_url, redis_conn)
        log(f"Redis db {args.redis_db} flushed; creating database {args.database}")
        create_database(args.admin_url, args.database)
        env = production_env(
            db_url,
            instance,
            redis_url=redis_url,
            drop_prefixes=PROVIDER_AND_GRC,
            GRC_INBOUND_DOMAIN=INBOUND_DOMAIN,
            GRC_CONTACT_ADDRESS=CONTACT_ADDRESS,
            GRC_INBOUND_BASIC_AUTH=f"{basic_user}:{basic_password}",
            GRC_INBOUND_PATH_SECRET=path_secret,
            GRC_EMAIL_FROM=EMAIL_FROM,
            GRC_LANDLORD_NAME=LANDLORD,
            GRC_PUBLIC_URL="http://127.0.0.1:9",
            PYTHONUNBUFFERED="1",
        )
        result["migrate_s"], result["demo_s"] = seed_demo(env, args.dwellings, 0, args.seed)
        log(
            f"migrated in {result['migrate_s']:.1f} s, demo ({args.dwellings} dwellings) "
            f"loaded in {result['demo_s']:.1f} s"
        )

        adopt_env(env, PROVIDER_AND_GRC)
        from grc import create_app

        # create_app() sets the root logger to INFO: keep this terminal to the bench's lines.
        logging.getLogger("alembic").setLevel(logging.WARNING)
        app = create_app()
        extra = args.single_worker_emails + args.profile_emails
        total = args.emails + extra
        log(f"creating claims until {total} have a work order (create_claim, in-process)")
        targets, result["setup"] = create_work_orders(app, total, args.seed)
        log(
            f"  {result['setup']['claims_created']} claims, {len(targets)} work orders in "
            f"{result['setup']['seconds']:.1f} s"
        )
        if args.preload_claims or args.preload_tenants:
            from intake import load_million
            from watch import load_claims

            log(f"copying {args.preload_claims:,} claims and {args.preload_tenants:,} tenants")
            result["preload"] = {
                "claims": load_claims(db_url, args.preload_claims, 0, 0, args.seed)
                if args.preload_claims
                else None,
                "tenants": load_million(db_url, args.preload_tenants, args.seed)
                if args.preload_tenants
                else None,
            }
        rng = random.Random(args.seed)
        rng.shuffle(targets)
        t0 = time.perf_counter()
        replies = build_replies(targets, args.seed, args.parsed_share, args.jpeg_share)
        result["replies_build_s"] = time.perf_counter() - t0
        run_replies = replies[: args.emails]
        single_replies = replies[args.emails : args.emails + args.single_worker_emails]
        profile_replies = replies[args.emails + args.single_worker_emails :]
        result["replies"] = describe_replies(run_replies)
        log(
            f"  {len(replies)} replies built in {result['replies_build_s']:.1f} s; run: "
            f"{result['replies']['kinds']}, {result['replies']['modes']}, "
            f"{result['replies']['with_jpeg']} with a JPEG, post bytes p50 "
            f"{result['replies']['post_bytes']['p50']}"
        )
        with app.app_context():  # warm the bench's own app (imports, pool)
            import sqlalchemy as sa

            from grc.extensions import db

            db.session.execute(sa.text("SELECT 1"))
            db.session.remove()

        gunicorn, address = start_gunicorn(
            env, args.web_workers, RESULTS / f"inbound-{stamp}-gunicorn.log"
        )
        groups.append(gunicorn)
        workers = start_workers(env, args.workers, stamp, "worker", redis_conn)
        groups.extend(workers)
        log(
            f"gunicorn ({args.web_workers} workers) on {address}; {args.workers} inbound "
            "workers registered"
        )

        auth = "Basic " + base64.b64encode(f"{basic_user}:{basic_password}".encode()).decode()
        path = f"/webhooks/sendgrid/inbound/{path_secret}"
        # Warm-up: one post that must be refused (wrong secret) on each web worker.
        for _ in range(4):
            conn = http.client.HTTPConnection(*address.split(":"), timeout=10)
            conn.request(
                "POST",
                "/webhooks/sendgrid/inbound/wrong",
                body=b"x",
                headers={"Content-Type": "multipart/form-data; boundary=x"},
            )
            refused = conn.getresponse().status
            conn.close()
            if refused != 401:
                raise SystemExit(f"the webhook took a post with a wrong secret ({refused})")

        cpu_groups = {g.pid: g.cpu() for g in groups}
        pg_before = backend_cpu(args.admin_url, args.database)
        redis_pid = int(redis_conn.info("server").get("process_id", 0))
        redis_before = cpu_seconds(redis_pid) if redis_pid else None
        self_before = time.process_time()
        system_before = system_cpu()
        result["loadavg_before_run"] = os.getloadavg()
        log(
            f"posting {len(run_replies)} replies from {args.concurrency} threads"
            + (f" at {args.rate:.0f}/s" if args.rate else " as fast as the webhook answers")
        )
        posts = post_all(address, path, auth, run_replies, args.concurrency, args.rate)
        posted_s = max(p["answered_at"] for p in posts) - min(p["sent_at"] for p in posts)
        log(
            f"  {len(posts)} posted in {posted_s:.1f} s "
            f"({sum(p['status'] == 200 for p in posts)} answered 200); waiting for the workers"
        )
        ids = [p["id"] for p in posts if p["id"] is not None]
        complete, all_seen_at = wait_processed(db_url, ids, args.timeout, 60, workers)
        system_after = system_cpu()
        self_cpu = time.process_time() - self_before
        pg_cpu = cpu_delta(pg_before, backend_cpu(args.admin_url, args.database))
        redis_after_cpu = cpu_seconds(redis_pid) if redis_pid else None
        redis_cpu = (
            redis_after_cpu - redis_before
            if redis_after_cpu is not None and redis_before is not None
            else 0.0
        )
        cpu = {
            "web (gunicorn)": cpu_delta(cpu_groups[gunicorn.pid], gunicorn.cpu()),
            "inbound workers": sum(cpu_delta(cpu_groups[w.pid], w.cpu()) for w in workers),
            "postgres backends": pg_cpu,
            "redis-server (shared)": redis_cpu,
            "load generator + poller (this process)": self_cpu,
        }
        result["loadavg_after_run"] = os.getloadavg()
        busy = (system_after[0] - system_before[0]) / CLK_TCK
        total_cpu = (system_after[1] - system_before[1]) / CLK_TCK
        ours = sum(cpu.values())
        result["machine_cpu_during_run"] = {
            "wall_s": total_cpu / (os.cpu_count() or 1),
            "busy_share": busy / total_cpu,
            "busy_cpu_s": busy,
            "ours_cpu_s": ours,
            "others_cpu_s": busy - ours,
            "note": "others = anything but this bench's processes, its PostgreSQL backends and "
            "redis-server: other people's work, PG background processes, the kernel",
        }
        processed_n = max(1, len(ids))
        result["cpu_ms_per_email"] = {k: 1000 * v / processed_n for k, v in cpu.items()}
        result["cpu_ms_per_email"]["all_of_the_above"] = 1000 * ours / processed_n

        rows = fetch_rows(db_url, ids)
        redis_after = queue_state(redis_conn, "inbound")
        for worker in workers:
            worker.stop()
        groups = [gunicorn]
        gunicorn.stop()
        groups = []
        logs = log_lines([w.log_path for w in workers])
        result["worker_log"] = {**logs, "lines_per_email": logs["lines"] / processed_n}
        result["gunicorn_log_lines"] = log_lines([gunicorn.log_path])["lines"]
        done, processed_lines = completions([w.log_path for w in workers])
        result["run"] = run_figures(run_replies, posts, rows, all_seen_at, done, logs["rq_jobs_ok"])
        result["run"]["complete"] = complete
        result["check"] = check_run(run_replies, posts, rows, redis_after, processed_lines)
        with psycopg.connect(db_url, autocommit=True) as conn:
            result["outbox_pending_by_purpose"] = dict(
                conn.execute(
                    "SELECT purpose, count(*) FROM outbox_messages WHERE status = 'pending' "
                    "GROUP BY purpose"
                ).fetchall()
            )
        log(
            f"run over: {result['run'].get('emails_per_s', 0):.0f} e-mails/s end to end; "
            f"checks {'OK' if result['check']['ok'] else 'FAILED'}"
        )

        diagnosis: dict[str, Any] = {}
        if single_replies and complete:
            log(f"diagnosis: one worker alone on {len(single_replies)} pre-queued e-mails")
            diagnosis["single_worker"] = single_worker(
                app, env, single_replies, db_url, redis_conn, stamp
            )
        if profile_replies and complete:
            log(
                f"diagnosis: process_received_emails in-process on {len(profile_replies)} "
                "e-mails (half plain, half under cProfile)"
            )
            diagnosis["in_process"] = in_process(
                app, profile_replies, stamp, args.admin_url, args.database
            )
        result["diagnosis"] = diagnosis
        with psycopg.connect(db_url, autocommit=True) as conn:
            result["storage_bytes"] = dict(
                zip(
                    ("inbound_emails_table_total", "raw_post", "html", "attachments_data"),
                    conn.execute(
                        "SELECT pg_total_relation_size('inbound_emails'), sum(length(raw_post)), "
                        "sum(length(html)), (SELECT sum(length(data)) FROM inbound_attachments) "
                        "FROM inbound_emails"
                    ).fetchone(),
                    strict=True,
                )
            )
        result["outcome"] = {
            "emails_per_s_target_met": result["run"].get("emails_per_s", 0) >= TARGET_PER_S,
            "checks_ok": result["check"]["ok"],
        }
        exit_code = 0 if result["check"]["ok"] else 2
    except KeyboardInterrupt:
        result["error"] = "interrupted"
        exit_code = 130
    finally:
        for group in groups:
            group.stop()
        try:
            import redis

            redis.Redis.from_url(redis_url).flushdb()
        except Exception as exc:  # best effort; reported
            result["redis_cleanup_error"] = type(exc).__name__
        shutil.rmtree(instance, ignore_errors=True)
        if not args.keep_db:
            drop_database(args.admin_url, args.database)
        result["loadavg_at_end"] = os.getloadavg()
        write_result("inbound", stamp, result, summarise(result))
    return exit_code


def _rate(value: float | None) -> str:
    return f"{value:.0f}/s" if value else "n/a"


def _completed_lines(completed: dict[str, Any]) -> list[str]:
    if not completed:
        return []
    delay = completed["delay_post_to_committed_s"]
    return [
        f"committed (workers' logs): {completed['emails_per_s']:.0f} e-mails/s first post -> "
        f"last commit, steady 10-90% {_rate(completed['steady_per_s_10_90'])}, "
        f"{_rate(completed['per_s_after_last_post'])} once posting is over; delay post "
        f"-> committed p50 {delay['p50'] * 1000:.0f} ms, p95 {delay['p95'] * 1000:.0f} ms; "
        f"{completed['rq_jobs']} RQ jobs"
    ]


def summarise(result: dict[str, Any]) -> list[str]:
    run, check = result.get("run"), result.get("check")
    if not run or not check:
        return [f"no figures ({result.get('error', 'the run stopped early')})"]
    lat = run.get("post_latency_s", {})
    delay = run.get("delay_post_to_processed_s", {})
    machine = result.get("machine_cpu_during_run") or {}
    rate = run.get("emails_per_s", 0)
    verdict = "MET" if rate >= TARGET_PER_S else "MISSED"
    if (result.get("options") or {}).get("rate"):
        verdict += ", but the posts were paced: not a capacity figure"
    lines = [
        f"load average {result.get('loadavg_before_run')} before the run, "
        f"{result.get('loadavg_after_run')} after; others' CPU during the run "
        f"{machine.get('others_cpu_s', 0):.1f} s of {machine.get('busy_cpu_s', 0):.1f} s busy",
        f"webhook: {run['accepted_200']}/{run['posted']} answered 200, "
        f"{run['posts_per_s']:.0f} posts/s, p50 {lat.get('p50', 0) * 1000:.1f} ms, "
        f"p95 {lat.get('p95', 0) * 1000:.1f} ms, p99 {lat.get('p99', 0) * 1000:.1f} ms",
        f"end to end: {rate:.0f} e-mails/s first post -> last processed "
        f"(target {TARGET_PER_S:.0f}: {verdict}); steady 10-90% "
        f"{_rate(run.get('steady_per_s_10_90'))}, "
        f"{_rate(run.get('per_s_after_last_post'))} once posting is over; last processed "
        f"{run.get('processing_after_last_post_s', 0):.1f} s after the last post",
        f"delay post -> processing started (processed_at) p50 "
        f"{delay.get('p50', 0) * 1000:.0f} ms, p95 {delay.get('p95', 0) * 1000:.0f} ms, max "
        f"{delay.get('max', 0) * 1000:.0f} ms",
        *_completed_lines(run.get("completed") or {}),
        f"statuses {check['statuses']}; claims of applied e-mails {check['claims_of_applied']}; "
        f"read not as written {check['read_not_as_written']}",
        f"checks {'OK' if check['ok'] else 'FAILED'}: attempts {check['attempts']}, matched "
        f"{check['matched_by']}, wrong work order {check['wrong_work_order']}, RQ {check['rq']}, "
        f"processed lines in logs {check['processed_lines_in_worker_logs']}, attachments "
        f"{check['attachments_kept']}/{check['jpegs_sent']}",
        "CPU ms per e-mail: "
        + ", ".join(f"{k} {v:.1f}" for k, v in (result.get("cpu_ms_per_email") or {}).items()),
    ]
    diag = result.get("diagnosis") or {}
    single = diag.get("single_worker")
    if single and single.get("per_s"):
        lines.append(
            f"one worker alone: {single['per_s']:.0f} e-mails/s "
            f"({single['ms_per_email']:.1f} ms each, CPU {single['cpu_ms_per_email']:.1f}"
            f" ms/e-mail), statuses {single['statuses']}"
        )
    inproc = diag.get("in_process")
    if inproc:
        plain = inproc["plain"]
        lines.append(
            f"in-process job: {plain['ms_per_email']:.1f} ms per e-mail, CPU "
            f"{plain['cpu_ms_per_email_this_process']:.1f} ms + PostgreSQL "
            f"{plain['cpu_ms_per_email_postgres_backend']:.1f} ms, "
            f"{plain['sql_statements_per_email']:.1f} SQL statements/e-mail, "
            f"events {plain['events_per_email']}"
        )
        lines.append(
            "cProfile ms/e-mail: "
            + ", ".join(
                f"{k.strip()} {v['ms_per_email']:.2f}"
                for k, v in inproc["profiled"]["breakdown"].items()
                if v["calls_per_email"]
            )
        )
    return lines


if __name__ == "__main__":
    sys.exit(main())
