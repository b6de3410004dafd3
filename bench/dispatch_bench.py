"""How fast the delivery dispatcher drains its queue, on SQLite and PostgreSQL.

    python bench/dispatch_bench.py [--count N] [--batch B] [--postgres URL]

For each database: N pending deliveries (10,000 by default) to 300 people, each on Teams in one
of the 19 partners' tenants. The dispatcher claims them batch by batch under a lease, routes
each batch, hands the messages to a sender and marks the outcomes. Measured, each on a fresh
queue of the same rows:

- an instant sender with no rate limit (the dispatcher's own cost);
- a sender that takes 5 ms per message, with no rate limit (sends in flight side by side);
- the same 5 ms sender with a rate-limit bucket per tenant, as Slack workspaces and Teams
  tenants have (each bucket's messages go one after another, the 19 buckets side by side);
- the instant sender with the old shape (batches of 50, one send at a time), for comparison.

Each is printed against baselines measured in the same run on the same database: the raw cost
of inserting the N rows (one bulk INSERT) and of reading them back (one SELECT). The issue's
targets (on PostgreSQL: 5,000/s and 0.15x the INSERT rate with the instant sender, 2,000/s with
the 5 ms one) are printed beside the figures. The peak traced memory (tracemalloc) is measured
in a separate pass, since tracing slows everything down. SQLite works in a temporary file;
PostgreSQL in a temporary schema, dropped at the end; without a server its rows are skipped
with the reason. Figures vary with the machine; compare the ratios, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import delete, func, insert, select

from bench.common import reachable
from bot.dispatcher import Dispatcher, Policy
from bot.senders import RateLimit, Recipient, SendResult
from core.messages import Action, Reply
from storage import db
from storage.models import Delivery, DeliveryStatus, Person, PlatformIdentity

PEOPLE = 300
PAYLOAD = Reply(
    "Reminder: GIS meets in 1 day, on Tuesday 8 December 2026, 10:00–12:00 GMT.",
    title="GIS meeting",
    actions=(Action("Details", "next gis meeting"), Action("Reminder settings", "reminders")),
).to_data()


TENANTS = [f"tenant-{k:02d}" for k in range(19)]


class InstantSender:
    """Sends nothing anywhere: the dispatcher's own cost, without a platform's."""

    platform = "teams"
    by_email = False

    def __init__(self, delay: float = 0.0, buckets: bool = False):
        self.count = 0
        self.delay = delay
        self.buckets = buckets
        self.lock = threading.Lock()

    def rate_limit(self, recipient: Recipient):
        # Generous enough never to make anyone wait: the cost of taking the tokens is the point.
        return RateLimit(f"teams:{recipient.workspace}", 100_000.0, 100_000.0) if self.buckets else None

    def send(self, recipient: Recipient, message: Reply) -> SendResult:
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
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
        ids = list(connection.execute(select(Person.id).order_by(Person.id)).scalars())
        connection.execute(
            insert(PlatformIdentity),
            [
                {
                    "person_id": person,
                    "platform": "teams",
                    "external_id": f"user:29:bench{k}",
                    "workspace": TENANTS[k % len(TENANTS)],
                    "enterprise": "",
                }
                for k, person in enumerate(ids)
            ],
        )
        return ids


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


def _drain(sessions, policy: Policy, sender: InstantSender) -> tuple[int, int, float]:
    dispatcher = Dispatcher(sessions, [sender], policy, owner="bench")
    start = time.perf_counter()
    claimed = dispatcher.run_until_idle(max_batches=10**6)
    elapsed = time.perf_counter() - start
    dispatcher.close()
    return claimed, sender.count, elapsed


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
        print(
            f"{kind:10s} baseline: bulk INSERT {count / insert_s:8,.0f} rows/s, one SELECT {count / select_s:8,.0f} rows/s"
        )
        runs = [
            ("instant sender", Policy(batch=batch), lambda: InstantSender(), 5000),
            ("5 ms sender", Policy(batch=batch), lambda: InstantSender(delay=0.005), 2000),
            ("5 ms sender, 19 buckets", Policy(batch=batch), lambda: InstantSender(delay=0.005, buckets=True), None),
            ("old shape: batch 50, 1 at a time", Policy(batch=50, concurrency=1), lambda: InstantSender(), None),
        ]
        for n, (name, policy, make_sender, target) in enumerate(runs):
            if n:  # a fresh queue of the same rows for each run
                with engine.begin() as connection:
                    connection.execute(delete(Delivery))
                _queue(engine, people, count, f"run{n}")
            claimed, sent, drain_s = _drain(sessions, policy, make_sender())
            assert claimed == sent == count == _sent(engine), (name, claimed, sent, _sent(engine))
            rate = count / drain_s
            aim = ""
            if target is not None and kind == "postgresql":
                aim = f"  [target >= {target:,}/s: {'met' if rate >= target else 'NOT met'}"
                if name == "instant sender":
                    aim += f"; >= 0.15x INSERT: {'met' if rate * insert_s / count >= 0.15 else 'NOT met'}"
                aim += "]"
            print(
                f"{kind:10s} {name:33s} {rate:8,.0f} deliveries/s = {rate * insert_s / count:5.2f}x the INSERT rate, "
                f"{rate * select_s / count:5.3f}x the SELECT's{aim}"
            )

        with engine.begin() as connection:  # a fresh queue for the memory pass
            connection.execute(delete(Delivery))
        _queue(engine, people, count, "traced")
        tracemalloc.start()
        traced_claimed, _, _ = _drain(sessions, Policy(batch=batch), InstantSender())
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert traced_claimed == count
        print(f"{kind:10s} peak traced memory while draining (instant sender, batch {batch}): {peak / 1e6:.1f} MB")
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=Policy().batch)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    print(
        f"{args.count:,} deliveries to {PEOPLE} people in {len(TENANTS)} tenants on each database; "
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
