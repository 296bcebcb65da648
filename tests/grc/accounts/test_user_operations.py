"""Staff accounts as the administrator keeps them: a unit user has a unit, an address is
one account, deactivation ends sessions and API tokens."""

from __future__ import annotations

import pytest

from grc.accounts import operations
from grc.auth import user_for_token
from grc.db import utcnow
from grc.errors import Conflict, InvalidInput
from grc.extensions import db
from grc.people.models import Role


def test_a_unit_user_needs_an_existing_unit(world):
    for unit_id in (None, 999999):
        with pytest.raises(InvalidInput) as refused:
            operations.create_user(
                db.session, operations.UserFields("a@b.test", "A", Role.UNIT, unit_id)
            )
        assert set(refused.value.errors["json"]) == {"unit_id"}


def test_an_address_is_one_account_whatever_its_case(world):
    with pytest.raises(InvalidInput) as refused:
        operations.create_user(
            db.session, operations.UserFields(" AGENT@bailleur.test ", "A", Role.AGENT)
        )
    assert set(refused.value.errors["json"]) == {"email"}


def test_an_agent_keeps_no_unit(world):
    user = operations.create_user(
        db.session,
        operations.UserFields("a@b.test", "A", Role.AGENT, world.units["METZ-technique"].id),
    )
    assert user.unit is None


def test_deactivation_ends_sessions_and_tokens_but_not_ones_own(world):
    user, admin = world.users["agent"], world.users["admin"]
    key = user.session_key
    operations.deactivate_user(db.session, user, admin, utcnow())
    db.session.commit()
    assert (user.active, user.session_key != key) == (False, True)
    assert user_for_token(world.tokens["agent"], utcnow()) is None
    with pytest.raises(Conflict):
        operations.deactivate_user(db.session, admin, admin, utcnow())
    operations.reactivate_user(db.session, user)
    assert user.active


def test_a_sign_in_is_dated_and_listed(web_client, world):
    from grc.accounts.passwords import hash_password
    from tests.pages import sign_in_as

    user = world.users["manager"]
    user.password_hash = hash_password("a long enough passphrase")
    db.session.commit()
    assert user.last_signed_in_at is None
    assert operations.authenticate(db.session, user.email, "a long enough passphrase") is user
    db.session.commit()
    assert user.last_signed_in_at is not None

    sign_in_as(web_client, world.users["admin"])
    listed = web_client.get("/admin/users").get_data(as_text=True)
    assert "jamais" in listed  # the others never signed in
    assert listed.count("jamais") == len(world.users) - 1
