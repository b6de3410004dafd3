"""Migration 0012: the database refuses a delivery kind that DeliveryKind doesn't know, on SQLite and
PostgreSQL. Existing rows keep their kinds; rows of an unknown kind stop the upgrade, named, before
anything changes; the downgrade takes the CHECK away again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from alembic import command
from alembic.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage import db
from storage.models import Delivery, DeliveryKind
from tests.conftest import Database, fresh_database

DUE = datetime(2026, 11, 25, 12, 0)
INSERT = text(
    "INSERT INTO delivery (kind, subject, occurrence, recipient_id, channel, payload, due_at, status, "
    "attempts, created_at) VALUES (:kind, :subject, '1', :person, 'direct', '{}', :due, 'pending', 0, :due)"
)


def at(kind: str, revision: str, tmp_path) -> Iterator[Database]:
    """A database migrated to `revision` (on PostgreSQL: to head, then down)."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'kc-old.db'}"
        engine = db.make_engine(url)
        db.upgrade(engine, revision)
        try:
            yield Database(kind, url, engine)
        finally:
            engine.dispose()
        return
    generator = fresh_database(kind, tmp_path)
    database = next(generator)
    try:
        with db.migration_connection(database.engine) as connection:
            command.downgrade(db.alembic_config(connection), revision)
        yield database
    finally:
        generator.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def old(request, tmp_path) -> Iterator[Database]:
    yield from at(request.param, "0011", tmp_path)


def revision(database: Database) -> str | None:
    with database.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def person(database: Database) -> int:
    # In SQL, not through the model: the model has columns later revisions add.
    with database.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO person (email, created_at) VALUES ('kinds@kent.gov.uk', :now)"), {"now": DUE}
        )
        return connection.execute(text("SELECT id FROM person WHERE email = 'kinds@kent.gov.uk'")).scalar_one()


def insert(database: Database, kind: str, subject: str, person_id: int) -> None:
    with database.engine.begin() as connection:
        connection.execute(INSERT, {"kind": kind, "subject": subject, "person": person_id, "due": DUE})


def rows(database: Database) -> list[tuple]:
    with database.engine.connect() as connection:
        return [tuple(r) for r in connection.execute(text("SELECT * FROM delivery ORDER BY id"))]


def autoincrement(database: Database) -> bool:
    with database.engine.connect() as connection:
        sql = connection.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'delivery'").scalar()
    return "PRIMARY KEY AUTOINCREMENT" in sql


def test_the_upgrade_keeps_rows_of_every_kind_and_then_refuses_an_unknown_one(old):
    someone = person(old)
    for kind in DeliveryKind:
        insert(old, kind.value, f"test:{kind.value}", someone)
    before = rows(old)

    db.upgrade(old.engine, "0012")

    assert revision(old) == "0012"
    assert rows(old) == before
    with Session(old.engine) as session:
        assert [d.kind for d in session.execute(select(Delivery).order_by(Delivery.id)).scalars()] == list(DeliveryKind)
    with pytest.raises(IntegrityError):
        insert(old, "meeting_changed", "test:unknown", someone)
    assert rows(old) == before
    if old.kind == "sqlite":
        assert autoincrement(old)


def test_rows_of_an_unknown_kind_stop_the_upgrade_before_anything_changes(old):
    someone = person(old)
    insert(old, "meeting_moved", "meeting:1", someone)
    insert(old, "meeting_changed", "meeting:2", someone)
    insert(old, "meeting_changed", "meeting:3", someone)
    before = rows(old)

    with pytest.raises(RuntimeError, match=r"'meeting_changed' \(2 rows\)"):
        db.upgrade(old.engine)

    assert revision(old) == "0011"
    assert rows(old) == before
    insert(old, "another_unknown", "meeting:4", someone)  # no CHECK yet


def test_the_downgrade_takes_the_check_away(old):
    db.upgrade(old.engine, "0012")
    with db.migration_connection(old.engine) as connection:
        command.downgrade(db.alembic_config(connection), "0011")

    assert revision(old) == "0011"
    insert(old, "meeting_changed", "meeting:2", person(old))
    assert [r[1] for r in rows(old)] == ["meeting_changed"]
    if old.kind == "sqlite":
        assert autoincrement(old)
