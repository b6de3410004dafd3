"""initial schema: partners, people, groups, memberships, roles, meetings

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kc_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "access",
            sa.Enum("open", "restricted", name="group_access", native_enum=False, create_constraint=True, length=20),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kc_group")),
        sa.UniqueConstraint("slug", name=op.f("uq_kc_group_slug")),
    )
    op.create_table(
        "partner",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("short_name", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=True),
        sa.Column(
            "subscription_tier",
            sa.Enum(
                "standard", "higher", name="subscription_tier", native_enum=False, create_constraint=True, length=20
            ),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner")),
        sa.UniqueConstraint("slug", name=op.f("uq_partner_slug")),
    )
    op.create_table(
        "group_alias",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("alias", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["kc_group.id"], name=op.f("fk_group_alias_group_id_kc_group"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_alias")),
        sa.UniqueConstraint("alias", name=op.f("uq_group_alias_alias")),
    )
    with op.batch_alter_table("group_alias", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_group_alias_group_id"), ["group_id"], unique=False)

    op.create_table(
        "meeting_series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("first_start_local", sa.DateTime(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("rrule", sa.Text(), nullable=False),
        sa.Column("place", sa.String(length=300), nullable=True),
        sa.Column("online_url", sa.String(length=500), nullable=True),
        sa.Column("agenda", sa.Text(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "scheduled", "cancelled", name="meeting_status", native_enum=False, create_constraint=True, length=20
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["kc_group.id"], name=op.f("fk_meeting_series_group_id_kc_group"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_series")),
    )
    with op.batch_alter_table("meeting_series", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_series_group_id"), ["group_id"], unique=False)

    op.create_table(
        "partner_domain",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partner.id"], name=op.f("fk_partner_domain_partner_id_partner"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_domain")),
        sa.UniqueConstraint("domain", name=op.f("uq_partner_domain_domain")),
    )
    with op.batch_alter_table("partner_domain", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partner_domain_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["partner_id"], ["partner.id"], name=op.f("fk_person_partner_id_partner")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
        sa.UniqueConstraint("email", name=op.f("uq_person_email")),
    )
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "meeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=True),
        sa.Column("occurrence_local", sa.DateTime(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("start_local", sa.DateTime(), nullable=False),
        sa.Column("end_local", sa.DateTime(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("starts_at_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("place", sa.String(length=300), nullable=True),
        sa.Column("online_url", sa.String(length=500), nullable=True),
        sa.Column("agenda", sa.Text(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "scheduled", "cancelled", name="meeting_status", native_enum=False, create_constraint=True, length=20
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["kc_group.id"], name=op.f("fk_meeting_group_id_kc_group"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["series_id"], ["meeting_series.id"], name=op.f("fk_meeting_series_id_meeting_series"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting")),
        sa.UniqueConstraint("series_id", "occurrence_local", name=op.f("uq_meeting_series_id_occurrence_local")),
    )
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_meeting_starts_at_utc"), ["starts_at_utc"], unique=False)

    op.create_table(
        "membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum("member", "chair", name="member_role", native_enum=False, create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["kc_group.id"], name=op.f("fk_membership_group_id_kc_group"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_membership_person_id_person"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership")),
        sa.UniqueConstraint("person_id", "group_id", name=op.f("uq_membership_person_id_group_id")),
    )
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_membership_group_id"), ["group_id"], unique=False)

    op.create_table(
        "person_role",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum("admin", "board", name="person_role_kind", native_enum=False, create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_person_role_person_id_person"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_role")),
        sa.UniqueConstraint("person_id", "role", name=op.f("uq_person_role_person_id_role")),
    )
    op.create_table(
        "platform_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("workspace", sa.String(length=100), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_platform_identity_person_id_person"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_identity")),
        sa.UniqueConstraint(
            "platform", "workspace", "external_id", name=op.f("uq_platform_identity_platform_workspace_external_id")
        ),
    )
    with op.batch_alter_table("platform_identity", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_platform_identity_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("platform_identity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_platform_identity_person_id"))

    op.drop_table("platform_identity")
    op.drop_table("person_role")
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_membership_group_id"))

    op.drop_table("membership")
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_starts_at_utc"))
        batch_op.drop_index(batch_op.f("ix_meeting_group_id"))

    op.drop_table("meeting")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_partner_id"))

    op.drop_table("person")
    with op.batch_alter_table("partner_domain", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_domain_partner_id"))

    op.drop_table("partner_domain")
    with op.batch_alter_table("meeting_series", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_series_group_id"))

    op.drop_table("meeting_series")
    with op.batch_alter_table("group_alias", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_group_alias_group_id"))

    op.drop_table("group_alias")
    op.drop_table("partner")
    op.drop_table("kc_group")
