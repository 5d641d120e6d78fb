"""Coarser rollups: usage_person_daily, the daily rollup without the model (one row per tool,
day, org and person or unattributed actor), read by the period answers; usage_model_daily, without the
person (one row per tool, day and model), read by company-wide model breakdowns and daily series;
usage_person_monthly, usage_person_daily per calendar month, read by long periods for their whole months.
All three are filled from usage_daily here and kept in step by refresh_daily_rollup afterwards.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "usage_person_daily",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("tool", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=128), server_default=sa.text("''"), nullable=False),
        sa.Column("email", sa.String(length=255), server_default=sa.text("''"), nullable=False),
        sa.Column("actor", sa.String(length=255), server_default=sa.text("''"), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("cache_write_tokens", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("cache_read_tokens", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("cost_usd", sa.Numeric(precision=18, scale=6), server_default=sa.text("0"), nullable=False),
        sa.Column("records", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_person_daily")),
        sa.UniqueConstraint("tool", "date", "org_id", "email", "actor", name="uq_usage_person_daily_grain"),
    )
    with op.batch_alter_table("usage_person_daily", schema=None) as batch_op:
        batch_op.create_index("ix_usage_person_daily_date", ["date"], unique=False)
        batch_op.create_index("ix_usage_person_daily_email_date", ["email", "date"], unique=False)
        batch_op.create_index(
            "ix_usage_person_daily_email_prefix",
            ["email"],
            unique=False,
            postgresql_ops={"email": "text_pattern_ops"},
        )
    op.create_table(
        "usage_model_daily",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("tool", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=255), server_default=sa.text("''"), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("cache_write_tokens", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("cache_read_tokens", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("cost_usd", sa.Numeric(precision=18, scale=6), server_default=sa.text("0"), nullable=False),
        sa.Column("records", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_model_daily")),
        sa.UniqueConstraint("tool", "date", "model", name="uq_usage_model_daily_grain"),
    )
    with op.batch_alter_table("usage_model_daily", schema=None) as batch_op:
        batch_op.create_index("ix_usage_model_daily_date", ["date"], unique=False)
    op.create_table(
        "usage_person_monthly",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("tool", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=128), server_default=sa.text("''"), nullable=False),
        sa.Column("email", sa.String(length=255), server_default=sa.text("''"), nullable=False),
        sa.Column("actor", sa.String(length=255), server_default=sa.text("''"), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("cache_write_tokens", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("cache_read_tokens", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("cost_usd", sa.Numeric(precision=18, scale=6), server_default=sa.text("0"), nullable=False),
        sa.Column("records", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_person_monthly")),
        sa.UniqueConstraint("tool", "month", "org_id", "email", "actor", name="uq_usage_person_monthly_grain"),
    )
    with op.batch_alter_table("usage_person_monthly", schema=None) as batch_op:
        batch_op.create_index("ix_usage_person_monthly_month", ["month"], unique=False)
    # Existing installations: derive it once from the rollup (the same statement refresh_daily_rollup runs).
    op.execute(
        "INSERT INTO usage_person_daily (date, tool, org_id, email, actor, input_tokens, cache_write_tokens, "
        "cache_read_tokens, output_tokens, cost_usd, records) "
        "SELECT date, tool, org_id, email, actor, sum(input_tokens), sum(cache_write_tokens), "
        "sum(cache_read_tokens), sum(output_tokens), sum(cost_usd), sum(records) "
        "FROM usage_daily GROUP BY date, tool, org_id, email, actor"
    )
    op.execute(
        "INSERT INTO usage_model_daily (date, tool, model, input_tokens, cache_write_tokens, "
        "cache_read_tokens, output_tokens, cost_usd, records) "
        "SELECT date, tool, model, sum(input_tokens), sum(cache_write_tokens), "
        "sum(cache_read_tokens), sum(output_tokens), sum(cost_usd), sum(records) "
        "FROM usage_daily GROUP BY date, tool, model"
    )
    month = {
        "sqlite": "date(date, 'start of month')",
        "postgresql": "CAST(date_trunc('month', date) AS date)",
    }[op.get_bind().dialect.name]
    columns = "tool, org_id, email, actor"
    sums = "sum(input_tokens), sum(cache_write_tokens), sum(cache_read_tokens), sum(output_tokens), sum(cost_usd)"
    op.execute(
        " ".join(  # constant text only: the month expression is one of the two above
            (
                "INSERT INTO usage_person_monthly (month, tool, org_id, email, actor, input_tokens,",
                "cache_write_tokens, cache_read_tokens, output_tokens, cost_usd, records, last_day)",
                "SELECT", month, ",", columns, ",", sums, ", sum(records), max(date) FROM usage_person_daily",
                "GROUP BY", month, ",", columns,
            )
        )
    )  # fmt: skip


def downgrade() -> None:
    with op.batch_alter_table("usage_person_monthly", schema=None) as batch_op:
        batch_op.drop_index("ix_usage_person_monthly_month")
    op.drop_table("usage_person_monthly")
    with op.batch_alter_table("usage_model_daily", schema=None) as batch_op:
        batch_op.drop_index("ix_usage_model_daily_date")
    op.drop_table("usage_model_daily")
    with op.batch_alter_table("usage_person_daily", schema=None) as batch_op:
        batch_op.drop_index("ix_usage_person_daily_email_prefix")
        batch_op.drop_index("ix_usage_person_daily_email_date")
        batch_op.drop_index("ix_usage_person_daily_date")
    op.drop_table("usage_person_daily")
