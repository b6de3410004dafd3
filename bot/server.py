"""`serve`: one aiohttp server with the health check, the calendar feeds and the platforms' routes."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from typing import Optional

from aiohttp import web
from sqlalchemy.orm import Session, sessionmaker

import calendars
from bot import platforms
from bot.runtime import Runtime
from storage import db, groups as group_queries, reach as reach_queries
from storage.models import GroupAccess

logger = logging.getLogger(__name__)

CALENDAR_TYPE = "text/calendar"


def make_app(runtime: Runtime, slack=None, teams=None) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)
    app["runtime"] = runtime
    # The health check and the feeds only read: on SQLite they begin DEFERRED and read a snapshot
    # beside the writer (WAL) instead of queueing for the write lock behind chat requests.
    app["reading"] = sessionmaker(bind=db.reader(runtime.engine), expire_on_commit=False)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/calendar/events.ics", events_feed)
    app.router.add_get("/calendar/{slug}.ics", group_feed)
    if slack is not None:
        app.router.add_post("/slack/events", slack.handle_http)
        if slack.distributed:
            app.router.add_get("/slack/install", slack.handle_install)
            app.router.add_get("/slack/oauth_redirect", slack.handle_oauth_redirect)
    if teams is not None:
        app.router.add_post("/api/messages", teams.handle_http)
    return app


def _health(runtime: Runtime, reading: sessionmaker[Session]) -> tuple[bool, Optional[dict[str, int]]]:
    """Whether the database answers, and the bot's reach as counts (one statement, which is the
    check itself); when the count fails, a plain SELECT 1 says whether the database is there."""
    try:
        with reading() as session:
            return True, reach_queries.counts(session)
    except Exception:  # logged; the database's own answer decides the status
        logger.warning("healthz: the reach could not be counted", exc_info=True)
        return db.database_answers(runtime.engine), None


async def healthz(request: web.Request) -> web.Response:
    """200 with the reach as counts only (no names, no ids) while the database answers; else 503."""
    runtime: Runtime = request.app["runtime"]
    answers, reach = await asyncio.to_thread(_health, runtime, request.app["reading"])
    if answers:
        body: dict[str, object] = {"status": "ok", "database": "ok"}
        if reach is not None:
            body["reach"] = reach
        # Which of several `serve` processes on one port answered (--processes, --reuse-port).
        return web.json_response(body, headers={"X-Process-Id": str(os.getpid())})
    return web.json_response({"status": "unavailable", "database": "not answering"}, status=503)


def _ics(content: bytes, filename: str) -> web.Response:
    return web.Response(
        body=content,
        content_type=CALENDAR_TYPE,
        charset="utf-8",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


async def events_feed(request: web.Request) -> web.Response:
    reading: sessionmaker[Session] = request.app["reading"]

    def build() -> bytes:
        with reading() as session:
            return calendars.public_events_feed(session, datetime.now(timezone.utc))

    return _ics(await asyncio.to_thread(build), "events.ics")


async def group_feed(request: web.Request) -> web.Response:
    """An open group's meetings; a restricted group's are never served (404, as for unknown)."""
    reading: sessionmaker[Session] = request.app["reading"]
    slug = request.match_info["slug"].lower()

    def build() -> Optional[bytes]:
        with reading() as session:
            group = group_queries.group_by_slug(session, slug)
            if group is None or group.access is not GroupAccess.OPEN:
                return None
            return calendars.group_feed(session, group, datetime.now(timezone.utc))

    content = await asyncio.to_thread(build)
    if content is None:
        raise web.HTTPNotFound(text="No such calendar. Feeds exist for the open groups, e.g. /calendar/gis.ics.")
    return _ics(content, f"{slug}.ics")


def serve(runtime: Runtime, port: int, with_worker: bool, reuse_port: bool = False) -> None:
    from bot.worker import Worker

    slack, teams = platforms.build_adapters(runtime.router, runtime.sessions, runtime.settings)
    senders = platforms.build_senders(runtime.settings, runtime.sessions) if with_worker else []
    worker = Worker(runtime.sessions, runtime.settings, senders) if with_worker else None
    app = make_app(runtime, slack, teams)
    if slack is not None and runtime.settings.slack_app_token:
        app.on_startup.append(lambda _app: slack.connect_socket_mode(runtime.settings.slack_app_token))
    if worker is not None:
        worker.start()
    try:
        web.run_app(
            app,
            port=port,
            access_log=None,
            handle_signals=True,
            reuse_port=reuse_port or None,
            print=lambda text: logger.info("listening on port %s", port),
        )
    finally:
        if worker is not None:
            worker.stop()
        platforms.close(senders)


# --- several serve processes on one port ---------------------------------------------------------

RESTART_QUICK_SECONDS = 30  # a process that ends sooner than this after its start "failed at once"
RESTART_QUICK_LIMIT = 3  # ... and this many such ends in a row stop the whole
STOP_SECONDS = 30  # how long the processes have to stop after SIGTERM before they are killed


def _entry_point() -> list[str]:
    """How this program was started (`python -m bot`, or another module with bot's command line)."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return [sys.executable, "-m", spec.name if spec is not None and spec.name else "bot"]


def supervise(port: int, processes: int, with_worker: bool) -> int:
    """Run `processes` serve processes on one port (SO_REUSEPORT: the kernel spreads the
    connections among them) and keep them running: one that ends is started again, unless it
    keeps ending at once, when all are stopped and the exit status is 1. SIGTERM or SIGINT stops
    them all (each finishes the requests in hand) and returns 0. The first process also runs the
    worker (unless `with_worker` is false): one timer per host is enough, and safe with more.
    """
    stopping = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stopping.set()) for sig in (signal.SIGTERM, signal.SIGINT)}

    def command(index: int) -> list[str]:
        own_worker = with_worker and index == 0
        return _entry_point() + ["serve", "--port", str(port), "--reuse-port"] + ([] if own_worker else ["--no-worker"])

    def start(index: int) -> tuple[subprocess.Popen, float]:
        child = subprocess.Popen(command(index), stdin=subprocess.DEVNULL)
        logger.info("serve process %s of %s started (pid %s)", index + 1, processes, child.pid)
        return child, time.monotonic()

    children = [start(i) for i in range(processes)]
    quick_ends = [0] * processes
    status = 0
    try:
        while not stopping.wait(0.2):
            for index, (child, started) in enumerate(children):
                code = child.poll()
                if code is None:
                    continue
                quick = time.monotonic() - started < RESTART_QUICK_SECONDS
                quick_ends[index] = quick_ends[index] + 1 if quick else 0
                if quick_ends[index] >= RESTART_QUICK_LIMIT:
                    logger.error(
                        "serve process %s (pid %s) ended with %s, %s times in a row soon after starting: stopping all",
                        index + 1,
                        child.pid,
                        code,
                        quick_ends[index],
                    )
                    status = 1
                    stopping.set()
                    break
                logger.warning("serve process %s (pid %s) ended with %s: starting it again", index + 1, child.pid, code)
                children[index] = start(index)
    finally:
        for child, _ in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for child, _ in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.error(
                    "serve process pid %s did not stop within %s s of SIGTERM: killed", child.pid, STOP_SECONDS
                )
                child.kill()
                child.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        logger.info("all %s serve processes stopped", processes)
    return status
