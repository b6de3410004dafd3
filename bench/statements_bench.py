"""How many SQL statements a request takes (issue 16), on SQLite and PostgreSQL, Slack and Teams.

    python bench/statements_bench.py [--postgres URL] [-v]

Counts every statement the engine sends (SQLAlchemy's before_cursor_execute) for the common
commands on a fresh demo database, as a person's first request ever (new: stored, linked, their
Teams reference written) and as a repeat caller's (known: the identity linked, the reference
kept, a member of two groups). The work is the SQL column; BEGIN, COMMIT, ROLLBACK and SAVEPOINTs are counted apart
("tx"). The baseline, measured in the same run, is a transaction doing `SELECT 1` (1 statement):
each figure reads as so many times the round trips of the least a request can do. It measures,
it doesn't assert (tests/bot/test_statement_budget.py asserts the budget). With -v each
statement is printed.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import sys
import tempfile
from datetime import date, datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, select, text

from bench.common import demo_router, reachable
from core.messages import KeptReference, Request
from storage.models import Event, EventStatus

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
TENANT = "0a1b2c3d-0000-4000-8000-000000000c0c"
CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
_numbers = itertools.count(1)


def commands(event_id: int) -> list[str]:
    return [
        "next gis meeting",
        "events",
        f"register for {event_id}",  # asks in person or online: the draft is kept
        f"register {event_id} online",  # the new registration itself
        "my meetings",
        "groups",
        "help",
        "meetings in march",
        "when does the infosec group meet next?",
    ]


class Counter:
    def __init__(self, engine):
        self.statements: list[str] = []
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, conn, cursor, statement, params, context, executemany) -> None:
        self.statements.append(" ".join(statement.split()))

    def take(self) -> tuple[list[str], list[str]]:
        taken, self.statements = self.statements, []
        control = [s for s in taken if s.upper().startswith(CONTROL)]
        return [s for s in taken if not s.upper().startswith(CONTROL)], control


def request(platform: str, words: str, person: int) -> Request:
    email = f"bench.person{person}@kent.gov.uk"  # a partner's address: stored at first contact
    if platform == "slack":
        return Request(text=words, platform="slack", user_id=f"U{person:06d}", email=email, now=NOW, workspace="T0KCC")
    user = f"29:bench-{person}"
    return Request(
        text=words,
        platform="teams",
        user_id=user,
        email=email,
        now=NOW,
        workspace=TENANT,
        conversation=f"a:{person}",
        keep_reference=KeptReference(
            f"user:{user}",
            {"conversation": {"id": f"a:{person}", "tenantId": TENANT}, "serviceUrl": "https://smba.example/"},
            "https://smba.example/",
            TENANT,
        ),
    )


def measure(router, counter: Counter, platform: str, words: str) -> tuple[int, int, int, int, list[str], list[str]]:
    """(first: sql, tx; repeat: sql, tx) and the statements of each."""
    new = next(_numbers)
    counter.take()
    router.handle(request(platform, words, new), once=f"bench:{next(_numbers)}")
    first, first_tx = counter.take()
    known = next(_numbers)
    for warm in ("join gis", "join infosec", "help"):  # a known member of two groups: linked, reference kept
        router.handle(request(platform, warm, known), once=f"bench:{next(_numbers)}")
    counter.take()
    router.handle(request(platform, words, known), once=f"bench:{next(_numbers)}")
    repeat, repeat_tx = counter.take()
    return len(first), len(first_tx), len(repeat), len(repeat_tx), first, repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every statement")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as cleanup:
        targets = [("sqlite", f"sqlite:///{tmp}/bench.db")]
        schemas = reachable(args.postgres, "kc_statements")
        if schemas is not None:
            cleanup.callback(schemas.close)
            targets.append(("postgresql", schemas.url()))
        for kind, url in targets:
            router, engine = demo_router(url, date(2026, 11, 25))
            with engine.connect() as connection:
                event_id = (
                    connection.execute(
                        select(Event.id)
                        .where(Event.status == EventStatus.PUBLISHED, Event.starts_at_utc > NOW)
                        .order_by(Event.starts_at_utc)
                    )
                    .scalars()
                    .first()
                )
            counter = Counter(engine)
            with engine.begin() as connection:
                connection.execute(text("SELECT 1"))
            baseline, baseline_tx = counter.take()
            print(f"\n{kind}: baseline, a transaction doing SELECT 1: {len(baseline)} SQL + {len(baseline_tx)} tx")
            print(f"{'':10s}{'command':44s}{'new person':>16s}{'repeat caller':>16s}{'ratio':>8s}")
            for platform in ("slack", "teams"):
                for words in commands(event_id or 1):
                    first, first_tx, repeat, repeat_tx, first_sql, repeat_sql = measure(
                        router, counter, platform, words
                    )
                    print(
                        f"{platform:10s}{words:44s}{f'{first} + {first_tx} tx':>16s}"
                        f"{f'{repeat} + {repeat_tx} tx':>16s}{repeat / max(len(baseline), 1):>7.0f}x"
                    )
                    if args.verbose:
                        for label, statements in (("new", first_sql), ("repeat", repeat_sql)):
                            for statement in statements:
                                print(f"{'':14s}{label:7s} {statement[:150]}")
            engine.dispose()
    print(
        "\n(SQL: statements other than BEGIN/COMMIT/ROLLBACK/SAVEPOINT/RELEASE; tx: those, where the driver sends "
        "them as statements (psycopg begins implicitly); ratio: the repeat caller's SQL / the baseline's)"
    )


if __name__ == "__main__":
    main()
