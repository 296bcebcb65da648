"""Password hashing with Argon2id, at the cost the settings give (argon2-cffi's recommended
parameters; see grc.config.PasswordHashing)."""

from __future__ import annotations

import base64
import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.low_level import ARGON2_VERSION
from flask import current_app, has_app_context

from grc.config import PasswordHashing

MIN_LENGTH = 12
MAX_LENGTH = 200  # longer is no safer and costs the hash time


@functools.cache
def _hashing(cost: PasswordHashing) -> tuple[PasswordHasher, str]:
    hasher = PasswordHasher(
        time_cost=cost.time_cost, memory_cost=cost.memory_kib, parallelism=cost.parallelism
    )
    return hasher, _dummy_hash(hasher)


def _dummy_hash(hasher: PasswordHasher) -> str:
    """The hash checked when no such user exists, so that an unknown address takes as long as
    a wrong password and sign-in timings do not tell which addresses have accounts: a hash of
    ``hasher``'s parameters whose salt and digest are drawn at random. Checking a password
    against it runs one whole Argon2 computation at that cost, then fails the comparison, as
    for any wrong password, the first unknown address included. Drawn rather than computed:
    computing a hash would cost every process that builds the application (the workers', which
    sign nobody in, too) its 64 MiB of memory at start-up."""

    def encoded(raw: bytes) -> str:
        return base64.b64encode(raw).rstrip(b"=").decode()

    return (
        f"$argon2{hasher.type.name.lower()}$v={ARGON2_VERSION}"
        f"$m={hasher.memory_cost},t={hasher.time_cost},p={hasher.parallelism}"
        f"${encoded(secrets.token_bytes(hasher.salt_len))}"
        f"${encoded(secrets.token_bytes(hasher.hash_len))}"
    )


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
