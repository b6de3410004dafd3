"""Which platforms this deployment serves and sends to, decided from the settings in one place.

`serve` (with or without its worker) and `worker` both build their senders here, so that the
Procfile's layout (`web: serve --no-worker` plus `worker`) delivers exactly as one `serve` does.
The console is no sender: what reaches nobody on a configured platform is held, and the console
shows it when the person next chats there (bot.console).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Optional

from sqlalchemy.orm import Session, sessionmaker

from bot.senders import Sender
from core.settings import Settings

if TYPE_CHECKING:  # the SDKs are imported only when their platform is configured
    from bot.router import Router
    from bot.slack_adapter import SlackAdapter, SlackInstalls
    from bot.teams_adapter import TeamsAdapter

logger = logging.getLogger(__name__)

NAMES = {"slack": "Slack", "teams": "Teams"}


def describe(platforms: tuple[str, ...]) -> str:
    return " and ".join(NAMES[p] for p in platforms) or "no platform"


def slack_installs(settings: Settings, sessions: sessionmaker[Session]) -> Optional[SlackInstalls]:
    """The distributed Slack app's installs (tokens in our database), or None for one workspace's."""
    if not settings.slack_distributed:
        return None
    from bot.slack_adapter import SlackInstalls

    return SlackInstalls(
        sessions.kw["bind"], settings.slack_client_id, settings.slack_client_secret, settings.slack_api_url
    )


def build_senders(settings: Settings, sessions: sessionmaker[Session]) -> list[Sender]:
    """A sender for each configured platform (none for the console)."""
    senders: list[Sender] = []
    if settings.slack_enabled:
        from bot.slack_adapter import SlackSender

        senders.append(
            SlackSender(settings.slack_bot_token, settings.slack_api_url, installs=slack_installs(settings, sessions))
        )
    if settings.teams_enabled:
        from bot.teams_adapter import TeamsSender

        senders.append(TeamsSender(sessions, settings))
    if senders:
        logger.info("deliveries go out on %s", describe(settings.platforms))
    else:
        logger.warning(
            "neither Slack nor Teams is configured: messages the bot starts itself are held, and "
            "shown to each person when they next chat in the console"
        )
    return senders


def build_adapters(
    router: Router, sessions: sessionmaker[Session], settings: Settings
) -> tuple[Optional[SlackAdapter], Optional[TeamsAdapter]]:
    """The inbound adapters `serve` mounts: only those the settings configure."""
    slack = teams = None
    if settings.slack_distributed:
        from bot.slack_adapter import SlackAdapter, oauth_settings

        installs = slack_installs(settings, sessions)
        assert installs is not None
        slack = SlackAdapter(
            router,
            "",
            settings.slack_signing_secret,
            settings.slack_api_url,
            installs=installs,
            oauth=oauth_settings(settings, installs),
            public_url=settings.public_url,
        )
        if settings.slack_bot_token:
            logger.warning(
                "SLACK_BOT_TOKEN is set but not used: with SLACK_CLIENT_ID every workspace's token comes from its "
                "install through /slack/install (a workspace that used SLACK_BOT_TOKEN installs once there; its "
                "people are kept). Unset SLACK_BOT_TOKEN to silence this."
            )
        logger.info(
            "Slack (the app installed in many workspaces) is served at POST /slack/events; installs at "
            "GET /slack/install, back at %s (Web API at %s)",
            settings.slack_redirect_url or "the app's Redirect URL (PUBLIC_URL unset)",
            settings.slack_api_url,
        )
    elif settings.slack_enabled:
        from bot.slack_adapter import SlackAdapter

        slack = SlackAdapter(router, settings.slack_bot_token, settings.slack_signing_secret, settings.slack_api_url)
        logger.info("Slack is served at POST /slack/events (Web API at %s)", settings.slack_api_url)
    else:
        logger.info(
            "Slack is not configured (SLACK_SIGNING_SECRET with SLACK_BOT_TOKEN, or with SLACK_CLIENT_ID and "
            "SLACK_CLIENT_SECRET, unset)"
        )
    if settings.teams_enabled:
        from bot.teams_adapter import TeamsAdapter

        teams = TeamsAdapter(router, sessions, settings)
        logger.info(
            "Teams is served at POST /api/messages (service URLs allowed: %s)", ", ".join(settings.teams_allowlist)
        )
    else:
        logger.info("Teams is not configured (MICROSOFT_APP_ID unset, BOT_EMULATOR unset): /api/messages is 404")
    if settings.emulator:
        logger.warning(
            "BOT_EMULATOR=1: DEVELOPMENT MODE. %s; service URLs on localhost and plain http are "
            "contacted. Never run a public server like this.",
            "/api/messages takes requests WITHOUT authentication"
            if not settings.teams_app_id
            else "Teams requests are authenticated",
        )
    return slack, teams


def close(senders: list[Sender]) -> None:
    for sender in senders:
        getattr(sender, "close", lambda: None)()
