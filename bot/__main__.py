"""The command line: `python -m bot [console|serve|worker|db upgrade|seed]`."""

from __future__ import annotations

import argparse
import logging
import re
import sys
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from bot import logs, platforms
from bot.console import run_interactive, run_lines
from bot.nlu import model as nlu_model
from bot.runtime import build, local_today, prepare_database
from bot.server import serve, supervise
from bot.worker import Worker
from core.settings import ConfigError, Settings
from storage import db, seed
from storage.demo import DEMO_USER, load_demo

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Kent Connects Bot")
    commands = parser.add_subparsers(dest="command")
    console = commands.add_parser("console", help="chat in this terminal (the default)")
    console.add_argument("--user", default=DEMO_USER, help=f"chat as this e-mail address (default {DEMO_USER})")
    serve = commands.add_parser("serve", help="the HTTP server for Slack, Teams and calendars")
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--no-worker", action="store_true")
    serve.add_argument(
        "--reuse-port",
        action="store_true",
        help="bind the port with SO_REUSEPORT, so that several serve processes share it (Linux, BSD)",
    )
    serve.add_argument(
        "--processes",
        type=int,
        default=1,
        metavar="N",
        help="run N serve processes on the port (with --reuse-port), restarted if one ends; the first runs the worker",
    )
    commands.add_parser("worker", help="the reminder scheduler and delivery dispatcher")
    package = commands.add_parser("teams-package", help="build the Microsoft Teams app package (a zip)")
    package.add_argument("--app-id", default=None, help="the bot's Microsoft app id (default: MICROSOFT_APP_ID)")
    package.add_argument(
        "--public-url", default="https://kentconnects.example.org", help="the https address where `serve` is reachable"
    )
    package.add_argument("--out", type=Path, default=Path("kentconnects-teams.zip"))
    package.add_argument(
        "--version",
        default=None,
        dest="app_version",
        help="the app's version in the manifest, MAJOR.MINOR.PATCH (default: the bot's version); "
        "higher than the installed app's to replace it",
    )
    database = commands.add_parser("db", help="database commands")
    database.add_argument("action", choices=["upgrade"])
    seed_cmd = commands.add_parser("seed", help="load partners, groups, people and roles")
    what = seed_cmd.add_mutually_exclusive_group(required=True)
    what.add_argument("file", nargs="?", type=Path, help="a YAML file (see storage/data/kent_connects.yaml)")
    what.add_argument("--demo", action="store_true", help="load the demo data")
    return parser


def _safe_url(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = args.command or "console"
    logs.configure(logging.WARNING if command == "console" else logging.INFO)
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    if command == "teams-package":
        from bot import __version__
        from bot.teams_package import build as build_package

        try:
            out = build_package(
                args.app_id or settings.teams_app_id,
                args.public_url,
                args.out,
                __version__ if args.app_version is None else args.app_version,
            )
        except ValueError as exc:
            print(f"teams-package: {exc}", file=sys.stderr)
            return 2
        print(f"Built {out}: upload it in the Teams admin centre (Teams apps, Manage apps, Upload).")
        return 0
    runtime = build(settings)
    try:
        return _run(command, args, runtime)
    except SQLAlchemyError as exc:
        print(
            f"The database at {_safe_url(settings.database_url)} did not answer: {exc.__class__.__name__}: "
            f"{str(exc).splitlines()[0]}",
            file=sys.stderr,
        )
        return 1
    except seed.SeedError as exc:
        print(f"Seed error: {exc}", file=sys.stderr)
        return 1
    finally:
        runtime.engine.dispose()


def _run(command: str, args: argparse.Namespace, runtime) -> int:
    if command == "db":
        db.upgrade(runtime.engine)
        print("Database is up to date.")
        return 0
    if command == "seed":
        db.upgrade(runtime.engine)
        with runtime.sessions.begin() as session:
            if args.demo:
                summary = load_demo(session, local_today(runtime.settings), runtime.settings.timezone)
            else:
                summary = seed.load_file(session, args.file)
        print(f"Loaded {summary}.")
        return 0
    if command == "serve":
        port = args.port if args.port is not None else runtime.settings.port
        if not 0 < port < 65536:
            print(f"Configuration error: --port {port} is not a port number (1-65535)", file=sys.stderr)
            return 2
        if not 1 <= args.processes <= 64:
            print(f"Configuration error: --processes {args.processes} is not between 1 and 64", file=sys.stderr)
            return 2
        prepare_database(runtime, with_demo=False)
        if args.processes > 1:
            runtime.engine.dispose()  # the processes have their own; this one only watches them
            return supervise(port, args.processes, with_worker=not args.no_worker)
        nlu_model.warm_up()
        serve(runtime, port, with_worker=not args.no_worker, reuse_port=args.reuse_port)
        return 0
    if command == "worker":
        prepare_database(runtime, with_demo=False)
        senders = platforms.build_senders(runtime.settings, runtime.sessions)
        try:
            Worker(runtime.sessions, runtime.settings, senders).run_forever()
        finally:
            platforms.close(senders)
        return 0
    email = getattr(args, "user", DEMO_USER).strip().lower()
    if not EMAIL.match(email):
        print(f"console: --user needs an e-mail address, like someone@medway.gov.uk (got {email!r})", file=sys.stderr)
        return 2
    prepare_database(runtime, with_demo=True)
    nlu_model.warm_up()
    if sys.stdin.isatty():
        run_interactive(runtime.router, email)
    else:
        run_lines(runtime.router, email, sys.stdin, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
