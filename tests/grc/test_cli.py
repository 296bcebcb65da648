"""``flask grc …`` administration commands."""

from __future__ import annotations

import sqlalchemy as sa

from grc.auth import hash_token
from grc.claims.models import Category
from grc.extensions import db
from grc.people.models import ApiToken, User


def test_catalogue_is_idempotent(app_ctx):
    runner = app_ctx.test_cli_runner()
    first = runner.invoke(args=["grc", "catalogue"])
    second = runner.invoke(args=["grc", "catalogue"])
    assert first.exit_code == 0
    assert second.exit_code == 0
    assert "5 SLA policies, 59 categories." in second.output
    assert db.session.scalar(sa.select(sa.func.count(Category.id))) == 59
    leak = db.session.execute(sa.select(Category).where(Category.code == "PLB-FUITE")).scalar_one()
    assert (leak.parent.code, leak.sla_policy.code, leak.default_route_target) == (
        "PLB",
        "URG",
        "multiservice",
    )


def test_create_user_and_token_then_call_the_api(app_ctx, world):
    runner = app_ctx.test_cli_runner()
    created = runner.invoke(
        args=[
            "grc",
            "users",
            "create",
            "--email",
            "Claire@Bailleur.test",
            "--name",
            "Claire Petit",
            "--role",
            "unit",
            "--unit",
            "METZ-technique",
        ]
    )
    assert created.exit_code == 0, created.output
    user = db.session.execute(
        sa.select(User).where(User.email == "claire@bailleur.test")
    ).scalar_one()
    assert user.unit.code == "METZ-technique"

    token = runner.invoke(
        args=["grc", "tokens", "create", "--email", "claire@bailleur.test", "--days", "30"]
    )
    assert token.exit_code == 0
    secret = token.output.strip()
    stored = db.session.execute(sa.select(ApiToken).where(ApiToken.user_id == user.id)).scalar_one()
    assert stored.token_hash == hash_token(secret)
    assert stored.expires_at is not None
    response = app_ctx.test_client().get(
        "/api/v1/claims", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 200


def test_user_creation_errors(app_ctx, world):
    runner = app_ctx.test_cli_runner()
    no_unit = runner.invoke(
        args=["grc", "users", "create", "--email", "a@b.test", "--name", "A", "--role", "unit"]
    )
    assert no_unit.exit_code == 2
    assert "a unit user needs --unit" in no_unit.output
    duplicate = runner.invoke(
        args=[
            "grc",
            "users",
            "create",
            "--email",
            "agent@bailleur.test",
            "--name",
            "A",
            "--role",
            "agent",
        ]
    )
    assert duplicate.exit_code == 2
    assert "exists" in duplicate.output
    unknown = runner.invoke(args=["grc", "tokens", "create", "--email", "nobody@x.test"])
    assert unknown.exit_code == 2


def test_receive_email_takes_a_local_eml_like_a_posted_one(app_ctx, world, tmp_path):
    from grc.contracts import work_orders
    from grc.contracts.models import InboundEmail, InboundStatus, WorkOrder
    from tests.factories import claim_payload

    client = app_ctx.test_client()
    created = client.post(
        "/api/v1/claims", json=claim_payload(world), headers=world.headers("agent")
    )
    assert created.status_code == 201
    order = db.session.execute(sa.select(WorkOrder)).scalar_one()
    address = work_orders.reply_address(order)
    eml = tmp_path / "reply.eml"
    eml.write_bytes(
        f"From: {order.contractor.email}\r\nTo: {address}\r\n"
        f"Subject: RE: [{order.claim.reference}] Ordre de service\r\n"
        "Message-ID: <local-1@example.org>\r\n\r\nBien reçu, nous prenons en charge.\r\n".encode()
    )
    result = app_ctx.test_cli_runner().invoke(args=["grc", "receive-email", str(eml)])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    stored = db.session.execute(sa.select(InboundEmail)).scalar_one()
    assert f"inbound e-mail {stored.id}: applied" in result.output
    assert (stored.status, stored.matched_by) == (InboundStatus.APPLIED, "token")
