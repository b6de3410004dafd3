"""ids never reused on SQLite: AUTOINCREMENT on every table with an integer surrogate key

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

SQLite without AUTOINCREMENT gives a new row max(rowid) + 1, so erasing the person with the
highest id hands that id to the next person. PostgreSQL's sequences never go back: nothing to do.
On SQLite every table is rebuilt (rows, indexes, constraints and foreign keys kept); this needs
foreign keys off, or dropping a parent would CASCADE-delete its children: storage.db.upgrade
switches them off before the transaction and runs PRAGMA foreign_key_check before committing.
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TABLES = (
    "partner",
    "partner_domain",
    "person",
    "platform_identity",
    "person_role",
    "kc_group",
    "group_alias",
    "membership",
    "meeting_series",
    "meeting",
    "event",
    "registration",
    "business_case",
    "case_change",
    "fund_entry",
    "conversation_state",
    "delivery",
    "announcement",
    "announcement_ack",
    "inbound_seen",
    "conversation_ref",
    "audit_entry",
    "group_channel",
)


def _rebuild(autoincrement: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    if bind.exec_driver_sql("PRAGMA foreign_keys").scalar() and any(
        bind.exec_driver_sql(f"SELECT 1 FROM {table} LIMIT 1").first() for table in TABLES
    ):
        # Dropping a parent would CASCADE-delete its children's rows (an empty database is safe).
        raise RuntimeError(
            "Migration 0011 rebuilds tables: run it with SQLite foreign keys off, as storage.db.upgrade does"
        )
    for table in TABLES:
        # Reflection doesn't see AUTOINCREMENT, so a rebuild without the option drops it.
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": True} if autoincrement else {}
        ):
            pass


def upgrade() -> None:
    _rebuild(True)


def downgrade() -> None:
    _rebuild(False)
