"""The Alembic migrations build exactly the schema that storage.models describes, on both databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from storage import db
from storage.models import Base
from tests.conftest import Database, fresh_database

MODEL_TABLES = set(Base.metadata.tables)


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh(request, tmp_path) -> Iterator[Database]:
    """A migrated, empty database of its own (not the shared one), removed afterwards."""
    generator = fresh_database(request.param, tmp_path)
    database = next(generator)
    yield database
    generator.close()


def schema_differences(engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def current_revision(engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    return ScriptDirectory.from_config(db.alembic_config()).get_current_head()


def tables(engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_migrated_schema_matches_the_models(fresh):
    assert schema_differences(fresh.engine) == []
    assert tables(fresh.engine) >= MODEL_TABLES
    assert current_revision(fresh.engine) == head_revision()


def test_shared_database_schema_matches_the_models(database):
    assert schema_differences(database.engine) == []


def test_upgrade_twice_is_harmless(fresh):
    # fresh_database has upgraded once already; two more runs must change nothing.
    db.upgrade(fresh.engine)
    db.upgrade(fresh.engine)
    assert current_revision(fresh.engine) == head_revision()
    assert schema_differences(fresh.engine) == []


def test_upgrade_keeps_existing_rows(fresh):
    from sqlalchemy.orm import Session

    from storage.models import Partner, PartnerDomain

    with fresh.engine.begin() as connection, Session(bind=connection) as session:
        session.add(Partner(slug="p", name="P", short_name="P", domains=[PartnerDomain(domain="p.example")]))
        session.flush()
    db.upgrade(fresh.engine)
    with fresh.engine.connect() as connection, Session(bind=connection) as session:
        partner = session.query(Partner).one()
        assert (partner.slug, [d.domain for d in partner.domains]) == ("p", ["p.example"])


def test_downgrade_to_base_then_upgrade_to_head(fresh):
    with fresh.engine.begin() as connection:
        command.downgrade(db.alembic_config(connection), "base")
    assert current_revision(fresh.engine) is None
    assert not (MODEL_TABLES & tables(fresh.engine))

    with fresh.engine.begin() as connection:
        command.upgrade(db.alembic_config(connection), "head")
    assert current_revision(fresh.engine) == head_revision()
    assert tables(fresh.engine) >= MODEL_TABLES
    assert schema_differences(fresh.engine) == []


def test_alembic_config_escapes_percent_in_urls():
    # A password with "%" (URL-encoded characters) must survive ConfigParser interpolation.
    url = "postgresql+psycopg://u:p%40ss@host/db"
    assert db.alembic_config(url=url).get_main_option("sqlalchemy.url") == url


@pytest.mark.parametrize(
    "given, expected",
    [
        ("postgres://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_normalise_url(given, expected):
    assert db.normalise_url(given) == expected


def test_schema_comparison_notices_drift(fresh):
    # The comparison above is only worth something if it can see a difference.
    from sqlalchemy import text

    with fresh.engine.begin() as connection:
        connection.execute(text("DROP INDEX ix_meeting_starts_at_utc"))
    differences = schema_differences(fresh.engine)
    assert any(d[0] == "add_index" and d[1].name == "ix_meeting_starts_at_utc" for d in differences)
