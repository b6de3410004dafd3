"""deliveries: a CHECK that `kind` is one of storage.models.DeliveryKind's values

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

The column keeps its type (VARCHAR(40)) and its values: only the constraint is new. Rows with a
kind outside the list would make the constraint fail half-way, so they are looked for first and
named in the error. On SQLite the table is rebuilt (batch mode), keeping AUTOINCREMENT (0011).
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# DeliveryKind's values as of this revision (a migration never imports the models).
KINDS = (
    "meeting_scheduled",
    "meeting_moved",
    "meeting_cancelled",
    "meeting_reminder",
    "event_changed",
    "event_cancelled",
    "event_promoted",
    "event_reminder",
    "personal_reminder",
    "case_submitted",
    "case_update",
    "announcement",
    "digest",
    "notice",
)
NAME = "ck_delivery_delivery_kind"


def upgrade() -> None:
    listed = ", ".join(f"'{k}'" for k in KINDS)
    unknown = (
        op.get_bind()
        .execute(
            sa.text(f"SELECT kind, COUNT(*) FROM delivery WHERE kind NOT IN ({listed}) GROUP BY kind ORDER BY kind")
        )
        .all()
    )
    if unknown:
        found = ", ".join(f"{kind!r} ({n} rows)" for kind, n in unknown)
        raise RuntimeError(
            f"Migration 0012: the delivery table has kinds DeliveryKind doesn't know: {found}. "
            "Add them to DeliveryKind and to this migration's KINDS, or delete those rows, first."
        )
    with op.batch_alter_table("delivery", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.create_check_constraint(op.f(NAME), f"kind IN ({listed})")


def downgrade() -> None:
    with op.batch_alter_table("delivery", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_constraint(op.f(NAME), type_="check")
