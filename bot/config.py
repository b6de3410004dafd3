"""Settings, read once from the environment (see the README's table)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_DATABASE_URL = "sqlite:///kentconnects.db"
DEFAULT_TIMEZONE = "Europe/London"


class ConfigError(ValueError):
    """A setting is missing or wrong; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    timezone: str = DEFAULT_TIMEZONE
    admins: frozenset[str] = field(default_factory=frozenset)
    port: int = 3978

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def from_env(cls, env: "os._Environ[str] | dict[str, str] | None" = None) -> "Settings":
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
        admins = frozenset(
            a.strip().lower() for a in env.get("BOT_ADMINS", "").split(",") if a.strip()
        )
        return cls(
            database_url=env.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL,
            timezone=tz_name,
            admins=admins,
            port=port,
        )
