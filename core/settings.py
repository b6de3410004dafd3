"""Settings, read once from the environment (see the README's table)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_DATABASE_URL = "sqlite:///kentconnects.db"
DEFAULT_TIMEZONE = "Europe/London"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
# Where Microsoft's Teams service sends activities from (serviceUrl), worldwide and government clouds.
DEFAULT_TEAMS_ALLOWLIST = (
    "smba.trafficmanager.net",
    "*.smba.trafficmanager.net",
    "*.teams.microsoft.com",
    "*.teams.microsoft.us",
    "*.botframework.com",
)
# The Bot Framework Emulator's hosts: allowed only with BOT_EMULATOR=1 (local development).
EMULATOR_HOSTS = ("localhost", "127.0.0.1")
APP_TYPES = ("MultiTenant", "SingleTenant", "UserAssignedMSI")
TRUE_WORDS = ("1", "true", "yes", "on")


class ConfigError(ValueError):
    """A setting is missing or wrong; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    timezone: str = DEFAULT_TIMEZONE
    admins: frozenset[str] = field(default_factory=frozenset)
    port: int = 3978
    slack_bot_token: str = ""
    slack_signing_secret: str = ""
    slack_app_token: str = ""
    slack_api_url: str = DEFAULT_SLACK_API_URL
    teams_app_id: str = ""
    teams_app_password: str = ""
    teams_app_type: str = ""
    teams_tenant_id: str = ""
    teams_allowlist: tuple[str, ...] = DEFAULT_TEAMS_ALLOWLIST
    # Development only: the Bot Framework Emulator. Without an app id, /api/messages takes
    # requests without authentication; with or without one, loopback and plain-http service
    # URLs may be contacted. Never on a public server.
    emulator: bool = False
    # Where the Bot Framework's signing keys are published (OpenID metadata); empty: Microsoft's.
    teams_openid_metadata_url: str = ""

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token and self.slack_signing_secret)

    @property
    def teams_enabled(self) -> bool:
        """Teams is served only when configured, or for the Emulator when asked to."""
        return bool(self.teams_app_id) or self.emulator

    @property
    def teams_authenticated(self) -> bool:
        return bool(self.teams_app_id)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def from_env(cls, env: os._Environ[str] | dict[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        tz_name = env.get("BOT_TIMEZONE", "").strip() or DEFAULT_TIMEZONE
        try:
            ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"BOT_TIMEZONE={tz_name!r} is not a known time zone; use an IANA name such as Europe/London"
            ) from None
        port_text = env.get("PORT", "").strip() or "3978"
        try:
            port = int(port_text)
            if not 0 < port < 65536:
                raise ValueError
        except ValueError:
            raise ConfigError(f"PORT={port_text!r} is not a port number (1-65535)") from None
        admins = frozenset(a.strip().lower() for a in env.get("BOT_ADMINS", "").split(",") if a.strip())
        token, secret = env.get("SLACK_BOT_TOKEN", "").strip(), env.get("SLACK_SIGNING_SECRET", "").strip()
        if bool(token) != bool(secret):
            missing = "SLACK_SIGNING_SECRET" if token else "SLACK_BOT_TOKEN"
            raise ConfigError(
                f"Slack needs both SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET; {missing} is not set. "
                "Set both to serve Slack, or neither to run without it."
            )
        api_url = env.get("SLACK_API_URL", "").strip() or DEFAULT_SLACK_API_URL
        if not api_url.startswith(("https://", "http://")):
            raise ConfigError(f"SLACK_API_URL={api_url!r} is not an http(s) URL")
        app_id = env.get("MICROSOFT_APP_ID", "").strip()
        app_type = env.get("MICROSOFT_APP_TYPE", "").strip()
        tenant = env.get("MICROSOFT_APP_TENANT_ID", "").strip()
        if app_type and app_type not in APP_TYPES:
            raise ConfigError(f"MICROSOFT_APP_TYPE={app_type!r} must be one of {', '.join(APP_TYPES)}")
        if app_type in ("SingleTenant", "UserAssignedMSI") and not tenant:
            raise ConfigError(f"MICROSOFT_APP_TYPE={app_type} needs MICROSOFT_APP_TENANT_ID")
        if app_id and app_type != "UserAssignedMSI" and not env.get("MICROSOFT_APP_PASSWORD", "").strip():
            raise ConfigError("MICROSOFT_APP_ID is set but MICROSOFT_APP_PASSWORD is not")
        emulator_text = env.get("BOT_EMULATOR", "").strip().lower()
        if emulator_text not in ("",) + TRUE_WORDS + ("0", "false", "no", "off"):
            raise ConfigError(
                f"BOT_EMULATOR={emulator_text!r} must be 1 (development: the Bot Framework Emulator) or unset"
            )
        emulator = emulator_text in TRUE_WORDS
        listed = tuple(h.strip().lower() for h in env.get("TEAMS_SERVICE_URL_ALLOWLIST", "").split(",") if h.strip())
        allowlist = listed or DEFAULT_TEAMS_ALLOWLIST + (EMULATOR_HOSTS if emulator else ())
        metadata_url = env.get("BOT_OPENID_METADATA_URL", "").strip()
        if metadata_url and not (
            metadata_url.startswith("https://") or (emulator and metadata_url.startswith("http://"))
        ):
            raise ConfigError(
                f"BOT_OPENID_METADATA_URL={metadata_url!r} must be an https URL (plain http only with BOT_EMULATOR=1)"
            )
        return cls(
            database_url=env.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL,
            timezone=tz_name,
            admins=admins,
            port=port,
            slack_bot_token=token,
            slack_signing_secret=secret,
            slack_app_token=env.get("SLACK_APP_TOKEN", "").strip(),
            slack_api_url=api_url if api_url.endswith("/") else api_url + "/",
            teams_app_id=app_id,
            teams_app_password=env.get("MICROSOFT_APP_PASSWORD", "").strip(),
            teams_app_type=app_type,
            teams_tenant_id=tenant,
            teams_allowlist=allowlist,
            emulator=emulator,
            teams_openid_metadata_url=metadata_url,
        )
