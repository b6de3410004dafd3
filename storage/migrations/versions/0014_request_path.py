"""request path: a stamp of the group catalogue, changed by the database with every change to it

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01

- catalogue_version: one row (id 1) whose `version` every serve and worker process reads with
  the caller (one scalar subquery in the request's first statement) and compares with the
  groups and aliases it holds in memory (storage/groups.py);
- triggers on kc_group and group_alias give it a new value in the same transaction as any
  insert, update or delete there (the admin commands, seed, demo, a later migration, SQL typed
  by hand): on PostgreSQL one per statement, from a sequence (never handed out twice, even by a
  transaction that rolls back); on SQLite one per row, random() (64 bits).

On SQLite a table rebuild (batch mode) drops a table's triggers: a later migration that
rebuilds kc_group or group_alias must create them again (create_sqlite_triggers below);
tests/storage/test_catalogue.py checks at head that every change moves the stamp.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TABLES = ("kc_group", "group_alias")
OPERATIONS = ("insert", "update", "delete")


def create_sqlite_triggers(table: str) -> None:
    for operation in OPERATIONS:
        op.execute(
            f"CREATE TRIGGER catalogue_{table}_{operation} AFTER {operation.upper()} ON {table} "
            "BEGIN UPDATE catalogue_version SET version = random() WHERE id = 1; END"
        )


def upgrade() -> None:
    op.create_table(
        "catalogue_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_version")),
        sqlite_autoincrement=True,
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE catalogue_version_seq")
        op.execute("INSERT INTO catalogue_version (id, version) VALUES (1, nextval('catalogue_version_seq'))")
        op.execute(
            "CREATE FUNCTION catalogue_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "UPDATE catalogue_version SET version = nextval('catalogue_version_seq') WHERE id = 1; "
            "RETURN NULL; END $$"
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER catalogue_{table} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION catalogue_changed()"
            )
    else:
        op.execute("INSERT INTO catalogue_version (id, version) VALUES (1, random())")
        for table in TABLES:
            create_sqlite_triggers(table)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS catalogue_{table} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS catalogue_changed()")
        op.execute("DROP SEQUENCE IF EXISTS catalogue_version_seq")
    else:
        for table in TABLES:
            for operation in OPERATIONS:
                op.execute(f"DROP TRIGGER IF EXISTS catalogue_{table}_{operation}")
    op.drop_table("catalogue_version")
