"""GitHub Copilot activity: per (org, UTC day, GitHub login) prompts, generated and accepted suggestions,
lines, Copilot CLI sessions and per-model activity counts, kept beside the credits stored in usage.

Revision ID: 0006_copilot
Revises: 0005_openai
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_copilot"
down_revision: str | None = "0005_openai"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COUNTS = (
    "interactions",
    "code_generations",
    "code_acceptances",
    "lines_suggested_added",
    "lines_suggested_deleted",
    "lines_added",
    "lines_deleted",
    "cli_sessions",
    "cli_requests",
)


def upgrade() -> None:
    op.create_table(
        "copilot_activity",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(length=128), server_default=sa.text("''"), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=255), server_default=sa.text("''"), nullable=False),
        sa.Column("user_id", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("credits", sa.Numeric(precision=20, scale=6), server_default=sa.text("0"), nullable=False),
        *(sa.Column(name, sa.BigInteger(), server_default=sa.text("0"), nullable=False) for name in _COUNTS),
        sa.Column("features", sa.String(length=255), server_default=sa.text("''"), nullable=False),
        sa.Column("models", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_copilot_activity")),
        sa.UniqueConstraint("date", "org_id", "actor", name="uq_copilot_activity_grain"),
    )
    with op.batch_alter_table("copilot_activity", schema=None) as batch_op:
        batch_op.create_index("ix_copilot_activity_email_date", ["email", "date"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("copilot_activity", schema=None) as batch_op:
        batch_op.drop_index("ix_copilot_activity_email_date")
    op.drop_table("copilot_activity")
