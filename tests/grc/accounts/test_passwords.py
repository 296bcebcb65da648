"""Password hashes: argon2-cffi's recommended cost unless the settings say otherwise (only
the tests lower it), the same cost for an unknown address, and older hashes upgraded at
sign-in."""

from __future__ import annotations

import argon2
import pytest
from argon2 import PasswordHasher, extract_parameters
from flask import Flask

from grc import create_app
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
