"""across the partnership: Slack installations, partner tenants, where people are reached

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04

- slack_installations, slack_bots and slack_oauth_states: slack_sdk's SQLAlchemy installation and
  OAuth state stores, column for column as slack_sdk builds them (storage/models/slack.py);
- partner_tenant: the Microsoft 365 tenants of each partner;
- platform_identity gains enterprise (Slack Enterprise Grid org), last_seen_at and gone_at
  (the app was uninstalled from that workspace); person gains preferred_platform; group_channel
  gains enterprise (the Enterprise Grid org of the channel's workspace).
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

SQLITE = {"sqlite_autoincrement": True}


def _bot_columns() -> list:
    return [
        sa.Column("bot_token", sa.String(length=200), nullable=True),
        sa.Column("bot_id", sa.String(length=32), nullable=True),
        sa.Column("bot_user_id", sa.String(length=32), nullable=True),
        sa.Column("bot_scopes", sa.String(length=1000), nullable=True),
        sa.Column("bot_refresh_token", sa.String(length=200), nullable=True),
        sa.Column("bot_token_expires_at", sa.DateTime(), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "slack_installations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("app_id", sa.String(length=32), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), nullable=True),
        sa.Column("enterprise_name", sa.String(length=200), nullable=True),
        sa.Column("enterprise_url", sa.String(length=200), nullable=True),
        sa.Column("team_id", sa.String(length=32), nullable=True),
        sa.Column("team_name", sa.String(length=200), nullable=True),
        *_bot_columns(),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("user_token", sa.String(length=200), nullable=True),
        sa.Column("user_scopes", sa.String(length=1000), nullable=True),
        sa.Column("user_refresh_token", sa.String(length=200), nullable=True),
        sa.Column("user_token_expires_at", sa.DateTime(), nullable=True),
        sa.Column("incoming_webhook_url", sa.String(length=200), nullable=True),
        sa.Column("incoming_webhook_channel", sa.String(length=200), nullable=True),
        sa.Column("incoming_webhook_channel_id", sa.String(length=200), nullable=True),
        sa.Column("incoming_webhook_configuration_url", sa.String(length=200), nullable=True),
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False),
        sa.Column("token_type", sa.String(length=32), nullable=True),
        sa.Column("installed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_installations")),
        **SQLITE,
    )
    op.create_index(
        "slack_installations_idx",
        "slack_installations",
        ["client_id", "enterprise_id", "team_id", "user_id", "installed_at"],
    )
    op.create_table(
        "slack_bots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("app_id", sa.String(length=32), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), nullable=True),
        sa.Column("enterprise_name", sa.String(length=200), nullable=True),
        sa.Column("team_id", sa.String(length=32), nullable=True),
        sa.Column("team_name", sa.String(length=200), nullable=True),
        *_bot_columns(),
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False),
        sa.Column("installed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_bots")),
        **SQLITE,
    )
    op.create_index("slack_bots_idx", "slack_bots", ["client_id", "enterprise_id", "team_id", "installed_at"])
    op.create_table(
        "slack_oauth_states",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=200), nullable=False),
        sa.Column("expire_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_oauth_states")),
        **SQLITE,
    )
    op.create_table(
        "partner_tenant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partner.id"], name=op.f("fk_partner_tenant_partner_id_partner"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_tenant")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_partner_tenant_tenant_id")),
        **SQLITE,
    )
    op.create_index(op.f("ix_partner_tenant_partner_id"), "partner_tenant", ["partner_id"])
    with op.batch_alter_table("platform_identity", table_kwargs=SQLITE) as batch_op:
        batch_op.add_column(sa.Column("enterprise", sa.String(length=32), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("gone_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("platform_identity", table_kwargs=SQLITE) as batch_op:
        batch_op.alter_column("enterprise", server_default=None)
    with op.batch_alter_table("person", table_kwargs=SQLITE) as batch_op:
        batch_op.add_column(sa.Column("preferred_platform", sa.String(length=20), nullable=True))
    with op.batch_alter_table("group_channel", table_kwargs=SQLITE) as batch_op:
        batch_op.add_column(sa.Column("enterprise", sa.String(length=32), nullable=False, server_default=""))
    with op.batch_alter_table("group_channel", table_kwargs=SQLITE) as batch_op:
        batch_op.alter_column("enterprise", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("group_channel", table_kwargs=SQLITE) as batch_op:
        batch_op.drop_column("enterprise")
    with op.batch_alter_table("person", table_kwargs=SQLITE) as batch_op:
        batch_op.drop_column("preferred_platform")
    with op.batch_alter_table("platform_identity", table_kwargs=SQLITE) as batch_op:
        batch_op.drop_column("gone_at")
        batch_op.drop_column("last_seen_at")
        batch_op.drop_column("enterprise")
    op.drop_index(op.f("ix_partner_tenant_partner_id"), table_name="partner_tenant")
    op.drop_table("partner_tenant")
    op.drop_table("slack_oauth_states")
    op.drop_index("slack_bots_idx", table_name="slack_bots")
    op.drop_table("slack_bots")
    op.drop_index("slack_installations_idx", table_name="slack_installations")
    op.drop_table("slack_installations")
