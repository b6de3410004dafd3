"""What the benchmarks share: PostgreSQL schemas of their own, and a router on the demo data.

Each database a benchmark fills on PostgreSQL is a schema of its own on the server (the URL's
search_path names it), all dropped when the benchmark is done:

    with PostgresSchemas(args.postgres, "kc_bench") as schemas:   # raises if the server is down
        url = schemas.url("demo")

or `reachable(...)`, which says so and gives None when the server doesn't answer.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any
from urllib.parse import quote

from sqlalchemy import text

from bot.router import Router
from core.settings import Settings
from storage import db
from storage.demo import load_demo


class PostgresSchemas:
    def __init__(self, base: str, prefix: str):
        self.base = db.normalise_url(base)
        self.prefix = prefix
        self.created: list[str] = []
        self.engine: Any = None

    def __enter__(self) -> PostgresSchemas:
        self.engine = db.make_engine(self.base, connect_args={"connect_timeout": 3})
        try:
            with self.engine.begin() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:
            self.engine.dispose()
            raise
        return self

    def url(self, name: str = "") -> str:
        """A new, empty schema, and the URL that works in it."""
        schema = "_".join(filter(None, (self.prefix, name, uuid.uuid4().hex[:8])))
        with self.engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        self.created.append(schema)
        separator = "&" if "?" in self.base else "?"
        return f"{self.base}{separator}options={quote(f'-csearch_path={schema}')}"

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self.engine.begin() as connection:
            for schema in self.created:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        self.engine.dispose()


def reachable(base: str, prefix: str) -> PostgresSchemas | None:
    """Entered schemas for the server at `base`, or None (said on the way) when it doesn't answer."""
    try:
        return PostgresSchemas(base, prefix).__enter__()
    except Exception as exc:
        print(f"postgresql: skipped, not reachable at {db.normalise_url(base)} ({exc.__class__.__name__})")
        return None


def demo_router(url: str, day: date, zone: str = "Europe/London") -> tuple[Router, Any]:
    """A router on a new database at `url` with the demo loaded as of `day`, and its engine."""
    engine = db.make_engine(url)
    db.upgrade(engine)
    sessions = db.make_session_factory(engine)
    with sessions.begin() as session:
        load_demo(session, day, zone)
    return Router(sessions, Settings(database_url=url, timezone=zone)), engine
