"""`serve`: one aiohttp server with the health check, the calendar feeds and the platforms' routes."""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from typing import Optional

from aiohttp import web

from bot.runtime import Runtime
from handlers import calendar
from storage import db, groups as group_queries
from storage.models import GroupAccess

logger = logging.getLogger(__name__)

CALENDAR_TYPE = "text/calendar"


def make_app(runtime: Runtime, slack=None, teams=None) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)
    app["runtime"] = runtime
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/calendar/events.ics", events_feed)
    app.router.add_get("/calendar/{slug}.ics", group_feed)
    if slack is not None:
        app.router.add_post("/slack/events", slack.handle_http)
    if teams is not None:
        app.router.add_post("/api/messages", teams.handle_http)
    return app


async def healthz(request: web.Request) -> web.Response:
    runtime: Runtime = request.app["runtime"]
    answers = await asyncio.to_thread(db.database_answers, runtime.engine)
    if answers:
        return web.json_response({"status": "ok", "database": "ok"})
    return web.json_response({"status": "unavailable", "database": "not answering"}, status=503)


def _ics(content: bytes, filename: str) -> web.Response:
    return web.Response(body=content, content_type=CALENDAR_TYPE, charset="utf-8",
                        headers={"Content-Disposition": f'inline; filename="{filename}"'})


async def events_feed(request: web.Request) -> web.Response:
    runtime: Runtime = request.app["runtime"]

    def build() -> bytes:
        with runtime.sessions() as session:
            return calendar.public_events_feed(session, datetime.now(timezone.utc))

    return _ics(await asyncio.to_thread(build), "events.ics")


async def group_feed(request: web.Request) -> web.Response:
    """An open group's meetings; a restricted group's are never served (404, as for unknown)."""
    runtime: Runtime = request.app["runtime"]
    slug = request.match_info["slug"].lower()

    def build() -> Optional[bytes]:
        with runtime.sessions() as session:
            group = group_queries.group_by_slug(session, slug)
            if group is None or group.access is not GroupAccess.OPEN:
                return None
            return calendar.group_feed(session, group, datetime.now(timezone.utc))

    content = await asyncio.to_thread(build)
    if content is None:
        raise web.HTTPNotFound(text="No such calendar. Feeds exist for the open groups, e.g. /calendar/gis.ics.")
    return _ics(content, f"{slug}.ics")


def _platforms(runtime: Runtime):
    """The adapters `serve` answers for and the senders its worker uses, as the settings ask."""
    from bot.senders import ConsoleSender
    from bot.teams_adapter import TeamsAdapter, TeamsSender

    settings = runtime.settings
    slack, senders = None, []
    if settings.slack_enabled:
        from bot.slack_adapter import SlackAdapter, SlackSender

        slack = SlackAdapter(runtime.router, settings.slack_bot_token, settings.slack_signing_secret,
                             settings.slack_api_url)
        senders.append(SlackSender(settings.slack_bot_token, settings.slack_api_url))
        logger.info("Slack is served at POST /slack/events (Web API at %s)", settings.slack_api_url)
    else:
        logger.info("Slack is not configured (SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET unset)")
    teams = TeamsAdapter(runtime.router, runtime.sessions, settings)
    senders.append(TeamsSender(runtime.sessions, settings))
    logger.info("Teams is served at POST /api/messages (service URLs allowed: %s)", ", ".join(settings.teams_allowlist))
    if not settings.slack_enabled and not settings.teams_app_id:
        senders.append(ConsoleSender())  # development: print what has no platform to go to
    return slack, teams, senders


def serve(runtime: Runtime, port: int, with_worker: bool) -> None:
    from bot.worker import Worker

    slack, teams, senders = _platforms(runtime)
    worker = Worker(runtime.sessions, runtime.settings, senders) if with_worker else None
    app = make_app(runtime, slack, teams)
    if slack is not None and runtime.settings.slack_app_token:
        app.on_startup.append(lambda _app: slack.connect_socket_mode(runtime.settings.slack_app_token))
    if worker is not None:
        worker.start()
    try:
        web.run_app(app, port=port, access_log=None, handle_signals=True,
                    print=lambda text: logger.info("listening on port %s", port))
    finally:
        if worker is not None:
            worker.stop()
        for sender in senders:
            getattr(sender, "close", lambda: None)()
