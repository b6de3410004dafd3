"""The group catalogue held per process (storage/groups.py) and its stamp (catalogue_version,
moved by the triggers of migration 0014), on SQLite and PostgreSQL; and a request whose pooled
connection the server dropped, which runs once more (bot/router.py).

Each test has a database of its own with the demo loaded, and two engines on it where it
matters: a change made through one (another replica, the worker, an admin's psql) must be seen
by the next request served through the other.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, event, inspect, select, text, update
from sqlalchemy.orm import Session

from bot.router import SORRY, Router
from core.messages import Request
from core.settings import Settings
from storage import db, groups as group_queries
from storage.demo import load_demo
from storage.models import CatalogueVersion, Group, GroupAlias
from tests.conftest import DEMO_DAY, NOW, ZONE, Database, fresh_database

DEMO = "demo@kent.gov.uk"


@pytest.fixture(params=["sqlite", "postgresql"])
def demo(request, tmp_path) -> Iterator[Database]:
    generator = fresh_database(request.param, tmp_path)
    database = next(generator)
    with database.engine.begin() as connection, Session(bind=connection) as session:
        load_demo(session, DEMO_DAY, ZONE)
        session.flush()
    yield database
    generator.close()


def stamp(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(CatalogueVersion.version)).scalar_one()


def ask(router: Router, words: str) -> str:
    reply = router.handle(Request(text=words, platform="slack", user_id="U1", email=DEMO, now=NOW, workspace="T1"))
    assert reply is not None
    return reply.plain_text()


def serving(database: Database) -> tuple[Router, object]:
    """A router as `serve` has one: an engine of its own on the database."""
    engine = db.make_engine(database.url)
    return Router(db.make_session_factory(engine), Settings(database_url=database.url, timezone=ZONE)), engine


def test_every_change_to_groups_or_aliases_moves_the_stamp_in_its_transaction(demo):
    before = stamp(demo.engine)
    with demo.engine.begin() as connection:
        connection.execute(text("UPDATE kc_group SET description = description WHERE slug = 'gis'"))
        inside = connection.execute(select(CatalogueVersion.version)).scalar_one()
        assert inside != before  # in the same transaction as the change
    after_update = stamp(demo.engine)
    assert after_update == inside
    with demo.engine.begin() as connection:
        gis = connection.execute(text("SELECT id FROM kc_group WHERE slug = 'gis'")).scalar_one()
        connection.execute(text("INSERT INTO group_alias (group_id, alias) VALUES (:g, 'cartographers')"), {"g": gis})
    after_insert = stamp(demo.engine)
    with demo.engine.begin() as connection:
        connection.execute(text("DELETE FROM group_alias WHERE alias = 'cartographers'"))
    after_delete = stamp(demo.engine)
    assert len({before, after_update, after_insert, after_delete}) == 4


def test_a_change_made_elsewhere_is_seen_by_the_next_request(demo):
    router, engine = serving(demo)
    try:
        assert "meets next on" in ask(router, "next gis meeting")
        assert "I don't know a group called “cartographers”" in ask(router, "next cartographers meeting")
        loads = group_queries.loads
        assert "meets next on" in ask(router, "next gis meeting")
        assert group_queries.loads == loads  # held: not read again while the stamp stands

        other = create_engine(db.normalise_url(demo.url))  # another process's engine, no shared pool
        try:
            with Session(other) as session, session.begin():
                gis = session.execute(select(Group).where(Group.slug == "gis")).scalar_one()
                gis.aliases.append(GroupAlias(alias="cartographers"))
                gis.name = "Geographic Information Group"
            reply = ask(router, "next cartographers meeting")
            assert "Geographic Information Group meets next on" in reply
            assert group_queries.loads == loads + 1
            with Session(other) as session, session.begin():
                session.execute(update(Group).where(Group.slug == "gis").values(name="GIS Group"))
            assert "GIS Group meets next on" in ask(router, "next cartographers meeting")
        finally:
            other.dispose()
    finally:
        engine.dispose()


def test_a_change_rolled_back_never_lingers_in_what_the_process_holds(demo):
    """A transaction that changed the groups and read them (so the process held them) and then
    rolled back: its stamp is never given again, so the next reader reads the groups again."""
    sessions = db.make_session_factory(demo.engine)
    with sessions.begin() as session:
        assert "zz" not in {a.alias for g in group_queries.all_groups(session) for a in g.aliases}
    with pytest.raises(RuntimeError), sessions.begin() as session:
        gis = next(g for g in group_queries.all_groups(session) if g.slug == "gis")
        gis.aliases.append(GroupAlias(alias="zz"))
        # seen in its own transaction (flushed first, the stamp read again)
        assert "zz" in {a.alias for g in group_queries.all_groups(session) for a in g.aliases}
        raise RuntimeError("roll back")
    with sessions.begin() as session:
        assert "zz" not in {a.alias for g in group_queries.all_groups(session) for a in g.aliases}
    # and a later committed change is another stamp again, not the rolled-back one
    with sessions.begin() as session:
        session.execute(text("UPDATE kc_group SET description = description || '.' WHERE slug = 'gis'"))
    with sessions.begin() as session:
        gis = next(g for g in group_queries.all_groups(session) if g.slug == "gis")
        assert gis.description.endswith(".") and "zz" not in {a.alias for a in gis.aliases}


def test_the_groups_handed_out_belong_to_the_session_and_can_be_written_with(demo):
    sessions = db.make_session_factory(demo.engine)
    with sessions.begin() as session:
        group_queries.all_groups(session)  # held now
    with sessions.begin() as session:
        groups = group_queries.all_groups(session)
        assert all(g in session for g in groups)
        gis = next(g for g in groups if g.slug == "gis")
        assert gis.memberships  # not held: lazy-loaded through this session, no DetachedInstanceError
        gis.description = "Maps and spatial data."
    with sessions.begin() as session:
        assert next(g for g in group_queries.all_groups(session) if g.slug == "gis").description == (
            "Maps and spatial data."
        )
        # what the process holds is no session's
        held = group_queries.held_groups(session)
        assert held and all(inspect(g).detached for g in held)


def test_a_request_whose_pooled_connection_was_dropped_runs_again_on_a_new_one(pg, caplog):
    with pg.engine.begin() as connection, Session(bind=connection) as session:
        load_demo(session, DEMO_DAY, ZONE)
        session.flush()
    engine = create_engine(db.normalise_url(pg.url), pool_pre_ping=False, pool_size=1)
    router = Router(db.make_session_factory(engine), Settings(database_url=pg.url, timezone=ZONE))
    try:
        assert "meets next on" in ask(router, "next gis meeting")
        with engine.connect() as connection:  # the one pooled connection the request used
            pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with pg.engine.begin() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with caplog.at_level(logging.WARNING, logger="bot.router"):
            reply = ask(router, "next gis meeting")
        assert reply != SORRY.plain_text() and "meets next on" in reply
        assert "request retried on a new connection" in caplog.text
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT pg_backend_pid()").scalar() != pid
    finally:
        engine.dispose()


def test_a_connection_lost_during_the_commit_is_not_retried(pg, caplog):
    """It may have committed: running the request again could do it twice. SORRY, and nothing more."""
    with pg.engine.begin() as connection, Session(bind=connection) as session:
        load_demo(session, DEMO_DAY, ZONE)
        session.flush()
    engine = create_engine(db.normalise_url(pg.url), pool_pre_ping=False, pool_size=1)
    router = Router(db.make_session_factory(engine), Settings(database_url=pg.url, timezone=ZONE))
    attempts: list[int] = []

    def lose_it(connection) -> None:
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        attempts.append(pid)
        with pg.engine.begin() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    try:
        assert "meets next on" in ask(router, "next gis meeting")
        event.listen(engine, "commit", lose_it)
        with caplog.at_level(logging.WARNING, logger="bot.router"):
            reply = ask(router, "next gis meeting")
        assert reply == SORRY.plain_text()
        assert len(attempts) == 1 and "retried" not in caplog.text
    finally:
        event.remove(engine, "commit", lose_it)
        engine.dispose()


def test_two_databases_with_the_same_stamp_keep_their_own_groups(tmp_path):
    """A process with two databases (tests, benchmarks): a stamp is only unique within one."""
    names = {}
    generators = []
    try:
        for label in ("a", "b"):
            folder = tmp_path / label
            folder.mkdir()
            generator = fresh_database("sqlite", folder)
            generators.append(generator)
            database = next(generator)
            with database.engine.begin() as connection, Session(bind=connection) as session:
                load_demo(session, DEMO_DAY, ZONE)
                session.flush()
                connection.execute(text("UPDATE kc_group SET name = :n WHERE slug = 'gis'"), {"n": f"GIS {label}"})
                connection.execute(text("UPDATE catalogue_version SET version = 42"))
            names[label] = database
        for label, database in [*names.items(), *names.items()]:
            with db.make_session_factory(database.engine).begin() as session:
                gis = next(g for g in group_queries.all_groups(session) if g.slug == "gis")
                assert gis.name == f"GIS {label}"
    finally:
        for generator in generators:
            generator.close()


def test_a_change_in_the_same_transaction_is_seen_however_it_is_made(demo):
    sessions = db.make_session_factory(demo.engine)
    with sessions.begin() as session:
        group_queries.catalogue(session)  # held, and the stamp known to this transaction
        session.execute(text("UPDATE kc_group SET name = 'GIS (text)' WHERE slug = 'gis'"))
        assert "GIS (text)" in {g.name for g in group_queries.catalogue(session)}
        session.execute(update(Group).where(Group.slug == "gis").values(name="GIS (core)"))
        assert "GIS (core)" in {g.name for g in group_queries.catalogue(session)}
        gis = next(g for g in group_queries.all_groups(session) if g.slug == "gis")
        gis.name = "GIS (orm)"  # not flushed yet: the catalogue flushes first, as a query would
        assert "GIS (orm)" in {g.name for g in group_queries.catalogue(session)}
