"""``flask grc …`` administration commands."""

from __future__ import annotations

import sqlalchemy as sa

from grc.auth import hash_token, issue_token
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
    from grc.contracts.models import WorkOrder
    from grc.inbound.models import InboundEmail, InboundStatus
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


def test_revoke_a_token_by_its_secret_or_all_of_a_users(app_ctx, world):
    runner = app_ctx.test_cli_runner()
    client = app_ctx.test_client()
    _, second = issue_token(world.users["agent"], "laptop")
    db.session.commit()

    def status(secret: str) -> int:
        headers = {"Authorization": f"Bearer {secret}"}
        return client.get("/api/v1/claims", headers=headers).status_code

    by_secret = runner.invoke(args=["grc", "tokens", "revoke", "--token", second])
    assert by_secret.exit_code == 0, by_secret.output
    assert "1 token revoked." in by_secret.output
    assert (status(second), status(world.tokens["agent"]), status(world.tokens["agent2"])) == (
        401,
        200,
        200,
    )
    again = runner.invoke(args=["grc", "tokens", "revoke", "--token", second])
    assert again.exit_code == 2
    assert "no live token has this secret" in again.output

    from_stdin = runner.invoke(
        args=["grc", "tokens", "revoke", "--token", "-"], input=world.tokens["agent2"] + "\n"
    )
    assert from_stdin.exit_code == 0, from_stdin.output
    assert status(world.tokens["agent2"]) == 401

    _, third = issue_token(world.users["agent"], "phone")
    db.session.commit()
    by_user = runner.invoke(args=["grc", "tokens", "revoke", "--email", "Agent@Bailleur.test"])
    assert by_user.exit_code == 0, by_user.output
    assert "2 tokens revoked." in by_user.output
    assert (status(third), status(world.tokens["agent"]), status(world.tokens["manager"])) == (
        401,
        401,
        200,
    )
    kept = db.session.scalars(
        sa.select(ApiToken.revoked_at).where(ApiToken.user_id == world.users["agent"].id)
    ).all()
    assert len(kept) == 3
    assert all(kept)


def test_revoke_needs_exactly_one_known_target(app_ctx, world):
    runner = app_ctx.test_cli_runner()
    neither = runner.invoke(args=["grc", "tokens", "revoke"])
    both = runner.invoke(
        args=["grc", "tokens", "revoke", "--token", "x", "--email", "agent@bailleur.test"]
    )
    unknown = runner.invoke(args=["grc", "tokens", "revoke", "--email", "nobody@bailleur.test"])
    assert (neither.exit_code, both.exit_code, unknown.exit_code) == (2, 2, 2)
    assert "no user with email" in unknown.output


def test_flask_commands_do_not_print_alembic_chatter(tmp_path):
    """Each `flask` command used to print seven INFO lines of alembic plugins."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = os.environ | {
        "PYTHONPATH": str(root),
        "GRC_INSTANCE_PATH": str(tmp_path),
        "GRC_ENV": "development",
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    upgrade = subprocess.run(
        [*flask, "db", "upgrade"], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    assert "Running upgrade" in upgrade.stderr  # what a migration does is still told
    help_run = subprocess.run(
        [*flask, "grc", "tokens", "--help"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    current = subprocess.run(
        [*flask, "db", "current"], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    for output in (upgrade.stderr, help_run.stderr, current.stderr):
        assert "setup plugin" not in output
        assert "Context impl" not in output
        assert "Will assume" not in output
    assert "revoke" in help_run.stdout
    assert "(head)" in current.stdout
