"""One typed configuration, read from the environment and validated at start-up."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ENVIRONMENTS = ("development", "testing", "production")
_HOURS_RE = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# A JSON request is a few kilobytes: a megabyte leaves room and keeps a flood out of memory.
MAX_REQUEST_BYTES = 1024 * 1024
# Twilio refuses a queue name longer than this.
MAX_QUEUE_NAME = 64


class ConfigError(ValueError):
    """The configuration cannot run the product; the message says which setting and why."""


@dataclass(frozen=True)
class BusinessHours:
    """Opening hours used by business-time SLA clocks (default Monday–Friday 08:30–17:30)."""

    weekdays: frozenset[int] = frozenset(range(5))
    start: time = time(8, 30)
    end: time = time(17, 30)

    @classmethod
    def parse(cls, days: str, hours: str) -> BusinessHours:
        match = _HOURS_RE.match(hours.strip())
        if not match:
            raise ConfigError(f"GRC_BUSINESS_HOURS must look like 08:30-17:30, got {hours!r}")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        try:
            start, end = time(h1, m1), time(h2, m2)
        except ValueError as exc:
            raise ConfigError(f"GRC_BUSINESS_HOURS is not a valid range: {hours!r}") from exc
        if start >= end:
            raise ConfigError("GRC_BUSINESS_HOURS must end after it starts")
        return cls(weekdays=_parse_days(days), start=start, end=end)


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc
    if value < 1:
        raise ConfigError(f"{name} must be at least 1")
    return value


def _parse_quiet_hours(spec: str) -> tuple[time, time]:
    match = _HOURS_RE.match(spec.strip())
    if not match:
        raise ConfigError(f"GRC_QUIET_HOURS must look like 20:00-08:00, got {spec!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    try:
        return time(h1, m1), time(h2, m2)
    except ValueError as exc:
        raise ConfigError(f"GRC_QUIET_HOURS is not a valid range: {spec!r}") from exc


def _parse_days(spec: str) -> frozenset[int]:
    spec = spec.strip().lower()
    days: set[int] = set()
    for part in spec.split(","):
        bounds = part.strip().split("-")
        if not all(b in _DAY_NAMES for b in bounds) or len(bounds) > 2:
            raise ConfigError(f"GRC_BUSINESS_DAYS must look like mon-fri or mon,wed, got {spec!r}")
        first, last = _DAY_NAMES.index(bounds[0]), _DAY_NAMES.index(bounds[-1])
        if last < first:
            raise ConfigError(f"GRC_BUSINESS_DAYS range goes backwards: {part!r}")
        days.update(range(first, last + 1))
    return frozenset(days)


@dataclass(frozen=True)
class PasswordHashing:
    """Argon2id's cost for staff passwords: argon2-cffi's recommended profile (RFC 9106's
    low-memory one: 3 passes over 64 MiB in 4 lanes), about a tenth of a second a hash.
    Only the tests lower it."""

    time_cost: int = 3
    memory_kib: int = 64 * 1024
    parallelism: int = 4


SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name


def instance_secret_key(instance_path: Path) -> str:
    """The key kept in ``instance_path/secret_key``, drawn the first time.

    The file is written whole under a temporary name, readable by its owner only, then
    linked to its final name: linking fails when the name exists, so of two processes
    starting together one writes the key and both read the same one.
    """
    path = instance_path / SECRET_KEY_FILE
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        draft = instance_path / f".{SECRET_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as draft_file:
                draft_file.write(secrets.token_urlsafe(48) + "\n")
            os.link(draft, path)
        except FileExistsError:
            pass  # another process kept its key first: that one is everybody's
        finally:
            draft.unlink(missing_ok=True)
    key = path.read_text().strip()
    if len(key) < 32:
        raise ConfigError(f"{path} must hold a key of at least 32 characters (or set SECRET_KEY)")
    return key


@dataclass(frozen=True)
class Settings:
    environment: str = "development"
    secret_key: str = ""
    database_url: str = ""
    redis_url: str | None = None
    timezone: str = "Europe/Paris"
    default_locale: str = "fr"
    business_hours: BusinessHours = field(default_factory=BusinessHours)
    instance_path: str = "instance"
    landlord_name: str = "Votre bailleur"
    # Public base URL (https://grc.example.fr) used to check webhook signatures behind a proxy.
    public_url: str | None = None
    proxy_fix: bool = False
    quiet_hours: tuple[time, time] = (time(20, 0), time(8, 0))
    email_from: str = "ne-pas-repondre@grc.localhost"
    sendgrid_api_key: str | None = None
    sendgrid_api_host: str | None = None
    sendgrid_event_public_key: str | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from_number: str | None = None
    twilio_api_base_url: str | None = None
    # The Twilio queue incoming calls wait in until an agent picks up (<Enqueue>'s name).
    call_queue: str = "accueil"
    # How long a worker holds the messages it claimed (their lease): past it, it is presumed
    # dead. Keep it above the longest batch (each thread makes delivery_batch ÷
    # delivery_threads calls in turn, of at most ~20 s each).
    delivery_lease_seconds: int = 120
    # Pending messages not delivered after this delay are handed to the queue again.
    sweep_after_seconds: int = 30
    max_delivery_attempts: int = 6
    # Contractors reply to wo+<token>@<inbound_domain>; tenants write to contact_address.
    inbound_domain: str = "inbound.grc.localhost"
    contact_address: str | None = None
    # SendGrid Inbound Parse authenticates with HTTP basic auth and/or a secret path segment.
    inbound_basic_auth: str | None = None  # "user:password"
    inbound_path_secret: str | None = None
    inbound_max_bytes: int = 20 * 1024 * 1024
    attachment_max_bytes: int = 10 * 1024 * 1024
    # The received post of an e-mail that processing has finished with is deleted after this
    # many days: what was kept from it (text, sanitised HTML, attachments) stays.
    inbound_original_days: int = 90
    attachment_types: tuple[str, ...] = (
        "image/jpeg",
        "image/png",
        "image/heic",
        "image/webp",
        "application/pdf",
    )
    # A delivery job takes this many due messages per round trip to the database…
    delivery_batch: int = 100
    # …and calls the providers from this many threads (real providers answer in 100–300 ms).
    delivery_threads: int = 32
    # Staff sessions: cookies sent over HTTPS only (production), and how long one lasts
    # (a working day; signing in again after it is the price of a shared desk).
    secure_cookies: bool = False
    session_hours: int = 10
    # Failed sign-ins allowed per account and per client address in a quarter of an hour.
    sign_in_failures_per_account: int = 5
    sign_in_failures_per_address: int = 30
    # How long after a claim's resolution its tenant is asked how it went (hot survey).
    survey_delay_minutes: int = 120
    password_hashing: PasswordHashing = field(default_factory=PasswordHashing)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if environ is None else environ
        instance_path = overrides.pop("instance_path", None) or env.get(
            "GRC_INSTANCE_PATH", str(Path.cwd() / "instance")
        )
        settings = cls(
            environment=env.get("GRC_ENV", "development"),
            secret_key=env.get("SECRET_KEY", ""),
            database_url=env.get("DATABASE_URL", ""),
            redis_url=env.get("REDIS_URL") or None,
            timezone=env.get("GRC_TIMEZONE", "Europe/Paris"),
            default_locale=env.get("GRC_DEFAULT_LOCALE", "fr"),
            business_hours=BusinessHours.parse(
                env.get("GRC_BUSINESS_DAYS", "mon-fri"),
                env.get("GRC_BUSINESS_HOURS", "08:30-17:30"),
            ),
            instance_path=instance_path,
            landlord_name=env.get("GRC_LANDLORD_NAME", "Votre bailleur"),
            public_url=(env.get("GRC_PUBLIC_URL") or "").rstrip("/") or None,
            proxy_fix=env.get("GRC_PROXY_FIX", "").lower() in ("1", "true", "yes"),
            quiet_hours=_parse_quiet_hours(env.get("GRC_QUIET_HOURS", "20:00-08:00")),
            email_from=env.get("GRC_EMAIL_FROM", "ne-pas-repondre@grc.localhost"),
            sendgrid_api_key=env.get("SENDGRID_API_KEY") or None,
            sendgrid_api_host=env.get("SENDGRID_API_HOST") or None,
            sendgrid_event_public_key=env.get("SENDGRID_EVENT_PUBLIC_KEY") or None,
            twilio_account_sid=env.get("TWILIO_ACCOUNT_SID") or None,
            twilio_auth_token=env.get("TWILIO_AUTH_TOKEN") or None,
            twilio_from_number=env.get("TWILIO_FROM_NUMBER") or None,
            twilio_api_base_url=env.get("TWILIO_API_BASE_URL") or None,
            call_queue=env.get("GRC_CALL_QUEUE", "accueil").strip(),
            delivery_lease_seconds=_positive_int(env, "GRC_DELIVERY_LEASE_SECONDS", 120),
            sweep_after_seconds=_positive_int(env, "GRC_SWEEP_AFTER_SECONDS", 30),
            max_delivery_attempts=_positive_int(env, "GRC_MAX_DELIVERY_ATTEMPTS", 6),
            inbound_domain=env.get("GRC_INBOUND_DOMAIN", "inbound.grc.localhost").lower(),
            contact_address=(env.get("GRC_CONTACT_ADDRESS") or "").lower() or None,
            inbound_basic_auth=env.get("GRC_INBOUND_BASIC_AUTH") or None,
            inbound_path_secret=env.get("GRC_INBOUND_PATH_SECRET") or None,
            inbound_max_bytes=_positive_int(env, "GRC_INBOUND_MAX_BYTES", 20 * 1024 * 1024),
            attachment_max_bytes=_positive_int(env, "GRC_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024),
            inbound_original_days=_positive_int(env, "GRC_INBOUND_ORIGINAL_DAYS", 90),
            attachment_types=tuple(
                t.strip().lower()
                for t in env.get(
                    "GRC_ATTACHMENT_TYPES",
                    "image/jpeg,image/png,image/heic,image/webp,application/pdf",
                ).split(",")
                if t.strip()
            ),
            delivery_batch=_positive_int(env, "GRC_DELIVERY_BATCH", 100),
            delivery_threads=_positive_int(env, "GRC_DELIVERY_THREADS", 32),
            secure_cookies=env.get(
                "GRC_SECURE_COOKIES",
                "true" if env.get("GRC_ENV") == "production" else "false",
            ).lower()
            in ("1", "true", "yes"),
            session_hours=_positive_int(env, "GRC_SESSION_HOURS", 10),
            sign_in_failures_per_account=_positive_int(env, "GRC_SIGN_IN_FAILURES_PER_ACCOUNT", 5),
            sign_in_failures_per_address=_positive_int(env, "GRC_SIGN_IN_FAILURES_PER_ADDRESS", 30),
            survey_delay_minutes=_positive_int(env, "GRC_SURVEY_DELAY_MINUTES", 120),
        )
        settings = replace(settings, **overrides)
        if not settings.database_url:
            sqlite_file = Path(settings.instance_path) / "grc.sqlite3"
            settings = replace(settings, database_url=f"sqlite:///{sqlite_file}")
        if not settings.secret_key and settings.environment != "production":
            # Outside production the key is drawn once and kept beside the SQLite file:
            # links e-mailed before a restart (valid 90 days) and the signed reply addresses
            # of the running server stay valid. Production must set SECRET_KEY.
            settings = replace(
                settings, secret_key=instance_secret_key(Path(settings.instance_path))
            )
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.environment not in ENVIRONMENTS:
            raise ConfigError(f"GRC_ENV must be one of {', '.join(ENVIRONMENTS)}")
        if self.environment == "production" and len(self.secret_key) < 32:
            raise ConfigError("SECRET_KEY must be set to at least 32 characters in production")
        if not self.database_url.startswith(("sqlite:", "postgresql")):
            raise ConfigError("DATABASE_URL must be a sqlite:/// or postgresql:// URL")
        if self.redis_url and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigError("REDIS_URL must be a redis:// URL")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"GRC_TIMEZONE is not a known time zone: {self.timezone!r}") from exc
        if self.default_locale not in ("fr", "en"):
            raise ConfigError("GRC_DEFAULT_LOCALE must be fr or en")
        if bool(self.twilio_account_sid) != bool(self.twilio_auth_token):
            raise ConfigError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN go together")
        if self.twilio_account_sid and not self.twilio_from_number:
            raise ConfigError("TWILIO_FROM_NUMBER is required with Twilio credentials")
        if not 1 <= len(self.call_queue) <= MAX_QUEUE_NAME:
            raise ConfigError(f"GRC_CALL_QUEUE must be 1 to {MAX_QUEUE_NAME} characters")
        if self.public_url and not self.public_url.startswith(("https://", "http://")):
            raise ConfigError("GRC_PUBLIC_URL must be an http(s) URL")

    def flask_config(self) -> dict[str, Any]:
        database_url = self.database_url
        if database_url.startswith("postgresql://"):
            database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
        # Statement parameters are names, phone numbers and messages: never in an error's
        # text, so never in a logged traceback.
        # Idle connections are pinged before use (grc.db.ping_idle_connections), not all.
        engine_options: dict[str, Any] = {"hide_parameters": True}
        if database_url.startswith("postgresql"):
            engine_options |= {
                "pool_size": 10,
                "max_overflow": 10,
                "pool_timeout": 5,
                "connect_args": {"connect_timeout": 5},
            }
        return {
            "SECRET_KEY": self.secret_key,
            "TESTING": self.environment == "testing",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
            "API_TITLE": "GRC",
            "API_VERSION": "v1",
            "OPENAPI_VERSION": "3.0.3",
            "OPENAPI_URL_PREFIX": "/api",
            "OPENAPI_JSON_PATH": "openapi.json",
            "OPENAPI_SWAGGER_UI_PATH": "/docs",
            "OPENAPI_SWAGGER_UI_URL": "/api/docs/assets/",
            # Swagger UI would send the document's address to swagger.io for a badge.
            "OPENAPI_SWAGGER_UI_CONFIG": {"validatorUrl": None},
            "API_SPEC_OPTIONS": {"security": [{"bearer": []}]},
            # Any request body; the routes that take files (inbound e-mail, photos) raise it
            # for themselves to their own limits.
            "MAX_CONTENT_LENGTH": MAX_REQUEST_BYTES,
            # Staff sessions (the web application): never readable by scripts, never sent
            # by another site's form, over HTTPS only in production.
            "SESSION_COOKIE_NAME": "grc_session",
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": self.secure_cookies,
            "PERMANENT_SESSION_LIFETIME": timedelta(hours=self.session_hours),
            # The cookie is sent when the session changes, not on every answer: a late
            # answer (a favicon's 404) cannot put back an older cookie over a newer one, and
            # a session lasts session_hours from sign-in, a working day.
            "SESSION_REFRESH_EACH_REQUEST": False,
            # A form's CSRF token lives as long as the session, not an hour: an agent may
            # keep a claim form open through a long call.
            "WTF_CSRF_TIME_LIMIT": None,
            # Flask-WTF checks no request by itself: the screens' blueprints ask it to
            # (grc.web.pages), as only they are authenticated by the session cookie.
            "WTF_CSRF_CHECK_DEFAULT": False,
            "BABEL_DEFAULT_LOCALE": self.default_locale,
            "BABEL_DEFAULT_TIMEZONE": self.timezone,
            # Sign-in counters are shared by every gunicorn worker through Redis; in memory
            # on the embedded default, and in memory for a while if Redis goes away.
            "RATELIMIT_STORAGE_URI": self.redis_url or "memory://",
            "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
            "RATELIMIT_KEY_PREFIX": "grc-limits",
        }

    def describe(self) -> dict[str, str]:
        """Settings safe to print: no secrets, no passwords inside URLs."""
        shown = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in (
                "secret_key",
                "sendgrid_api_key",
                "twilio_auth_token",
                "inbound_basic_auth",
                "inbound_path_secret",
            ):
                value = "set" if value else "unset"
            elif f.name in ("database_url", "redis_url") and value:
                value = re.sub(r"//([^:@/]+):[^@/]+@", r"//\1:***@", value)
            shown[f.name] = str(value)
        return shown
