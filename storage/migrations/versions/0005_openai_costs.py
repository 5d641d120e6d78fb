"""Reported costs: per provider, organisation and UTC day, the cost the provider reports for the whole
organisation and the tokens stored without a price, so `status` can set computed per-person cost against it.

Revision ID: 0005_openai
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_openai"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reported_costs",
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=128), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("reported_cost_usd", sa.Numeric(precision=18, scale=6), server_default=sa.text("0"), nullable=False),
        sa.Column("unpriced_tokens", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("unpriced_models", sa.String(length=1024), server_default=sa.text("''"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("provider", "org_id", "date", name=op.f("pk_reported_costs")),
    )


def downgrade() -> None:
    op.drop_table("reported_costs")
