"""business cases and the development fund

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "business_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=150), nullable=False),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("proposal", sa.Text(), nullable=False),
        sa.Column("benefiting_partners", sa.JSON(), nullable=False),
        sa.Column("benefiting_groups", sa.JSON(), nullable=False),
        sa.Column("sponsor_group_id", sa.Integer(), nullable=True),
        sa.Column("estimated_cost_pence", sa.Integer(), nullable=False),
        sa.Column("timescale", sa.String(length=200), nullable=False),
        sa.Column("contact", sa.String(length=320), nullable=False),
        sa.Column("submitter_id", sa.Integer(), nullable=True),
        sa.Column("submitter_partner_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "submitted",
                "under_assessment",
                "approved",
                "declined",
                "in_delivery",
                "completed",
                name="case_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("awarded_pence", sa.Integer(), nullable=True),
        sa.Column("decline_reason", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("shared_learning", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["sponsor_group_id"],
            ["kc_group.id"],
            name=op.f("fk_business_case_sponsor_group_id_kc_group"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["submitter_id"], ["person.id"], name=op.f("fk_business_case_submitter_id_person"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["submitter_partner_id"], ["partner.id"], name=op.f("fk_business_case_submitter_partner_id_partner")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_case")),
    )
    with op.batch_alter_table("business_case", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_business_case_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_business_case_submitter_id"), ["submitter_id"], unique=False)

    op.create_table(
        "case_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column(
            "from_status",
            sa.Enum(
                "draft",
                "submitted",
                "under_assessment",
                "approved",
                "declined",
                "in_delivery",
                "completed",
                name="case_change_from",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_status",
            sa.Enum(
                "draft",
                "submitted",
                "under_assessment",
                "approved",
                "declined",
                "in_delivery",
                "completed",
                name="case_change_to",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["person.id"], name=op.f("fk_case_change_actor_id_person"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["business_case.id"], name=op.f("fk_case_change_case_id_business_case"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_change")),
    )
    with op.batch_alter_table("case_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_change_case_id"), ["case_id"], unique=False)

    op.create_table(
        "fund_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "contribution",
                "award",
                "spend",
                name="fund_entry_kind",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("amount_pence", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["business_case.id"], name=op.f("fk_fund_entry_case_id_business_case"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["partner_id"], ["partner.id"], name=op.f("fk_fund_entry_partner_id_partner")),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["person.id"], name=op.f("fk_fund_entry_recorded_by_id_person"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_entry")),
    )
    with op.batch_alter_table("fund_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fund_entry_year"), ["year"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("fund_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fund_entry_year"))

    op.drop_table("fund_entry")
    with op.batch_alter_table("case_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_change_case_id"))

    op.drop_table("case_change")
    with op.batch_alter_table("business_case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_business_case_submitter_id"))
        batch_op.drop_index(batch_op.f("ix_business_case_status"))

    op.drop_table("business_case")
