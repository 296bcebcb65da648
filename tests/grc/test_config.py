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
