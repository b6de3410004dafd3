"""Ids are never reused (migration 0011): on SQLite every table with an integer surrogate key has
AUTOINCREMENT, so erasing the person with the highest id doesn't hand that id to the next person
(`person:N` in the audit log stays unambiguous). The rebuild keeps every row, constraint and index."""

from __future__ import annotations

import importlib.util
import re
import sqlite3
from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import func, inspect, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateTable

from bot.router import Router
from core.settings import Settings
from storage import db, references
from storage.demo import load_demo
from storage.models import (
    AnnouncementAck,
    AuditEntry,
    Base,
    GroupChannel,
    InboundSeen,
    Person,
    PlatformIdentity,
    RateBucket,
)
from storage.models.base import has_surrogate_id
from storage.people import person_by_email
from tests.conftest import ADMIN, DEMO_DAY, NOW, ZONE, Chat, Database, fresh_database

MIGRATION = db.MIGRATIONS / "versions" / "0011_sqlite_autoincrement.py"
DEMO = "demo@kent.gov.uk"
GIS_CHAIR = "gis.chair.demo@maidstone.gov.uk"
BOARD = "board.demo@kent.police.uk"
GENERIC_ERROR = "something went wrong"


def migration_tables() -> tuple[str, ...]:
    spec = importlib.util.spec_from_file_location("migration_0011", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.TABLES


def autoincrement_tables() -> set[str]:
    return {t.name for t in Base.metadata.sorted_tables if t.dialect_options["sqlite"]["autoincrement"]}


# --- a database as it was at 0010, with data in it -----------------------------------------------


def at_0010(kind: str, tmp_path) -> Iterator[Database]:
    """A database migrated only to 0010 (on PostgreSQL 0011 changes nothing, so head then down)."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'kc-0010.db'}"
        engine = db.make_engine(url)
        db.upgrade(engine, "0010")
        try:
            yield Database(kind, url, engine)
        finally:
            engine.dispose()
        return
    generator = fresh_database(kind, tmp_path)
    database = next(generator)
    try:
        with db.migration_connection(database.engine) as connection:
            command.downgrade(db.alembic_config(connection), "0010")
        yield database
    finally:
        generator.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def old(request, tmp_path) -> Iterator[Database]:
    yield from at_0010(request.param, tmp_path)


@pytest.fixture
def old_sqlite(tmp_path) -> Iterator[Database]:
    yield from at_0010("sqlite", tmp_path)


def say(chat: Chat, text: str, user: str = DEMO) -> str:
    answer = chat(text, user=user)
    assert GENERIC_ERROR not in answer, f"{text!r} -> {answer}"
    return answer


def fill(database: Database) -> None:
    """The demo, then a little of everything the bot records, through the chat where it can: at
    the head revision (the models are today's), then taken back to 0010 with its rows."""
    db.upgrade(database.engine)
    _fill(database)
    with db.migration_connection(database.engine) as connection:
        command.downgrade(db.alembic_config(connection), "0010")


def _fill(database: Database) -> None:
    with database.engine.begin() as connection, Session(bind=connection) as session:
        load_demo(session, DEMO_DAY, ZONE)
        session.flush()
    factory = db.make_session_factory(database.engine)
    chat = Chat(Router(factory, Settings(database_url=database.url, timezone=ZONE, admins=frozenset({ADMIN}))))
    say(chat, "register future workplaces online")
    say(chat, "reminders 3 days")
    say(chat, "fund add kent police £5,000", user=ADMIN)
    for answer in (
        "new idea Shared desk booking",
        "Staff cannot find a desk",
        "Buy one booking service",
        "all",
        "none",
        "gis",
        "£100",
        "1 month",
        "me",
    ):
        say(chat, answer)
    case = int(re.search(r"\(case (\d+)\)", say(chat, "yes"))[1])
    say(chat, f"approve {case} £50", user=BOARD)
    note = int(re.match(r"Announcement (\d+)", say(chat, "announce gis Hello GIS", user=GIS_CHAIR))[1])
    say(chat, "new idea Half done")  # a form in progress
    with factory.begin() as session:
        demo = person_by_email(session, DEMO).id
        session.add(PlatformIdentity(person_id=demo, platform="slack", workspace="T0DEMO", external_id="U0DEMO"))
        references.save(
            session,
            "teams",
            "user:29:demo",
            {"user": {"id": "29:demo"}},
            "https://smba.trafficmanager.net/uk/",
            "tenant-1",
            demo,
            NOW,
        )
        session.add(AnnouncementAck(announcement_id=note, person_id=demo, at=NOW))
        session.add(InboundSeen(platform="slack", key="Ev0001", seen_at=NOW))
        session.add(RateBucket(key="slack:T0DEMO", tokens=1.5, updated_at=NOW))
        session.add(
            GroupChannel(
                group_id=1, platform="slack", workspace="T0DEMO", channel="C0GIS", linked_by_id=demo, created_at=NOW
            )
        )


def snapshot(database: Database) -> dict[str, list[tuple]]:
    """Every row of every table the database has at its revision, in primary-key order."""
    rows = {}
    with database.engine.connect() as connection:
        present = set(inspect(connection).get_table_names())
        for table in Base.metadata.sorted_tables:
            if table.name not in present:  # created by a later revision
                continue
            order = ", ".join(c.name for c in table.primary_key.columns)
            rows[table.name] = [
                tuple(r) for r in connection.execute(text(f"SELECT * FROM {table.name} ORDER BY {order}"))
            ]
    return rows


def sqlite_schema(database: Database) -> dict[tuple[str, str], str]:
    with database.engine.connect() as connection:
        return {
            (kind, name): sql
            for kind, name, sql in connection.exec_driver_sql(
                "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND sql IS NOT NULL"
            )
        }


def clauses(create_table: str) -> set[str]:
    """The column and constraint clauses of a CREATE TABLE (split on top-level commas)."""
    body = create_table[create_table.index("(") + 1 : create_table.rindex(")")]
    parts, depth, current = [], 0, ""
    for char in body:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return {" ".join(part.split()) for part in parts}


def foreign_keys(connection) -> int:
    return connection.exec_driver_sql("PRAGMA foreign_keys").scalar()


# --- the models and the migration agree ---------------------------------------------------------


# Tables created after 0011, each with AUTOINCREMENT from the start.
CREATED_LATER = {"slack_installations", "slack_bots", "slack_oauth_states", "partner_tenant"}  # 0013
CREATED_LATER |= {"catalogue_version"}  # 0014


def test_every_table_with_an_integer_surrogate_key_autoincrements_on_sqlite():
    assert autoincrement_tables() == set(migration_tables()) | CREATED_LATER
    assert autoincrement_tables() == {t.name for t in Base.metadata.sorted_tables if has_surrogate_id(t)}
    assert {"reminder_setting", "rate_bucket"}.isdisjoint(autoincrement_tables())  # keys of another kind
    for name in autoincrement_tables():
        ddl = str(CreateTable(Base.metadata.tables[name]).compile(dialect=sqlite.dialect()))
        assert "id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT" in ddl, ddl


def test_a_migrated_sqlite_database_has_autoincrement_on_every_such_table(tmp_path):
    # compare_metadata can't see AUTOINCREMENT: a later batch migration that forgets
    # table_kwargs={"sqlite_autoincrement": True} would silently drop it.
    generator = fresh_database("sqlite", tmp_path)
    database = next(generator)
    try:
        schema = sqlite_schema(database)
        for name in autoincrement_tables():
            assert "PRIMARY KEY AUTOINCREMENT" in schema["table", name], name
        assert "AUTOINCREMENT" not in schema["table", "reminder_setting"]
    finally:
        generator.close()


# --- upgrading a database with data in it ---------------------------------------------------------


def test_upgrade_keeps_every_row_and_every_child_row(old):
    fill(old)
    before = snapshot(old)
    assert all(before.values()), {name: len(rows) for name, rows in before.items()}

    db.upgrade(old.engine, "0012")  # 0013 adds columns, so the rows' tuples would differ

    assert snapshot(old) == before
    with old.engine.connect() as connection:
        if old.kind == "sqlite":
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
        demo = connection.execute(select(Person.id).where(Person.email == DEMO)).scalar_one()
        children = {
            table.name: connection.execute(select(func.count()).select_from(table).where(column == demo)).scalar_one()
            for table in Base.metadata.sorted_tables
            for column in table.columns
            if any(fk.column.table.name == "person" for fk in column.foreign_keys)
        }
    assert all(
        children[name]
        for name in (
            "membership",
            "registration",
            "platform_identity",
            "conversation_ref",
            "reminder_setting",
            "delivery",
            "announcement_ack",
            "conversation_state",
        )
    ), children


def test_sqlite_rebuild_keeps_constraints_indexes_and_foreign_keys(old_sqlite):
    # The schema exactly as 0010 made it (fill would take it to head and back: 0011's downgrade
    # writes the primary keys its own way); the rows are the other tests' business.
    before = sqlite_schema(old_sqlite)

    db.upgrade(old_sqlite.engine, "0011")  # 0011 alone: later migrations may change the schema

    after = sqlite_schema(old_sqlite)
    assert set(after) == set(before)
    for (kind, name), sql in before.items():
        if kind != "table" or name not in autoincrement_tables():
            assert after[kind, name] == sql, name  # indexes, alembic_version, reminder_setting, rate_bucket
            continue
        # The primary key moves into the column (AUTOINCREMENT needs it there), losing its
        # name; SQLite writes defaults back in brackets. Everything else is as it was.
        expected = {c.replace("DEFAULT CURRENT_TIMESTAMP", "DEFAULT (CURRENT_TIMESTAMP)") for c in clauses(sql)}
        expected -= {f"CONSTRAINT pk_{name} PRIMARY KEY (id)", "id INTEGER NOT NULL"}
        expected |= {"id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT"}
        assert clauses(after[kind, name]) == expected, name
    checks = sorted(c for sql in after.values() for c in clauses(sql) if " CHECK (" in c)
    assert checks == sorted(c for sql in before.values() for c in clauses(sql) if " CHECK (" in c)
    assert (
        len(checks) >= 17
        and "CONSTRAINT ck_delivery_delivery_status CHECK (status IN ('pending', 'sending', "
        "'sent', 'failed', 'skipped', 'held'))"
        in checks
    )


def test_sqlite_sequence_holds_each_table_s_highest_id(old_sqlite):
    fill(old_sqlite)
    db.upgrade(old_sqlite.engine)
    with old_sqlite.engine.connect() as connection:
        sequence = dict(connection.exec_driver_sql("SELECT name, seq FROM sqlite_sequence").fetchall())
        highest = {
            name: connection.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {name}").scalar()
            for name in autoincrement_tables()
        }
    # A table that never had a row (those of later revisions, here) has no sqlite_sequence row.
    assert {name: sequence.get(name, 0) for name in highest} == highest
    assert set(sequence) <= set(highest)
    assert highest["person"] > 0 and highest["audit_entry"] > 0


def test_downgrade_and_upgrade_again_keep_every_row(old_sqlite):
    fill(old_sqlite)
    db.upgrade(old_sqlite.engine, "0012")
    before = snapshot(old_sqlite)
    with db.migration_connection(old_sqlite.engine) as connection:
        command.downgrade(db.alembic_config(connection), "0010")
    assert "AUTOINCREMENT" not in sqlite_schema(old_sqlite)["table", "person"]
    assert snapshot(old_sqlite) == before
    db.upgrade(old_sqlite.engine, "0012")
    assert snapshot(old_sqlite) == before


# --- foreign keys while migrating ---------------------------------------------------------------


def test_the_rebuild_refuses_to_run_with_foreign_keys_on(old_sqlite):
    # With foreign keys on, dropping `person` for its rebuild would delete every membership.
    fill(old_sqlite)
    before = snapshot(old_sqlite)
    with pytest.raises(RuntimeError, match="foreign keys off"), old_sqlite.engine.begin() as connection:
        assert foreign_keys(connection) == 1
        command.upgrade(db.alembic_config(connection), "head")
    assert snapshot(old_sqlite) == before


def test_foreign_keys_are_on_again_for_connections_from_the_engine(old_sqlite):
    fill(old_sqlite)
    db.upgrade(old_sqlite.engine)
    assert old_sqlite.engine.pool.checkedin() == 1  # the next connection is the migration's
    with old_sqlite.engine.connect() as connection:
        assert foreign_keys(connection) == 1
        with pytest.raises(Exception, match="FOREIGN KEY"):
            connection.execute(
                text(
                    "INSERT INTO membership (person_id, group_id, role, joined_at) "
                    "VALUES (9999, 1, 'member', '2026-11-25 12:00:00')"
                )
            )


def test_an_upgrade_that_leaves_broken_foreign_keys_is_not_committed(tmp_path):
    url = f"sqlite:///{tmp_path / 'broken.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine, "0010")
    raw = sqlite3.connect(tmp_path / "broken.db")  # foreign keys off: an orphan slips in
    raw.execute("INSERT INTO kc_group (id, slug, name, description, access) VALUES (1, 'g', 'G', '', 'open')")
    raw.execute("INSERT INTO group_alias (group_id, alias) VALUES (77, 'orphan')")
    raw.commit()
    raw.close()
    try:
        with pytest.raises(RuntimeError, match="broke foreign keys"):
            db.upgrade(engine)
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0010"
            assert foreign_keys(connection) == 1
    finally:
        engine.dispose()


# --- erasing the newest person ------------------------------------------------------------------


def test_after_erasing_the_newest_person_the_next_one_gets_a_new_id(chat, session):
    newest = "newest.person@medway.gov.uk"
    say(chat, "whoami", user=newest)
    erased = session.execute(select(func.max(Person.id))).scalar_one()
    assert person_by_email(session, newest).id == erased

    say(chat, "forget me", user=newest)
    assert "Done: I've erased" in say(chat, "erase everything", user=newest)
    session.expire_all()
    assert session.get(Person, erased) is None
    assert session.execute(select(func.max(Person.id))).scalar_one() < erased

    say(chat, "whoami", user="next.person@medway.gov.uk")
    assert person_by_email(session, "next.person@medway.gov.uk").id > erased
    erasure = session.execute(select(AuditEntry).where(AuditEntry.subject == f"person:{erased}")).scalar_one()
    assert erasure.action == "erasure"


def test_ids_of_deleted_rows_are_not_reused_after_commits(old):
    db.upgrade(old.engine)
    factory = db.make_session_factory(old.engine)
    with factory.begin() as session:
        session.add_all(
            [Person(email="a@medway.gov.uk", created_at=NOW), Person(email="b@medway.gov.uk", created_at=NOW)]
        )
    with factory.begin() as session:
        highest = session.execute(select(func.max(Person.id))).scalar_one()
        session.delete(session.get(Person, highest))
    with factory.begin() as session:
        session.add(Person(email="c@medway.gov.uk", created_at=NOW))
    with factory.begin() as session:
        assert person_by_email(session, "c@medway.gov.uk").id > highest
