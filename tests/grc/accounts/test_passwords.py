"""Password hashes: argon2-cffi's recommended cost unless the settings say otherwise (only
the tests lower it), the same cost for an unknown address (drawn, not computed, at
start-up), and older hashes upgraded at sign-in."""

from __future__ import annotations

import argon2
import pytest
from argon2 import PasswordHasher, extract_parameters
from argon2.exceptions import VerifyMismatchError
from flask import Flask

from grc import create_app
from grc.accounts import passwords
from grc.accounts.operations import authenticate
from grc.accounts.passwords import hash_password, password_matches
from grc.config import PasswordHashing, Settings
from grc.extensions import db
from tests.conftest import FAST_PASSWORD_HASHING

RECOMMENDED = argon2.profiles.RFC_9106_LOW_MEMORY


@pytest.fixture
def production_cost(tmp_path) -> Flask:
    """An application with the settings' default cost (no database needed)."""
    settings = Settings.from_env(
        {}, environment="testing", database_url="sqlite://", instance_path=str(tmp_path)
    )
    return create_app(settings)


def test_the_default_cost_is_argon2_cffis_recommended_profile(production_cost):
    assert production_cost.extensions["grc_settings"].password_hashing == PasswordHashing()
    with production_cost.app_context():
        stored = hash_password("a long enough passphrase")
        assert password_matches(stored, "a long enough passphrase")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert (
        extract_parameters(stored) == RECOMMENDED == extract_parameters(PasswordHasher().hash(""))
    )


def test_an_unknown_address_is_checked_against_a_hash_of_the_same_cost(
    production_cost, monkeypatch
):
    checked: list[str] = []
    verify = PasswordHasher.verify

    def spy(self, stored, password):
        checked.append(stored)
        return verify(self, stored, password)

    monkeypatch.setattr(PasswordHasher, "verify", spy)
    with production_cost.app_context():
        assert not password_matches(None, "a long enough passphrase")
    assert [extract_parameters(h) for h in checked] == [RECOMMENDED]


def test_a_hash_of_another_cost_is_made_again_at_sign_in(app_ctx, world):
    user = world.users["agent"]
    user.password_hash = PasswordHasher().hash("a long enough passphrase")
    db.session.commit()

    assert authenticate(db.session, user.email, "a long enough passphrase") is user
    db.session.commit()

    fast = FAST_PASSWORD_HASHING
    parameters = extract_parameters(user.password_hash)
    assert (parameters.time_cost, parameters.memory_cost, parameters.parallelism) == (
        fast.time_cost,
        fast.memory_kib,
        fast.parallelism,
    )
    assert authenticate(db.session, user.email, "a long enough passphrase") is user


def test_the_unknown_addresses_hash_is_a_whole_argon2_computation_that_fails(production_cost):
    with production_cost.app_context():
        hasher, dummy = passwords._current()
    assert extract_parameters(dummy) == RECOMMENDED
    # A mismatch is found only once the hash is computed; a malformed hash would be refused
    # at once (InvalidHashError), and an unknown address would answer faster than a wrong
    # password.
    with pytest.raises(VerifyMismatchError):
        hasher.verify(dummy, "a long enough passphrase")
    with pytest.raises(VerifyMismatchError):
        hasher.verify(dummy, "")


def test_building_the_application_computes_no_hash(tmp_path, monkeypatch):
    # Workers build the application too and sign nobody in: start-up costs them no Argon2
    # computation (64 MiB of memory at the default cost).
    computed: list[str] = []
    hash_password = PasswordHasher.hash

    def spy(self, password, *args, **kwargs):
        computed.append(password)
        return hash_password(self, password, *args, **kwargs)

    monkeypatch.setattr(PasswordHasher, "hash", spy)
    passwords._hashing.cache_clear()
    settings = Settings.from_env(
        {}, environment="testing", database_url="sqlite://", instance_path=str(tmp_path)
    )
    app = create_app(settings)
    with app.app_context():
        assert not password_matches(None, "a long enough passphrase")
    assert computed == []
