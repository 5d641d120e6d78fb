"""Initial schema: usage facts and daily rollup, Claude Code activity, identity mappings, sync state, digests.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "claude_code_activity",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(length=128), server_default=sa.text("''"), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("actor_type", sa.String(length=16), server_default=sa.text("'user'"), nullable=False),
        sa.Column("email", sa.String(length=255), server_default=sa.text("''"), nullable=False),
        sa.Column("customer_type", sa.String(length=32), server_default=sa.text("''"), nullable=False),
        sa.Column("terminal_types", sa.String(length=255), server_default=sa.text("''"), nullable=False),
        sa.Column("sessions", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("lines_added", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("lines_removed", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("commits", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("pull_requests", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("tool_accepted", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("tool_rejected", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("tool_actions", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claude_code_activity")),
        sa.UniqueConstraint("date", "org_id", "actor", name="uq_claude_code_activity_grain"),
    )
    with op.batch_alter_table("claude_code_activity", schema=None) as batch_op:
        batch_op.create_index("ix_claude_code_activity_email_date", ["email", "date"], unique=False)

    op.create_table(
        "digest_subscriptions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("cadence", sa.String(length=16), nullable=False),
        sa.Column("local_time", sa.String(length=5), server_default=sa.text("'09:00'"), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=True),
        sa.Column("timezone", sa.String(length=64), server_default=sa.text("'UTC'"), nullable=False),
        sa.Column("created_by", sa.String(length=255), server_default=sa.text("''"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_subscriptions")),
        sa.UniqueConstraint("channel_id", "cadence", name="uq_digest_subscriptions_channel"),
    )
    op.create_table(
        "identity_mapping_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=128), server_default=sa.text("''"), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("old_email", sa.String(length=255), server_default=sa.text("''"), nullable=False),
        sa.Column("new_email", sa.String(length=255), server_default=sa.text("''"), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("changed_by", sa.String(length=255), server_default=sa.text("''"), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_mapping_changes")),
    )
    op.create_table(
        "identity_mappings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=128), server_default=sa.text("''"), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("mapped_by", sa.String(length=255), server_default=sa.text("''"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_mappings")),
        sa.UniqueConstraint("source", "org_id", "external_id", name="uq_identity_mappings_key"),
    )
    with op.batch_alter_table("identity_mappings", schema=None) as batch_op:
        batch_op.create_index("ix_identity_mappings_email", ["email"], unique=False)

    op.create_table(
        "sync_state",
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=128), nullable=False),
        sa.Column("forward_watermark", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("backfill_cursor", sa.DateTime(timezone=True), nullable=True),
        sa.Column("backfill_target", sa.Date(), nullable=True),
        sa.Column("backfill_complete", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("backfill_empty_days", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("provider", "org_id", name=op.f("pk_sync_state")),
    )
    op.create_table(
        "usage",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("tool", sa.String(length=32), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("org_id", sa.String(length=128), server_default=sa.text("''"), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("actor_type", sa.String(length=16), server_default=sa.text("'user'"), nullable=False),
        sa.Column("email", sa.String(length=255), server_default=sa.text("''"), nullable=False),
        sa.Column("raw_model", sa.String(length=255), server_default=sa.text("''"), nullable=False),
        sa.Column("model", sa.String(length=255), server_default=sa.text("''"), nullable=False),
        sa.Column("customer_type", sa.String(length=32), server_default=sa.text("''"), nullable=False),
        sa.Column("event_key", sa.String(length=64), server_default=sa.text("''"), nullable=False),
        sa.Column("event_ts_ms", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=64), nullable=True),
        sa.Column("max_mode", sa.Boolean(), nullable=True),
        sa.Column("input_tokens", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("cache_write_tokens", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("cache_read_tokens", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("cost_usd", sa.Numeric(precision=18, scale=6), server_default=sa.text("0"), nullable=False),
        sa.Column("source", sa.String(length=16), server_default=sa.text("'api'"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage")),
        sa.UniqueConstraint(
            "tool",
            "date",
            "org_id",
            "actor",
            "raw_model",
            "customer_type",
            "event_key",
            name="uq_usage_grain",
        ),
    )
    with op.batch_alter_table("usage", schema=None) as batch_op:
        batch_op.create_index(
            "ix_usage_api_key_actor",
            ["tool", "org_id", "actor"],
            unique=False,
            postgresql_where=sa.text("actor_type = 'api_key'"),
            sqlite_where=sa.text("actor_type = 'api_key'"),
        )

    op.create_table(
        "usage_daily",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("tool", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=128), server_default=sa.text("''"), nullable=False),
        sa.Column("email", sa.String(length=255), server_default=sa.text("''"), nullable=False),
        sa.Column("actor", sa.String(length=255), server_default=sa.text("''"), nullable=False),
        sa.Column("model", sa.String(length=255), server_default=sa.text("''"), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("cache_write_tokens", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("cache_read_tokens", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("cost_usd", sa.Numeric(precision=18, scale=6), server_default=sa.text("0"), nullable=False),
        sa.Column("records", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_daily")),
        sa.UniqueConstraint("tool", "date", "org_id", "email", "actor", "model", name="uq_usage_daily_grain"),
    )
    with op.batch_alter_table("usage_daily", schema=None) as batch_op:
        batch_op.create_index("ix_usage_daily_date", ["date"], unique=False)
        batch_op.create_index("ix_usage_daily_email_date", ["email", "date"], unique=False)

    op.create_table(
        "digest_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["digest_subscriptions.id"],
            name=op.f("fk_digest_runs_subscription_id_digest_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_runs")),
        sa.UniqueConstraint("subscription_id", "period", name="uq_digest_runs_period"),
    )


def downgrade() -> None:
    op.drop_table("digest_runs")
    with op.batch_alter_table("usage_daily", schema=None) as batch_op:
        batch_op.drop_index("ix_usage_daily_email_date")
        batch_op.drop_index("ix_usage_daily_date")

    op.drop_table("usage_daily")
    with op.batch_alter_table("usage", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_usage_api_key_actor",
            postgresql_where=sa.text("actor_type = 'api_key'"),
            sqlite_where=sa.text("actor_type = 'api_key'"),
        )

    op.drop_table("usage")
    op.drop_table("sync_state")
    with op.batch_alter_table("identity_mappings", schema=None) as batch_op:
        batch_op.drop_index("ix_identity_mappings_email")

    op.drop_table("identity_mappings")
    op.drop_table("identity_mapping_changes")
    op.drop_table("digest_subscriptions")
    with op.batch_alter_table("claude_code_activity", schema=None) as batch_op:
        batch_op.drop_index("ix_claude_code_activity_email_date")

    op.drop_table("claude_code_activity")
