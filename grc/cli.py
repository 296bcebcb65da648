"""``flask --app wsgi grc …`` commands: demo data, users and API tokens, local e-mail."""

from __future__ import annotations

import secrets
import sys
from datetime import timedelta
from typing import BinaryIO

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from grc.accounts import operations as accounts
from grc.auth import issue_token
from grc.claims.models import TreatmentUnit
from grc.db import utcnow
from grc.errors import InvalidInput
from grc.extensions import db
from grc.people.models import Role, User

grc_cli = AppGroup("grc", help="GRC administration.")
users_cli = AppGroup("users", help="Staff users.")
tokens_cli = AppGroup("tokens", help="API tokens.")
grc_cli.add_command(users_cli)
grc_cli.add_command(tokens_cli)


@grc_cli.command("catalogue")
def load_catalogue_command() -> None:
    """Load or update the reference claim catalogue and SLA policies."""
    from grc.catalogue import load_catalogue

    policies, categories = load_catalogue(db.session)
    db.session.commit()
    click.echo(f"{policies} SLA policies, {categories} categories.")


@grc_cli.command("demo")
@click.option("--dwellings", default=20_000, show_default=True, type=click.IntRange(50, 2_000_000))
@click.option(
    "--claims",
    default=6_000,
    show_default=True,
    type=click.IntRange(0, 5_000_000),
    help="Claims spread over the last 12 months.",
)
@click.option("--seed", default=2026, show_default=True, help="Random seed (same seed, same data).")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has data.")
def demo_command(dwellings: int, claims: int, seed: int, if_empty: bool) -> None:
    """Load a realistic demo landlord: stock, tenants, units, contracts, claims, users."""
    from grc.demo import DemoSizes, load_demo

    if if_empty and db.session.execute(sa.select(sa.func.count(User.id))).scalar_one():
        click.echo("The database already has data; demo not loaded.")
        return
    report = load_demo(
        db.session, DemoSizes(dwellings=dwellings, claims=claims), seed=seed, echo=click.echo
    )
    for line in report:
        click.echo(line)


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--unit", "unit_code", help="Treatment unit code (required for the unit role).")
def create_user(email: str, name: str, role: str, unit_code: str | None) -> None:
    """Create a staff user."""
    unit = None
    if unit_code:
        unit = db.session.execute(
            sa.select(TreatmentUnit).where(TreatmentUnit.code == unit_code)
        ).scalar_one_or_none()
        if unit is None:
            raise click.BadParameter(
                f"no treatment unit with code {unit_code!r}", param_hint="--unit"
            )
    if Role(role) == Role.UNIT and unit is None:
        raise click.BadParameter("a unit user needs --unit", param_hint="--unit")
    try:
        # The same use case as the administration screen's.
        user = accounts.create_user(
            db.session, accounts.UserFields(email, name, Role(role), unit.id if unit else None)
        )
    except InvalidInput as error:
        field, messages = next(iter((error.errors or {})["json"].items()))
        option = "--unit" if field == "unit_id" else f"--{field}"
        raise click.BadParameter(messages[0], param_hint=option) from None
    db.session.commit()
    click.echo(f"User {user.id} created ({user.role}).")


@tokens_cli.command("create")
@click.option("--email", required=True, help="The user the token acts as.")
@click.option("--name", default="api", show_default=True, help="What the token is for.")
@click.option("--days", type=click.IntRange(1, 3650), help="Expire after this many days.")
def create_token(email: str, name: str, days: int | None) -> None:
    """Create an API token; the secret is printed once and never stored."""
    user = db.session.execute(
        sa.select(User).where(User.email == email.lower())
    ).scalar_one_or_none()
    if user is None:
        raise click.BadParameter(f"no user with email {email!r}", param_hint="--email")
    expires_at = utcnow() + timedelta(days=days) if days else None
    _, secret = issue_token(user, name, expires_at)
    db.session.commit()
    click.echo(secret)


@tokens_cli.command("revoke")
@click.option("--token", "secret", help="The token's secret (`-` reads it from standard input).")
@click.option("--email", help="Revoke every live token of this user.")
def revoke_token(secret: str | None, email: str | None) -> None:
    """Revoke a token, or all of a user's tokens: refused from the next request on."""
    from grc.auth import revoke_tokens

    if (secret is None) == (email is None):
        raise click.UsageError("give --token or --email (one of them)")
    if secret == "-":  # noqa: S105 - "read it from stdin", not a password
        secret = sys.stdin.readline().strip()
    user = None
    if email is not None:
        user = db.session.execute(
            sa.select(User).where(User.email == email.lower())
        ).scalar_one_or_none()
        if user is None:
            raise click.BadParameter(f"no user with email {email!r}", param_hint="--email")
    revoked = revoke_tokens(db.session, utcnow(), secret=secret, user=user)
    db.session.commit()
    if secret is not None and revoked == 0:
        raise click.BadParameter("no live token has this secret", param_hint="--token")
    click.echo(f"{revoked} token{'s' if revoked != 1 else ''} revoked.")


@grc_cli.command("receive-email")
@click.argument("eml", type=click.File("rb"))
@click.option("--to", "envelope_to", help="SMTP recipient (a work order's reply address…).")
def receive_email(eml: BinaryIO, envelope_to: str | None) -> None:
    """Take an .eml as SendGrid Inbound Parse would post it (raw mode), to try the inbound
    loop without SendGrid; it is processed like a posted one."""
    import json

    from grc.inbound.operations import store_inbound

    boundary = "grc-local-" + secrets.token_hex(8)
    fields = {"email": eml.read()}
    if envelope_to:
        fields["envelope"] = json.dumps({"to": [envelope_to], "from": ""}).encode()
    body = (
        b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value
            + b"\r\n"
            for name, value in fields.items()
        )
        + f"--{boundary}--\r\n".encode()
    )
    email_id = store_inbound(
        db.session, f"multipart/form-data; boundary={boundary}", body, utcnow()
    )
    db.session.commit()
    db.session.expire_all()
    from grc.inbound.models import InboundEmail

    stored = db.session.get(InboundEmail, email_id)
    click.echo(f"inbound e-mail {email_id}: {stored.status if stored else 'unknown'}")


@grc_cli.command("ratings")
@click.option(
    "--period",
    "periods",
    multiple=True,
    help="A quarter (2026-Q3) or a month (2026-07); repeatable. "
    "Default: the current and previous quarter and month.",
)
def compute_ratings_command(periods: tuple[str, ...]) -> None:
    """Compute and store the supplier ratings of periods (replacing what they had)."""
    from contractors.rating import parse_period
    from grc.clock import settings
    from grc.ratings.operations import compute_period, compute_recent

    tz = settings().tz
    now = utcnow()
    try:
        chosen = [parse_period(text, tz=tz) for text in periods]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--period") from exc
    if chosen:
        for period in chosen:
            compute_period(db.session, period, now)
        labels = [period.label for period in chosen]
    else:
        labels = compute_recent(db.session, now, tz)
    db.session.commit()
    click.echo(f"ratings computed: {', '.join(labels)}")


def register_cli(app: Flask) -> None:
    app.cli.add_command(grc_cli)
