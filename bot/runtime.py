"""Wiring: settings -> engine -> migrated database -> router."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.router import Router
from core.settings import Settings
from storage import db, seed
from storage.demo import load_demo

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    router: Router


def build(settings: Settings) -> Runtime:
    engine = db.make_engine(settings.database_url)
    sessions = db.make_session_factory(engine)
    return Runtime(settings, engine, sessions, Router(sessions, settings))


def prepare_database(runtime: Runtime, with_demo: bool) -> bool:
    """Migrate; on an empty database also load the partners, groups and (if asked) the demo.

    Returns True if it loaded data.
    """
    db.upgrade(runtime.engine)
    try:
        with runtime.sessions.begin() as session:
            if not seed.is_empty(session):
                return False
            if with_demo:
                summary = load_demo(session, local_today(runtime.settings), runtime.settings.timezone)
                logger.info("first run: loaded %s and demo meetings", summary)
            else:
                summary = seed.load_file(session, seed.PARTNERS_FILE)
                logger.info("first run: loaded %s", summary)
            return True
    except IntegrityError:
        # Another process loaded the same data at the same moment; theirs stands.
        logger.info("first run: data was loaded by another process")
        return False


def local_today(settings: Settings) -> date:
    return datetime.now(timezone.utc).astimezone(settings.zone).date()
