from datetime import time

import pytest

from grc.config import BusinessHours, ConfigError, Settings


def test_defaults_are_sqlite_in_instance_and_paris(tmp_path):
    settings = Settings.from_env({}, instance_path=str(tmp_path))
    assert settings.database_url == f"sqlite:///{tmp_path}/grc.sqlite3"
    assert settings.timezone == "Europe/Paris"
    assert settings.redis_url is None
    assert settings.business_hours == BusinessHours(frozenset(range(5)), time(8, 30), time(17, 30))


def test_environment_is_read_and_validated(tmp_path):
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://grc:s3cret@db/grc",
            "REDIS_URL": "redis://localhost:6379/0",
            "GRC_BUSINESS_DAYS": "mon-sat",
            "GRC_BUSINESS_HOURS": "09:00-12:00",
            "SECRET_KEY": "k" * 40,
            "GRC_ENV": "production",
        },
        instance_path=str(tmp_path),
    )
    assert settings.business_hours.weekdays == frozenset(range(6))
    assert settings.flask_config()["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    assert "s3cret" not in str(settings.describe())


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GRC_ENV": "production"}, "SECRET_KEY"),
        ({"GRC_ENV": "staging"}, "GRC_ENV"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"REDIS_URL": "http://x"}, "REDIS_URL"),
        ({"GRC_TIMEZONE": "Mars/Olympus"}, "GRC_TIMEZONE"),
        ({"GRC_BUSINESS_HOURS": "8h-17h"}, "GRC_BUSINESS_HOURS"),
        ({"GRC_BUSINESS_DAYS": "fri-mon"}, "GRC_BUSINESS_DAYS"),
        ({"GRC_DEFAULT_LOCALE": "de"}, "GRC_DEFAULT_LOCALE"),
        ({"GRC_CALL_QUEUE": " "}, "GRC_CALL_QUEUE"),
        ({"GRC_CALL_QUEUE": "q" * 65}, "GRC_CALL_QUEUE"),
    ],
)
def test_bad_settings_stop_the_start(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env, instance_path=str(tmp_path))


@pytest.mark.parametrize(
    ("public_url", "warned"), [(None, True), ("https://grc.example.fr", False)]
)
def test_production_without_a_public_url_is_warned_about(tmp_path, caplog, public_url, warned):
    from grc import create_app

    env = {"GRC_ENV": "production", "SECRET_KEY": "k" * 40, "GRC_INSTANCE_PATH": str(tmp_path)}
    if public_url:
        env["GRC_PUBLIC_URL"] = public_url
    with caplog.at_level("WARNING"):
        create_app(Settings.from_env(env))
    assert ("GRC_PUBLIC_URL is not set" in caplog.text) is warned


def test_database_errors_never_carry_the_statement_parameters(app_ctx):
    """A failed statement's error (and so any logged traceback) shows the SQL, not the
    tenant data it was given."""
    import sqlalchemy as sa

    from grc.extensions import db

    with pytest.raises(sa.exc.DBAPIError) as raised:
        db.session.execute(
            sa.text("SELECT CAST(:phone AS INTEGER) + missing_column"), {"phone": "+33612345678"}
        )
    db.session.rollback()
    assert "+33612345678" not in str(raised.value)
    assert "hidden due to hide_parameters" in str(raised.value)


def _start_and_read_key(instance_path: str) -> str:
    return Settings.from_env({}, instance_path=instance_path).secret_key


def test_without_secret_key_the_key_is_drawn_once_into_the_instance_folder(tmp_path):
    import os
    import stat

    first = Settings.from_env({}, instance_path=str(tmp_path / "instance"))
    again = Settings.from_env({}, instance_path=str(tmp_path / "instance"))
    key_file = tmp_path / "instance" / "secret_key"
    assert len(first.secret_key) >= 32
    assert again.secret_key == first.secret_key
    assert key_file.read_text().strip() == first.secret_key
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert sorted(p.name for p in key_file.parent.iterdir()) == ["secret_key"]
    assert Settings.from_env({"SECRET_KEY": "s" * 40}, instance_path=str(tmp_path)).secret_key == (
        "s" * 40
    )


def test_processes_starting_together_agree_on_the_key(tmp_path):
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(6) as pool:
        keys = pool.map(_start_and_read_key, [str(tmp_path)] * 12)
    assert len(set(keys)) == 1
    assert (tmp_path / "secret_key").read_text().strip() == keys[0]


def test_a_short_kept_key_stops_the_start(tmp_path):
    (tmp_path / "secret_key").write_text("short\n")
    with pytest.raises(ConfigError, match="secret_key"):
        Settings.from_env({}, instance_path=str(tmp_path))


def test_links_minted_before_a_restart_are_accepted_after_it(tmp_path):
    """Two starts of the embedded default (make run, then make run again) share the key:
    a one-click link and a signed reply address from the first are valid in the second."""
    from types import SimpleNamespace

    from grc import create_app
    from grc.contracts.work_orders import (
        LinkAction,
        action_token,
        read_action_token,
        reply_address,
        work_order_id_from_address,
    )

    env = {"GRC_INSTANCE_PATH": str(tmp_path)}
    order = SimpleNamespace(id=42)
    with create_app(Settings.from_env(env)).app_context():
        link = action_token(order, LinkAction.DONE)
        address = reply_address(order)
    with create_app(Settings.from_env(env)).app_context():
        assert read_action_token(link) == (42, LinkAction.DONE)
        assert work_order_id_from_address(address) == 42
    with create_app(Settings.from_env(env | {"SECRET_KEY": "o" * 40})).app_context():
        assert read_action_token(link) is None
        assert work_order_id_from_address(address) is None
