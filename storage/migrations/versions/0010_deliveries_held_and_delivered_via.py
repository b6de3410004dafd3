"""deliveries: 'held' for people no configured platform reaches, and the platform that delivered

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

OLD = ("pending", "sending", "sent", "failed", "skipped")
NEW = OLD + ("held",)


def _status(values):
    return sa.Enum(*values, name="delivery_status", native_enum=False, create_constraint=True, length=20)


def _change(values) -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite can't alter a CHECK constraint: batch mode rebuilds the table with the new one.
        with op.batch_alter_table("delivery", schema=None) as batch_op:
            batch_op.alter_column(
                "status",
                existing_type=_status(OLD if values == NEW else NEW),
                type_=_status(values),
                existing_nullable=False,
            )
        return
    op.drop_constraint(op.f("ck_delivery_delivery_status"), "delivery", type_="check")
    listed = ", ".join(f"'{v}'" for v in values)
    op.create_check_constraint(op.f("ck_delivery_delivery_status"), "delivery", f"status IN ({listed})")


def upgrade() -> None:
    _change(NEW)
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivered_via", sa.String(length=20), nullable=True))


def downgrade() -> None:
    op.execute("UPDATE delivery SET status = 'failed' WHERE status = 'held'")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_column("delivered_via")
    _change(OLD)
