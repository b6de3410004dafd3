"""Do the main questions stay fast when the partnership has years of data?

    python bench/scale_bench.py [--postgres URL] [--people 50000] [--registrations 200000] [--rounds 31]

Two databases of each kind, filled alike on top of the demo, in the same run:

- "page": just enough to fill every list's page (LIST_LIMIT events and meetings, REVIEW_LIMIT
  cases, 20 events the asker is registered for, three of them on a waitlist);
- "scaled": ten years of meetings, a thousand events, 50,000 people and 200,000 registrations
  (places up to each event's capacity, the rest on its waitlist), 2,000 cases waiting, and the
  same asker with the same registrations.

Each question (`meetings`, `my meetings`, `events`, `my events`, `review`) is timed on both, in
turns (a request on one, then on the other, so that the machine's other work weighs on both), and
the ratio printed beside the number of items on each page, which must be the same (the run
fails otherwise: a ratio between pages of different sizes says nothing about scale), and the SQL
statements of one request. The target: every ratio within 1.5. On SQLite, and on PostgreSQL
when it answers.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import delete, event as sa_event, insert, select, update

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
TARGET = 1.5
ASKER_EVENTS, ASKER_WAITING = 20, 3
CHUNK = 2_000


@dataclass(frozen=True)
class Profile:
    people: int
    registrations: int
    events: int
    event_days: tuple[int, int]  # events fall this many days before/after DAY
    meeting_months: tuple[int, int]  # monthly meetings of every group, months from DAY
    cases: int


def page_profile() -> Profile:
    """Just enough for full pages: more than LIST_LIMIT events and meetings to come, more than
    REVIEW_LIMIT cases, ASKER_EVENTS events to come for the asker."""
    return Profile(people=400, registrations=800, events=40, event_days=(-100, 300), meeting_months=(-6, 12), cases=25)


def scaled_profile(people: int, registrations: int) -> Profile:
    return Profile(
        people=people,
        registrations=registrations,
        events=1000,
        event_days=(-1500, 700),
        meeting_months=(-60, 60),
        cases=2000,
    )


def fill(sessions, profile: Profile | int, how_many: int = 0) -> None:
    """Add the profile's data, in bulk, on top of the demo. `fill(sessions, people, registrations)`:
    the scaled profile with those numbers (as bench/planning_bench.py calls it)."""
    if isinstance(profile, int):
        profile = scaled_profile(profile, how_many)
    rng = random.Random(7)
    with sessions.begin() as session:
        groups = list(session.execute(select(Group.id)).scalars())
        partners = list(session.execute(select(Partner.id)).scalars())
        rows = []
        for group_id in groups:
            for month in range(*profile.meeting_months):
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
                for i in range(profile.people)
            ],
        )
        person_ids = list(session.execute(select(Person.id).where(Person.email.like("scale%"))).scalars())
        session.execute(
            insert(Membership),
            [
                dict(person_id=p, group_id=rng.choice(groups), role=MemberRole.MEMBER, joined_at=NOW)
                for p in person_ids[: profile.people // 2]
            ],
        )
        events = []
        capacities = []
        for i in range(profile.events):
            day = DAY + timedelta(days=rng.randint(*profile.event_days))
            start = datetime.combine(day, datetime.min.time()).replace(hour=9, minute=30)
            capacities.append(rng.choice([40, 80, 120, 200]))
            events.append(
                dict(
                    title=f"Scale event {i}",
                    theme="Scale",
                    start_local=start,
                    end_local=start + timedelta(hours=3),
                    timezone=ZONE,
                    starts_at_utc=to_utc(start, ZONE),
                    format=EventFormat.HYBRID,
                    capacity_in_person=capacities[-1],
                    capacity_online=None,
                    status=EventStatus.PUBLISHED,
                    sequence=0,
                    updated_at=NOW,
                )
            )
        session.execute(insert(Event), events)
        made = session.execute(
            select(Event.id, Event.capacity_in_person, Event.starts_at_utc).where(Event.title.like("Scale event%"))
        ).all()
        event_ids = [e for e, _, _ in made]
        capacity = {e: c for e, c, _ in made}
        pairs: set[tuple[int, int]] = set()
        while len(pairs) < profile.registrations:
            pairs.add((rng.choice(event_ids), rng.choice(person_ids)))
        # In the order they asked: places in person up to the capacity, then the waitlist.
        in_person_so_far: dict[int, int] = {}
        registrations = []
        for n, (e, p) in enumerate(sorted(pairs, key=lambda _: rng.random())):
            mode = rng.choice(list(AttendanceMode))
            status = RegistrationStatus.CONFIRMED
            if mode is AttendanceMode.IN_PERSON:
                in_person_so_far[e] = in_person_so_far.get(e, 0) + 1
                if in_person_so_far[e] > capacity[e]:
                    status = RegistrationStatus.WAITLISTED
            queued = NOW - timedelta(days=30) + timedelta(seconds=n)
            registrations.append(
                dict(event_id=e, person_id=p, mode=mode, status=status, queued_at=queued, updated_at=queued)
            )
    # Registrations come one at a time in life, each counted on its event's row by the triggers
    # (migration 0015): loaded here in transactions of CHUNK, between which PostgreSQL can prune
    # the old versions of the event rows (in one transaction of 200,000 it cannot).
    for i in range(0, len(registrations), CHUNK):
        with sessions.begin() as session:
            session.execute(insert(Registration), registrations[i : i + CHUNK])
    with sessions.begin() as session:
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
                for i in range(profile.cases)
            ],
        )
        # The asker: ASKER_EVENTS events to come, the first ASKER_WAITING at the end of their
        # in-person queue (full first if need be), the others a place online.
        asker = session.execute(select(Person).where(Person.email == ASKER)).scalar_one()
        coming = sorted(e for e, _, starts in made if starts >= NOW)
        chosen = rng.sample(coming, ASKER_EVENTS)
        session.execute(
            delete(Registration).where(Registration.person_id == asker.id, Registration.event_id.in_(chosen))
        )
        asker_rows = []
        for i, e in enumerate(chosen):
            waiting = i < ASKER_WAITING
            if waiting and in_person_so_far.get(e, 0) < capacity[e]:
                session.execute(update(Event).where(Event.id == e).values(capacity_in_person=0))
            asker_rows.append(
                dict(
                    event_id=e,
                    person_id=asker.id,
                    mode=AttendanceMode.IN_PERSON if waiting else AttendanceMode.ONLINE,
                    status=RegistrationStatus.WAITLISTED if waiting else RegistrationStatus.CONFIRMED,
                    queued_at=NOW,
                    updated_at=NOW,
                )
            )
        session.execute(insert(Registration), asker_rows)
        board = session.execute(select(Person).where(Person.email == BOARD)).scalar_one()
        if not session.execute(select(PersonRole).where(PersonRole.person_id == board.id)).first():
            session.add(PersonRole(person_id=board.id, role=PersonRoleKind.BOARD))


@dataclass
class Measured:
    ms: float  # median
    items: int  # on the reply's page
    statements: int  # SQL statements of one request (BEGIN/COMMIT not counted)


def looked_at(router: Router, engine, request: Request) -> tuple[int, int]:
    """Items on the reply's page, and the SQL statements of the request (BEGIN/COMMIT not counted)."""
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        reply = router.handle(request)
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
    statements = sum(not s.lstrip().upper().startswith(("BEGIN", "COMMIT")) for s in seen)
    return (len(reply.items) if reply else 0), statements


def timings(pair: list[tuple[Router, object]], rounds: int) -> dict[str, list[Measured]]:
    """Median milliseconds per question on each database of the pair, measured in turns (one
    request on one, then on the other) so that whatever else the machine does weighs on both."""
    result = {}
    for words, who in QUESTIONS:
        request = Request(text=words, platform="console", user_id=who, email=who, now=NOW)
        seen = [looked_at(router, engine, request) for router, engine in pair]  # and warmed up
        samples: list[list[float]] = [[] for _ in pair]
        for _ in range(rounds):
            for (router, _engine), times in zip(pair, samples, strict=True):
                start = time.perf_counter()
                router.handle(request)
                times.append((time.perf_counter() - start) * 1000)
        result[words] = [
            Measured(statistics.median(times), items, statements)
            for times, (items, statements) in zip(samples, seen, strict=True)
        ]
    return result


def prepared(url: str, profile: Profile):
    engine = db.make_engine(url)
    db.upgrade(engine)
    sessions = db.make_session_factory(engine)
    with sessions.begin() as session:
        load_demo(session, DAY, ZONE)
    started = time.perf_counter()
    fill(sessions, profile)
    if engine.dialect.name == "postgresql":
        # What autovacuum does to a live database: dead row versions gone, statistics up to date.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            tables = connection.exec_driver_sql(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            ).scalars()
            for table in list(tables):  # this schema's only (the server may hold others)
                connection.exec_driver_sql(f'VACUUM ANALYZE "{table}"')
    print(f"  {profile.registrations:,} registrations filled in {time.perf_counter() - started:.1f} s")
    return Router(sessions, Settings(database_url=url)), engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--registrations", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=31)
    args = parser.parse_args()
    mismatched, over = [], []
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as cleanup:
        targets = [("sqlite", lambda name: f"sqlite:///{tmp}/{name}.db")]
        schemas = reachable(args.postgres, "kc_scale")
        if schemas is not None:
            cleanup.callback(schemas.close)
            targets.append(("postgresql", schemas.url))
        for kind, make_url in targets:
            print(f"{kind}:")
            page_router, page_engine = prepared(make_url("page"), page_profile())
            big_router, big_engine = prepared(make_url("big"), scaled_profile(args.people, args.registrations))
            measured = timings([(page_router, page_engine), (big_router, big_engine)], args.rounds)
            for words, _ in QUESTIONS:
                a, b = measured[words]
                ratio = b.ms / a.ms
                flags = ""
                if a.items != b.items:
                    flags += "  PAGES DIFFER"
                    mismatched.append(f"{kind} {words}")
                if ratio > TARGET:
                    flags += f"  over {TARGET}"
                    over.append(f"{kind} {words} {ratio:.2f}")
                print(
                    f"  {words:12s} items {a.items:2d}/{b.items:2d}   page {a.ms:7.2f} ms   scaled {b.ms:7.2f} ms   "
                    f"ratio {ratio:5.2f}   statements {a.statements}/{b.statements}{flags}"
                )
            page_engine.dispose()
            big_engine.dispose()
    print(
        f"(page: the demo and a page's worth; scaled: {args.people:,} people, {args.registrations:,} registrations, "
        f"1,000 events, ten years of meetings, 2,000 cases waiting; median of {args.rounds} runs each; "
        f"target: every ratio within {TARGET})"
    )
    if over:
        print("over the target: " + ", ".join(over))
    if mismatched:
        print("pages of different sizes: " + ", ".join(mismatched))
        sys.exit(1)


if __name__ == "__main__":
    main()
