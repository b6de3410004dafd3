"""channels linked to groups

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "group_channel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("workspace", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=300), nullable=False),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("linked_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["kc_group.id"], name=op.f("fk_group_channel_group_id_kc_group"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["linked_by_id"], ["person.id"], name=op.f("fk_group_channel_linked_by_id_person"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_channel")),
        sa.UniqueConstraint("group_id", "platform", "channel", name=op.f("uq_group_channel_group_id_platform_channel")),
    )
    with op.batch_alter_table("group_channel", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_group_channel_group_id"), ["group_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("group_channel", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_group_channel_group_id"))

    op.drop_table("group_channel")
