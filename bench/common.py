"""What the benchmarks share: PostgreSQL schemas of their own, and a router on the demo data.

Each database a benchmark fills on PostgreSQL is a schema of its own on the server (the URL's
search_path names it), all dropped when the benchmark is done:

    with PostgresSchemas(args.postgres, "kc_bench") as schemas:   # raises if the server is down
        url = schemas.url("demo")

or `reachable(...)`, which says so and gives None when the server doesn't answer.
"""

from __future__ import annotations

import os
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


# --- serve against its baseline: the targets, and the server's memory ----------------------


def peak_rss_mb(pid: int) -> float | None:
    """The peak resident set of a running process (VmHWM in /proc/<pid>/status), in MB; None where
    there is no /proc (not Linux) or the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def against_targets(
    ours_load: Any,
    base_load: Any,
    ours_single: Any,
    base_single: Any,
    *,
    min_throughput: float,
    max_p99_load: float,
    max_p99_single: float,
    rss_mb: float | None = None,
    max_rss_mb: float = 150,
) -> tuple[list[str], bool]:
    """Lines comparing `serve` with its baseline measured in the same run (each result has
    `.throughput` and `.percentile(p)` in ms), against the targets; and whether all are met."""
    checks = [
        ("throughput, 8 clients", ours_load.throughput / base_load.throughput, ">=", min_throughput),
        ("p99, under load", ours_load.percentile(99) / base_load.percentile(99), "<=", max_p99_load),
        ("p99, one at a time", ours_single.percentile(99) / base_single.percentile(99), "<=", max_p99_single),
    ]
    lines, met = [], True
    for what, ratio, sense, target in checks:
        ok = ratio >= target if sense == ">=" else ratio <= target
        met &= ok
        lines.append(f"  {what:<24} {ratio:6.2f}x   target {sense} {target:g}x   {'met' if ok else 'NOT MET'}")
    if rss_mb is None:
        lines.append(f"  {'peak RSS of serve':<24} unknown (no /proc)   target < {max_rss_mb:g} MB")
    else:
        ok = rss_mb < max_rss_mb
        met &= ok
        lines.append(
            f"  {'peak RSS of serve':<24} {rss_mb:6.1f} MB  target < {max_rss_mb:g} MB   {'met' if ok else 'NOT MET'}"
        )
    return lines, met


def wait_quiet(pid: int, window: float = 0.5, busy: float = 0.1, timeout: float = 60) -> float:
    """Wait until a server that has just started is idle (its CPU time grows by less than `busy`
    of `window`: done warming up, e.g. fitting the language model in the background), so that
    the measurement starts in its steady state. Returns the seconds waited (no /proc: none)."""
    import time

    def cpu() -> float | None:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    start = time.monotonic()
    before = cpu()
    while before is not None and time.monotonic() - start < timeout:
        time.sleep(window)
        after = cpu()
        if after is None or after - before < busy * window:
            break
        before = after
    return time.monotonic() - start
