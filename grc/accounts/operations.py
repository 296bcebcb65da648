"""Sign-in, sign-out, password change, invitations and the staff accounts an administrator
keeps (create, change role or unit, deactivate). They flush, never commit."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grc.accounts.models import Invitation
from grc.accounts.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    hash_password,
    needs_rehash,
    password_matches,
)
from grc.auth import revoke_tokens
from grc.claims.models import TreatmentUnit
from grc.db import rows_changed, utcnow
from grc.errors import Conflict, InvalidInput, NotFound
from grc.messaging.models import MessageChannel, Purpose
from grc.messaging.operations import NewMessage, queue_message
from grc.messaging.rendering import render_email
from grc.people.models import Role, User

INVITATION_VALIDITY = timedelta(days=7)


def new_session_key() -> str:
    return secrets.token_urlsafe(24)


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this address and password, else None (same time either way).

    A user signing in with no session key yet (created before the web application) gets
    one; a hash made with older Argon2 parameters is upgraded."""
    user = session.execute(
        sa.select(User).where(sa.func.lower(User.email) == email.strip().lower())
    ).scalar_one_or_none()
    if not password_matches(user.password_hash if user else None, password[:MAX_LENGTH]):
        return None
    if user is None or not user.active:
        return None
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    if user.session_key is None:
        user.session_key = new_session_key()
    user.last_signed_in_at = utcnow()
    session.flush()
    return user


def end_sessions(session: Session, user: User) -> None:
    """Every session of ``user`` ends: the cookies carry the old key, refused from now on."""
    user.session_key = new_session_key()
    session.flush()


def check_new_password(password: str, field: str = "password") -> None:
    if len(password) < MIN_LENGTH:
        raise InvalidInput({field: [f"at least {MIN_LENGTH} characters"]})
    if len(password) > MAX_LENGTH:
        raise InvalidInput({field: [f"at most {MAX_LENGTH} characters"]})


def change_password(session: Session, user: User, current: str, new: str) -> None:
    """Checks the current password, sets the new one and ends every session of the user
    (the caller signs the current one in again with the new key)."""
    if not password_matches(user.password_hash, current[:MAX_LENGTH]):
        raise InvalidInput({"current_password": ["wrong password"]})
    check_new_password(new, "new_password")
    user.password_hash = hash_password(new)
    end_sessions(session, user)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class SentInvitation:
    invitation: Invitation
    link: str


def invite_user(
    session: Session, user: User, by: User | None, link_for: str, now: datetime, locale: str
) -> SentInvitation:
    """E-mail ``user`` a one-time link to choose a password; earlier unused links of that
    user stop working. ``link_for`` is the link's address with ``{token}`` where the secret
    goes."""
    if not user.active:
        raise Conflict("This user is deactivated; reactivate them before inviting them.")
    session.execute(
        sa.update(Invitation)
        .where(Invitation.user_id == user.id, Invitation.used_at.is_(None))
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
    secret = secrets.token_urlsafe(32)
    invitation = Invitation(
        user=user,
        token_hash=_digest(secret),
        created_at=now,
        created_by_id=by.id if by else None,
        expires_at=now + INVITATION_VALIDITY,
    )
    session.add(invitation)
    session.flush()
    link = link_for.replace("{token}", secret)
    rendered = render_email(
        Purpose.INVITATION, locale, name=user.name, link=link, days=INVITATION_VALIDITY.days
    )
    queue_message(
        session,
        NewMessage(
            idempotency_key=f"invitation:{invitation.id}",
            channel=MessageChannel.EMAIL,
            purpose=Purpose.INVITATION,
            recipient=user.email,
            subject=rendered.subject,
            body_text=rendered.text,
            body_html=rendered.html,
            locale=locale,
            urgent=True,
        ),
        now,
    )
    return SentInvitation(invitation, link)


def invitation_for(session: Session, secret: str, now: datetime) -> Invitation:
    """The live (unused, unexpired) invitation behind this link's secret."""
    invitation = session.execute(
        sa.select(Invitation).where(Invitation.token_hash == _digest(secret))
    ).scalar_one_or_none()
    if invitation is None or invitation.used_at is not None or invitation.expires_at <= now:
        raise NotFound("This link is unknown, already used or expired.")
    return invitation


def accept_invitation(session: Session, secret: str, password: str, now: datetime) -> User:
    """Sets the password chosen through the link and uses the link up (once, even if two
    posts race: the conditional UPDATE lets one through)."""
    invitation = invitation_for(session, secret, now)
    check_new_password(password)
    used = session.execute(
        sa.update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(used) != 1:
        raise NotFound("This link is unknown, already used or expired.")
    user = invitation.user
    user.password_hash = hash_password(password)
    end_sessions(session, user)
    return user


@dataclass(frozen=True)
class UserFields:
    email: str
    name: str
    role: Role
    # Required for the unit role (the table's CHECK), ignored for the others: only a unit's
    # staff is bound to a queue.
    unit_id: int | None = None


def _unit_for(session: Session, command: UserFields) -> TreatmentUnit | None:
    if command.role != Role.UNIT:
        return None
    if command.unit_id is None:
        raise InvalidInput({"unit_id": ["A treatment unit's user needs their unit."]})
    unit = session.get(TreatmentUnit, command.unit_id)
    if unit is None:
        raise InvalidInput({"unit_id": [f"No treatment unit with id {command.unit_id}."]})
    return unit


def create_user(session: Session, command: UserFields) -> User:
    """A staff account without a password: the user chooses one through an invitation."""
    email = command.email.strip().lower()
    if session.execute(sa.select(User.id).where(sa.func.lower(User.email) == email)).first():
        raise InvalidInput({"email": ["A user with this e-mail address exists already."]})
    user = User(
        email=email, name=command.name.strip(), role=command.role, unit=_unit_for(session, command)
    )
    session.add(user)
    session.flush()
    return user


def change_user(session: Session, user: User, command: UserFields) -> User:
    """Name, role and unit; a changed role or unit ends the user's sessions, so that no open
    page keeps what the old role could see. The address is the sign-in name and stays."""
    unit = _unit_for(session, command)
    moved = user.role != command.role or user.unit_id != (unit.id if unit else None)
    user.name = command.name.strip()
    user.role = command.role
    user.unit = unit
    if moved:
        end_sessions(session, user)
    session.flush()
    return user


def deactivate_user(session: Session, user: User, by: User | None, now: datetime) -> None:
    """The user signs in no more: their sessions end and their API tokens are revoked. The
    account stays, for the claims and events that name it."""
    if by is not None and by.id == user.id:
        raise Conflict("You cannot deactivate your own account.")
    user.active = False
    end_sessions(session, user)
    revoke_tokens(session, now, user=user)
    session.flush()


def reactivate_user(session: Session, user: User) -> None:
    """The user may sign in again with their password (revoked tokens stay revoked)."""
    user.active = True
    session.flush()
