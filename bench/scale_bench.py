"""Do the main questions stay fast when the partnership has years of data?

    python bench/scale_bench.py [--postgres URL] [--people 50000] [--registrations 200000]

Fills a database with ten years of meetings, a thousand events, 50,000 people and 200,000
registrations, then times the main questions (`meetings`, `my meetings`, `events`, `my events`,
`review`) beside the same questions on the demo data, in the same run. The ratio should stay
near 1: indexes, and no query per row. Runs on SQLite, and on PostgreSQL when it answers.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select

from bench.common import reachable
from bot.router import Router
from core.messages import Request
from core.settings import Settings
from storage import db
from storage.demo import load_demo
from storage.models import (
    AttendanceMode,
    BusinessCase,
    CaseStatus,
    Event,
    EventFormat,
    EventStatus,
    Group,
    Meeting,
    MeetingStatus,
    MemberRole,
    Membership,
    Partner,
    Person,
    PersonRole,
    PersonRoleKind,
    Registration,
    RegistrationStatus,
)
from storage.wallclock import to_utc

DAY = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
ZONE = "Europe/London"
ASKER = "demo@kent.gov.uk"
BOARD = "board.demo@kent.police.uk"
QUESTIONS = [("meetings", ASKER), ("my meetings", ASKER), ("events", ASKER), ("my events", ASKER), ("review", BOARD)]


def fill(sessions, people: int, registrations: int) -> None:
    """Add the years of data, in bulk, on top of the demo."""
    rng = random.Random(7)
    with sessions.begin() as session:
        groups = list(session.execute(select(Group.id)).scalars())
        partners = list(session.execute(select(Partner.id)).scalars())
        rows = []
        for group_id in groups:  # ten years of monthly meetings per group, five past, five to come
            for month in range(-60, 60):
                day = date(2026 + (10 + month) // 12, (10 + month) % 12 + 1, 10)
                start = datetime.combine(day, datetime.min.time()).replace(hour=10)
                rows.append(
                    dict(
                        group_id=group_id,
                        title="Scale meeting",
                        start_local=start,
                        end_local=start + timedelta(hours=2),
                        timezone=ZONE,
                        starts_at_utc=to_utc(start, ZONE),
                        status=MeetingStatus.SCHEDULED,
                        sequence=0,
                        updated_at=NOW,
                    )
                )
        session.execute(insert(Meeting), rows)
        session.execute(
            insert(Person),
            [
                dict(
                    email=f"scale{i}@kent.gov.uk",
                    display_name=f"Scale {i}",
                    partner_id=rng.choice(partners),
                    created_at=NOW,
                )
                for i in range(people)
            ],
        )
        person_ids = list(session.execute(select(Person.id).where(Person.email.like("scale%"))).scalars())
        session.execute(
            insert(Membership),
            [
                dict(person_id=p, group_id=rng.choice(groups), role=MemberRole.MEMBER, joined_at=NOW)
                for p in person_ids[: people // 2]
            ],
        )
        events = []
        for i in range(1000):
            day = DAY + timedelta(days=rng.randint(-1500, 700))
            start = datetime.combine(day, datetime.min.time()).replace(hour=9, minute=30)
            events.append(
                dict(
                    title=f"Scale event {i}",
                    theme="Scale",
                    start_local=start,
                    end_local=start + timedelta(hours=3),
                    timezone=ZONE,
                    starts_at_utc=to_utc(start, ZONE),
                    format=EventFormat.HYBRID,
                    capacity_in_person=200,
                    capacity_online=None,
                    status=EventStatus.PUBLISHED,
                    sequence=0,
                    updated_at=NOW,
                )
            )
        session.execute(insert(Event), events)
        event_ids = list(session.execute(select(Event.id).where(Event.title.like("Scale event%"))).scalars())
        pairs = set()
        while len(pairs) < registrations:
            pairs.add((rng.choice(event_ids), rng.choice(person_ids)))
        session.execute(
            insert(Registration),
            [
                dict(
                    event_id=e,
                    person_id=p,
                    mode=rng.choice(list(AttendanceMode)),
                    status=RegistrationStatus.CONFIRMED,
                    queued_at=NOW,
                    updated_at=NOW,
                )
                for e, p in pairs
            ],
        )
        session.execute(
            insert(BusinessCase),
            [
                dict(
                    title=f"Scale case {i}",
                    problem="p",
                    proposal="p",
                    benefiting_partners=["all"],
                    benefiting_groups=[],
                    estimated_cost_pence=100_00,
                    timescale="1 year",
                    contact="x",
                    status=CaseStatus.SUBMITTED,
                    created_at=NOW,
                    updated_at=NOW,
                )
                for i in range(2000)
            ],
        )
        asker = session.execute(select(Person).where(Person.email == ASKER)).scalar_one()
        session.execute(
            insert(Registration),
            [
                dict(
                    event_id=e,
                    person_id=asker.id,
                    mode=AttendanceMode.ONLINE,
                    status=RegistrationStatus.CONFIRMED,
                    queued_at=NOW,
                    updated_at=NOW,
                )
                for e in rng.sample(event_ids, 20)
                if (e, asker.id) not in pairs
            ],
        )
        board = session.execute(select(Person).where(Person.email == BOARD)).scalar_one()
        if not session.execute(select(PersonRole).where(PersonRole.person_id == board.id)).first():
            session.add(PersonRole(person_id=board.id, role=PersonRoleKind.BOARD))


def timings(router: Router, rounds: int) -> dict[str, float]:
    """Median milliseconds per question."""
    result = {}
    for words, who in QUESTIONS:
        request = Request(text=words, platform="console", user_id=who, email=who, now=NOW)
        router.handle(request)  # warm up
        samples = []
        for _ in range(rounds):
            start = time.perf_counter()
            router.handle(request)
            samples.append((time.perf_counter() - start) * 1000)
        result[words] = statistics.median(samples)
    return result


def prepared(url: str, people: int, registrations: int, big: bool):
    engine = db.make_engine(url)
    db.upgrade(engine)
    sessions = db.make_session_factory(engine)
    with sessions.begin() as session:
        load_demo(session, DAY, ZONE)
    if big:
        started = time.perf_counter()
        fill(sessions, people, registrations)
        print(f"  filled in {time.perf_counter() - started:.1f} s")
    return Router(sessions, Settings(database_url=url)), engine


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--registrations", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as cleanup:
        targets = [("sqlite", lambda name: f"sqlite:///{tmp}/{name}.db", None)]
        schemas = reachable(args.postgres, "kc_scale")
        if schemas is not None:
            cleanup.callback(schemas.close)
            targets.append(("postgresql", schemas.url, None))
        for kind, make_url, _ in targets:
            print(f"{kind}:")
            demo_router, demo_engine = prepared(make_url("demo"), 0, 0, big=False)
            big_router, big_engine = prepared(make_url("big"), args.people, args.registrations, big=True)
            small, large = timings(demo_router, args.rounds), timings(big_router, args.rounds)
            for words, _ in QUESTIONS:
                print(
                    f"  {words:12s} demo {small[words]:7.2f} ms   scaled {large[words]:7.2f} ms   "
                    f"ratio {large[words] / small[words]:5.2f}"
                )
            demo_engine.dispose()
            big_engine.dispose()
    print(
        f"({args.people:,} people, {args.registrations:,} registrations, 1,000 events, ten years of "
        f"meetings, 2,000 cases waiting; median of {args.rounds} runs each)"
    )


if __name__ == "__main__":
    main()
