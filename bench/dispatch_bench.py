"""How fast the delivery dispatcher drains its queue, on SQLite and PostgreSQL.

    python bench/dispatch_bench.py [--count N] [--batch B] [--postgres URL]

For each database: N pending deliveries (10,000 by default) to 300 people; the dispatcher claims
them batch by batch under a lease and hands each to an instant sender, then marks it sent. Prints
deliveries per second, against baselines measured in the same run on the same database: the raw
cost of inserting the N rows (one bulk INSERT) and of reading them back (one SELECT). The peak
traced memory (tracemalloc) is measured in a separate pass over a fresh queue, since tracing
slows everything down. SQLite works in a temporary file; PostgreSQL in a temporary schema
(search_path in the URL's options), dropped at the end; without a server its rows are skipped
with the reason. Figures vary with the machine; compare the ratios, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import delete, func, insert, select

from bench.common import reachable
from bot.dispatcher import Dispatcher, Policy
from bot.senders import Recipient, SendResult
from core.messages import Action, Reply
from storage import db
from storage.models import Delivery, DeliveryStatus, Person

PEOPLE = 300
PAYLOAD = Reply(
    "Reminder: GIS meets in 1 day, on Tuesday 8 December 2026, 10:00–12:00 GMT.",
    title="GIS meeting",
    actions=(Action("Details", "next gis meeting"), Action("Reminder settings", "reminders")),
).to_data()


class InstantSender:
    """Sends nothing anywhere: the dispatcher's own cost, without a platform's."""

    platform = "console"
    by_email = True  # reaches anyone by e-mail address

    def __init__(self):
        self.count = 0

    def rate_limit(self, recipient: Recipient):
        return None

    def send(self, recipient: Recipient, message: Reply) -> SendResult:
        self.count += 1
        return SendResult.sent()


def _people(engine) -> list[int]:
    now = datetime.now(timezone.utc)
    with engine.begin() as connection:
        connection.execute(
            insert(Person),
            [
                {"email": f"bench{i}@example.test", "display_name": f"Bench {i}", "created_at": now}
                for i in range(PEOPLE)
            ],
        )
        return list(connection.execute(select(Person.id).order_by(Person.id)).scalars())


def _queue(engine, people: list[int], count: int, run: str) -> float:
    """Insert `count` due deliveries in one transaction; returns the seconds it took."""
    now = datetime.now(timezone.utc)
    rows = [
        {
            "kind": "notice",
            "subject": f"bench:{run}:{k}",
            "occurrence": "1",
            "recipient_id": people[k % len(people)],
            "channel": "direct",
            "payload": PAYLOAD,
            "due_at": now - timedelta(seconds=1),
            "status": DeliveryStatus.PENDING,
            "attempts": 0,
            "created_at": now,
        }
        for k in range(count)
    ]
    start = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(insert(Delivery), rows)
    return time.perf_counter() - start


def _select_all(sessions) -> tuple[int, float]:
    start = time.perf_counter()
    with sessions() as session:
        found = len(session.execute(select(Delivery)).scalars().all())
    return found, time.perf_counter() - start


def _drain(sessions, batch: int) -> tuple[int, int, float]:
    sender = InstantSender()
    dispatcher = Dispatcher(sessions, [sender], Policy(batch=batch), owner="bench")
    start = time.perf_counter()
    claimed = dispatcher.run_until_idle(max_batches=10**6)
    return claimed, sender.count, time.perf_counter() - start


def _sent(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(
            select(func.count()).select_from(Delivery).where(Delivery.status == DeliveryStatus.SENT)
        ).scalar_one()


def bench(kind: str, url: str, count: int, batch: int) -> None:
    engine = db.make_engine(url)
    try:
        db.upgrade(engine)
        sessions = db.make_session_factory(engine)
        people = _people(engine)

        insert_s = _queue(engine, people, count, "timed")
        found, select_s = _select_all(sessions)
        assert found == count
        claimed, sent, drain_s = _drain(sessions, batch)
        assert claimed == sent == count == _sent(engine), (claimed, sent, _sent(engine))

        with engine.begin() as connection:  # a fresh queue for the memory pass
            connection.execute(delete(Delivery))
        _queue(engine, people, count, "traced")
        tracemalloc.start()
        traced_claimed, _, _ = _drain(sessions, batch)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert traced_claimed == count

        rate = count / drain_s
        print(
            f"{kind:10s} baseline: bulk INSERT {count / insert_s:10,.0f} rows/s, one SELECT {count / select_s:10,.0f} rows/s"
        )
        print(
            f"{kind:10s} dispatcher (batch {batch}): {rate:8,.0f} deliveries/s "
            f"({1000 / rate:.2f} ms each; {drain_s / insert_s:,.0f}x the INSERT's time, "
            f"{drain_s / select_s:,.0f}x the SELECT's); peak traced memory {peak / 1e6:.1f} MB"
        )
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=Policy().batch)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    print(
        f"{args.count:,} deliveries to {PEOPLE} people on each database; an instant sender; "
        f"python {sys.version.split()[0]}"
    )

    with tempfile.TemporaryDirectory() as tmp:
        bench("sqlite", f"sqlite:///{tmp}/dispatch-bench.db", args.count, args.batch)

    schemas = reachable(args.postgres, "kc_bench")  # without a server its rows are left out
    if schemas is not None:
        try:
            bench("postgresql", schemas.url(), args.count, args.batch)
        finally:
            schemas.close()


if __name__ == "__main__":
    main()
