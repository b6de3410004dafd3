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
# The bot scopes the distributed Slack app asks for at install (SLACK_SCOPES may change them): the
# same as both manifests under slack/ (a test checks).
SLACK_BOT_SCOPES = (
    "app_mentions:read",
    "channels:join",
    "channels:read",
    "chat:write",
    "commands",
    "files:write",
    "groups:read",
    "im:history",
    "im:read",
    "im:write",
    "users:read",
    "users:read.email",
)
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
    # The distributed app (OAuth v2 installs into many workspaces, tokens kept in the database).
    slack_client_id: str = ""
    slack_client_secret: str = ""
    slack_scopes: tuple[str, ...] = SLACK_BOT_SCOPES
    # The public https:// address of `serve` (links, the Teams package, Slack's OAuth redirect).
    public_url: str = ""
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
        return bool(self.slack_signing_secret and (self.slack_bot_token or self.slack_client_id))

    @property
    def platforms(self) -> tuple[str, ...]:
        """The platforms these settings serve, in the order a person on several is reached when
        nothing else decides."""
        return tuple(name for name, on in (("slack", self.slack_enabled), ("teams", self.teams_enabled)) if on)

    @property
    def slack_distributed(self) -> bool:
        """Installed in many workspaces through OAuth, rather than one workspace's SLACK_BOT_TOKEN."""
        return bool(self.slack_signing_secret and self.slack_client_id)

    @property
    def slack_redirect_url(self) -> str:
        """Where Slack sends the installer back; "" lets Slack use the app's one configured URL."""
        return self.public_url + "/slack/oauth_redirect" if self.public_url else ""

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
        client_id, client_secret = env.get("SLACK_CLIENT_ID", "").strip(), env.get("SLACK_CLIENT_SECRET", "").strip()
        if client_id or client_secret:
            _check_distributed_slack(secret, client_id, client_secret)
        elif bool(token) != bool(secret):
            missing = "SLACK_SIGNING_SECRET" if token else "SLACK_BOT_TOKEN"
            raise ConfigError(
                f"Slack needs both SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET; {missing} is not set. "
                "Set both to serve Slack, or neither to run without it (or SLACK_CLIENT_ID, "
                "SLACK_CLIENT_SECRET and SLACK_SIGNING_SECRET for the app installed in many workspaces)."
            )
        scopes = tuple(s.strip() for s in env.get("SLACK_SCOPES", "").replace(" ", ",").split(",") if s.strip())
        public_url = env.get("PUBLIC_URL", "").strip().rstrip("/")
        if public_url and not (
            public_url.startswith("https://") or (emulator_requested(env) and public_url.startswith("http://"))
        ):
            raise ConfigError(
                f"PUBLIC_URL={public_url!r} must be the https:// address of `serve` (plain http only with BOT_EMULATOR=1)"
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
            slack_client_id=client_id,
            slack_client_secret=client_secret,
            slack_scopes=scopes or SLACK_BOT_SCOPES,
            public_url=public_url,
            teams_app_id=app_id,
            teams_app_password=env.get("MICROSOFT_APP_PASSWORD", "").strip(),
            teams_app_type=app_type,
            teams_tenant_id=tenant,
            teams_allowlist=allowlist,
            emulator=emulator,
            teams_openid_metadata_url=metadata_url,
        )


def emulator_requested(env) -> bool:
    return env.get("BOT_EMULATOR", "").strip().lower() in TRUE_WORDS


def _check_distributed_slack(secret: str, client_id: str, client_secret: str) -> None:
    """The distributed app needs its id, its secret and the signing secret."""
    if not (client_id and client_secret):
        missing = "SLACK_CLIENT_SECRET" if client_id else "SLACK_CLIENT_ID"
        raise ConfigError(
            f"The Slack app installed through OAuth needs both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET; "
            f"{missing} is not set (App Credentials on the app's Basic Information page)."
        )
    if not secret:
        raise ConfigError(
            "SLACK_CLIENT_ID is set but SLACK_SIGNING_SECRET is not: Slack's requests can't be checked without it."
        )
    # With SLACK_BOT_TOKEN as well (a deployment moving to the distributed app), the token is not
    # used: bot.platforms says so at start.
