"""Password hashing with Argon2id, at the cost the settings give (argon2-cffi's recommended
parameters; see grc.config.PasswordHashing)."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, current_app, has_app_context

from grc.config import PasswordHashing

MIN_LENGTH = 12
MAX_LENGTH = 200  # longer is no safer and costs the hash time


@functools.cache
def _hashing(cost: PasswordHashing) -> tuple[PasswordHasher, str]:
    hasher = PasswordHasher(
        time_cost=cost.time_cost, memory_cost=cost.memory_kib, parallelism=cost.parallelism
    )
    # Checked when no such user exists, so that an unknown address takes as long as a wrong
    # password and sign-in timings do not tell which addresses have accounts.
    return hasher, hasher.hash("not a password of anyone")


def init_app(app: Flask) -> None:
    """Draws the application's dummy hash now, not at the first unknown address."""
    _hashing(app.extensions["grc_settings"].password_hashing)


def _current() -> tuple[PasswordHasher, str]:
    if has_app_context():
        return _hashing(current_app.extensions["grc_settings"].password_hashing)
    return _hashing(PasswordHashing())


def hash_password(password: str) -> str:
    return _current()[0].hash(password)


def password_matches(stored_hash: str | None, password: str) -> bool:
    hasher, dummy_hash = _current()
    try:
        return hasher.verify(stored_hash or dummy_hash, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _current()[0].check_needs_rehash(stored_hash)
