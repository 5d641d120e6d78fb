"""SQLAlchemy models: the one usage fact table, its daily rollup, and the bookkeeping around them.

Every column that takes part in a unique key is NOT NULL with an empty-string default. NULLs never
compare equal in a unique index, so a nullable key column would let a re-sync insert duplicates; the
original abacus papered over this with a COALESCE expression index, which neither dialect can use as an
``ON CONFLICT`` target as simply as a plain constraint.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import BigIntPK, UTCDateTime

# Deterministic constraint names, so Alembic migrations and the models agree on both dialects.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Money: up to a trillion dollars with micro-dollar precision, summed exactly (never a float).
Money = Numeric(18, 6)
Tokens = BigInteger


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _zero() -> Any:
    return text("0")


def _empty() -> Any:
    return text("''")


class Usage(Base):
    """One row per provider grain.

    Claude Code: one (org, UTC day, actor, raw model, customer type) aggregate, ``event_key`` empty.
    Cursor: one usage event, ``event_key`` identifying it and ``event_ts_ms`` its time.
    """

    __tablename__ = "usage"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    tool: Mapped[str] = mapped_column(String(32))
    date: Mapped[date] = mapped_column(Date)
    org_id: Mapped[str] = mapped_column(String(128), server_default=_empty())
    # Who the provider says used it: an email for people, the API key name for API-key usage.
    actor: Mapped[str] = mapped_column(String(255))
    actor_type: Mapped[str] = mapped_column(String(16), server_default=text("'user'"))
    # The person the usage is attributed to; empty while an API key is not mapped to anyone.
    email: Mapped[str] = mapped_column(String(255), server_default=_empty())
    raw_model: Mapped[str] = mapped_column(String(255), server_default=_empty())
    model: Mapped[str] = mapped_column(String(255), server_default=_empty())
    customer_type: Mapped[str] = mapped_column(String(32), server_default=_empty())
    event_key: Mapped[str] = mapped_column(String(64), server_default=_empty())
    event_ts_ms: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str | None] = mapped_column(String(64))
    max_mode: Mapped[bool | None] = mapped_column(Boolean)
    input_tokens: Mapped[int] = mapped_column(Tokens, server_default=_zero())
    cache_write_tokens: Mapped[int] = mapped_column(Tokens, server_default=_zero())
    cache_read_tokens: Mapped[int] = mapped_column(Tokens, server_default=_zero())
    output_tokens: Mapped[int] = mapped_column(Tokens, server_default=_zero())
    cost_usd: Mapped[Decimal] = mapped_column(Money, server_default=_zero())
    source: Mapped[str] = mapped_column(String(16), server_default=text("'api'"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())

    __table_args__ = (
        # (tool, date) first: the rollup refresh and every day-scoped delete use that prefix.
        UniqueConstraint(
            "tool",
            "date",
            "org_id",
            "actor",
            "raw_model",
            "customer_type",
            "event_key",
            name="uq_usage_grain",
        ),
        # Re-attributing an API key touches only API-key rows; a partial index keeps it off the hot
        # insert path of per-event providers.
        Index(
            "ix_usage_api_key_actor",
            "tool",
            "org_id",
            "actor",
            postgresql_where=text("actor_type = 'api_key'"),
            sqlite_where=text("actor_type = 'api_key'"),
        ),
    )


USAGE_KEY = ("tool", "date", "org_id", "actor", "raw_model", "customer_type", "event_key")


class RollupSums:
    """The sums every rollup keeps: the four token kinds, the cost and how many ``usage`` rows they cover."""

    input_tokens: Mapped[int] = mapped_column(Tokens, server_default=_zero())
    cache_write_tokens: Mapped[int] = mapped_column(Tokens, server_default=_zero())
    cache_read_tokens: Mapped[int] = mapped_column(Tokens, server_default=_zero())
    output_tokens: Mapped[int] = mapped_column(Tokens, server_default=_zero())
    cost_usd: Mapped[Decimal] = mapped_column(Money, server_default=_zero())
    records: Mapped[int] = mapped_column(BigInteger, server_default=_zero())


class UsageDaily(RollupSums, Base):
    """Daily rollup of ``usage``, kept in step in the same transaction as every write to it.

    Slack answers read this, never the raw events. ``actor`` is kept only for unattributed rows (the
    API key name), so attributed people collapse to one row per (day, tool, org, model).
    """

    __tablename__ = "usage_daily"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    date: Mapped[date] = mapped_column(Date)
    tool: Mapped[str] = mapped_column(String(32))
    org_id: Mapped[str] = mapped_column(String(128), server_default=_empty())
    email: Mapped[str] = mapped_column(String(255), server_default=_empty())
    actor: Mapped[str] = mapped_column(String(255), server_default=_empty())
    model: Mapped[str] = mapped_column(String(255), server_default=_empty())

    __table_args__ = (
        UniqueConstraint("tool", "date", "org_id", "email", "actor", "model", name="uq_usage_daily_grain"),
        Index("ix_usage_daily_date", "date"),
        Index("ix_usage_daily_email_date", "email", "date"),
    )


class UsagePersonDaily(RollupSums, Base):
    """``usage_daily`` without the model: one row per (tool, day, org, person or unattributed actor).

    The coarser grain the period answers read (overview, rankings, team table, percentiles, profiles):
    ~4x fewer rows than ``usage_daily`` where people spread a day over several models. Derived from
    ``usage_daily`` by ``refresh_daily_rollup`` in the same transaction, day by day, so it is exactly the
    rollup summed over models.
    """

    __tablename__ = "usage_person_daily"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    date: Mapped[date] = mapped_column(Date)
    tool: Mapped[str] = mapped_column(String(32))
    org_id: Mapped[str] = mapped_column(String(128), server_default=_empty())
    email: Mapped[str] = mapped_column(String(255), server_default=_empty())
    actor: Mapped[str] = mapped_column(String(255), server_default=_empty())

    __table_args__ = (
        UniqueConstraint("tool", "date", "org_id", "email", "actor", name="uq_usage_person_daily_grain"),
        Index("ix_usage_person_daily_date", "date"),
        Index("ix_usage_person_daily_email_date", "email", "date"),
        # Finding a person by user name is a prefix match (`dana` -> dana@…): PostgreSQL walks an index for
        # LIKE 'dana@%' only with the pattern operator class, whatever the database's collation.
        Index("ix_usage_person_daily_email_prefix", "email", postgresql_ops={"email": "text_pattern_ops"}),
    )


class UsagePersonMonthly(RollupSums, Base):
    """``usage_person_daily`` per calendar month: one row per (tool, month, org, person or unattributed
    actor), ``month`` being its first day and ``last_day`` the newest day with usage in it. Long periods read
    their whole months here and only the partial months at the edges from ``usage_person_daily``. Kept in
    step by ``refresh_daily_rollup``: every month it touches is summed again from the person-days."""

    __tablename__ = "usage_person_monthly"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    month: Mapped[date] = mapped_column(Date)
    tool: Mapped[str] = mapped_column(String(32))
    org_id: Mapped[str] = mapped_column(String(128), server_default=_empty())
    email: Mapped[str] = mapped_column(String(255), server_default=_empty())
    actor: Mapped[str] = mapped_column(String(255), server_default=_empty())
    last_day: Mapped[date] = mapped_column(Date)

    __table_args__ = (
        UniqueConstraint("tool", "month", "org_id", "email", "actor", name="uq_usage_person_monthly_grain"),
        Index("ix_usage_person_monthly_month", "month"),
    )


class UsageModelDaily(RollupSums, Base):
    """``usage_daily`` without the person: one row per (tool, day, model), for the company-wide model
    breakdowns and daily series. Kept in step with ``usage_daily`` exactly like ``UsagePersonDaily``."""

    __tablename__ = "usage_model_daily"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    date: Mapped[date] = mapped_column(Date)
    tool: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(255), server_default=_empty())

    __table_args__ = (
        UniqueConstraint("tool", "date", "model", name="uq_usage_model_daily_grain"),
        Index("ix_usage_model_daily_date", "date"),
    )


class ClaudeCodeActivity(Base):
    """What Claude Code reports beside tokens, per (org, UTC day, actor)."""

    __tablename__ = "claude_code_activity"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(String(128), server_default=_empty())
    date: Mapped[date] = mapped_column(Date)
    actor: Mapped[str] = mapped_column(String(255))
    actor_type: Mapped[str] = mapped_column(String(16), server_default=text("'user'"))
    email: Mapped[str] = mapped_column(String(255), server_default=_empty())
    customer_type: Mapped[str] = mapped_column(String(32), server_default=_empty())
    terminal_types: Mapped[str] = mapped_column(String(255), server_default=_empty())
    sessions: Mapped[int] = mapped_column(Integer, server_default=_zero())
    lines_added: Mapped[int] = mapped_column(BigInteger, server_default=_zero())
    lines_removed: Mapped[int] = mapped_column(BigInteger, server_default=_zero())
    commits: Mapped[int] = mapped_column(Integer, server_default=_zero())
    pull_requests: Mapped[int] = mapped_column(Integer, server_default=_zero())
    tool_accepted: Mapped[int] = mapped_column(Integer, server_default=_zero())
    tool_rejected: Mapped[int] = mapped_column(Integer, server_default=_zero())
    # Per tool: {"edit_tool": {"accepted": 3, "rejected": 1}, ...}; the set of tools is open-ended.
    tool_actions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())

    __table_args__ = (
        UniqueConstraint("date", "org_id", "actor", name="uq_claude_code_activity_grain"),
        Index("ix_claude_code_activity_email_date", "email", "date"),
    )


class CopilotActivity(Base):
    """What GitHub Copilot reports per (org, UTC day, GitHub login) beside its credits: prompts, generated
    and accepted suggestions, lines, Copilot CLI sessions and per-model activity counts (never tokens)."""

    __tablename__ = "copilot_activity"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(String(128), server_default=_empty())
    date: Mapped[date] = mapped_column(Date)
    actor: Mapped[str] = mapped_column(String(255))  # the GitHub login, lower case
    email: Mapped[str] = mapped_column(String(255), server_default=_empty())
    user_id: Mapped[int] = mapped_column(BigInteger, server_default=_zero())  # GitHub's numeric id, kept over renames
    credits: Mapped[Decimal] = mapped_column(Numeric(20, 6), server_default=_zero())
    interactions: Mapped[int] = mapped_column(BigInteger, server_default=_zero())
    code_generations: Mapped[int] = mapped_column(BigInteger, server_default=_zero())
    code_acceptances: Mapped[int] = mapped_column(BigInteger, server_default=_zero())
    lines_suggested_added: Mapped[int] = mapped_column(BigInteger, server_default=_zero())
    lines_suggested_deleted: Mapped[int] = mapped_column(BigInteger, server_default=_zero())
    lines_added: Mapped[int] = mapped_column(BigInteger, server_default=_zero())
    lines_deleted: Mapped[int] = mapped_column(BigInteger, server_default=_zero())
    cli_sessions: Mapped[int] = mapped_column(BigInteger, server_default=_zero())
    cli_requests: Mapped[int] = mapped_column(BigInteger, server_default=_zero())
    # The day's features, comma-separated: chat, agent, cli, copilot_code_review_active...
    features: Mapped[str] = mapped_column(String(255), server_default=_empty())
    # Per model: {"claude-sonnet-4.5": {"interactions": 30, "code_generations": 4, ...}}; the set is open-ended.
    models: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())

    __table_args__ = (
        UniqueConstraint("date", "org_id", "actor", name="uq_copilot_activity_grain"),
        Index("ix_copilot_activity_email_date", "email", "date"),
    )


class IdentityMapping(Base):
    """An external identity (e.g. an Anthropic API key name) tied to a person's email."""

    __tablename__ = "identity_mappings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(64))
    org_id: Mapped[str] = mapped_column(String(128), server_default=_empty())
    external_id: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(255))
    # How it was made: provider_api, slack, cli.
    method: Mapped[str] = mapped_column(String(32))
    mapped_by: Mapped[str] = mapped_column(String(255), server_default=_empty())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())

    __table_args__ = (
        UniqueConstraint("source", "org_id", "external_id", name="uq_identity_mappings_key"),
        Index("ix_identity_mappings_email", "email"),
    )


class IdentityMappingChange(Base):
    """Audit trail: every mapping created, changed or removed, by whom and how."""

    __tablename__ = "identity_mapping_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(64))
    org_id: Mapped[str] = mapped_column(String(128), server_default=_empty())
    external_id: Mapped[str] = mapped_column(String(255))
    old_email: Mapped[str] = mapped_column(String(255), server_default=_empty())
    new_email: Mapped[str] = mapped_column(String(255), server_default=_empty())
    method: Mapped[str] = mapped_column(String(32))
    changed_by: Mapped[str] = mapped_column(String(255), server_default=_empty())
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())


class SyncState(Base):
    """Per (provider, org) progress. Progress is stored explicitly, never derived from MIN(date)."""

    __tablename__ = "sync_state"

    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    org_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    # Everything before this instant has been fetched completely by forward sync.
    forward_watermark: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Backfill walks backwards: everything from the cursor up to the forward start is fully processed.
    backfill_cursor: Mapped[datetime | None] = mapped_column(UTCDateTime)
    backfill_target: Mapped[date | None] = mapped_column(Date)
    backfill_complete: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    backfill_empty_days: Mapped[int] = mapped_column(Integer, server_default=_zero())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())


class DigestSubscription(Base):
    """A channel that receives a cost digest on a cadence, in its own timezone."""

    __tablename__ = "digest_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    cadence: Mapped[str] = mapped_column(String(16))  # daily | weekly
    local_time: Mapped[str] = mapped_column(String(5), server_default=text("'09:00'"))  # HH:MM
    weekday: Mapped[int | None] = mapped_column(Integer)  # 0 = Monday, for weekly digests
    timezone: Mapped[str] = mapped_column(String(64), server_default=text("'UTC'"))
    created_by: Mapped[str] = mapped_column(String(255), server_default=_empty())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))

    __table_args__ = (UniqueConstraint("channel_id", "cadence", name="uq_digest_subscriptions_channel"),)


class DigestRun(Base):
    """One digest period of one subscription. The unique key is what makes a re-run never post twice."""

    __tablename__ = "digest_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("digest_subscriptions.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(32))  # e.g. 2026-11-24 or 2026-W48
    status: Mapped[str] = mapped_column(String(16))  # claimed | posted | failed
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_ts: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("subscription_id", "period", name="uq_digest_runs_period"),)


class JobRun(Base):
    """One run of a scheduled job: when it started and ended, what it stored, and why it failed.

    `abacus status` and `/abacus status` show the newest run per job, so an operator sees a stuck or
    failing schedule without reading logs.
    """

    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # running | ok | failed
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rows: Mapped[int] = mapped_column(BigInteger, server_default=_zero())
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_job_runs_job_id_started_at", "job_id", "started_at"),)


class Team(Base):
    """A named set of people: a Slack user group followed by Abacus, or a team an admin defined.

    ``name`` is the lower-case handle people type (`/abacus team backend`). A team synced from Slack keeps
    the user group's id, so a renamed handle still refreshes the same team.
    """

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))  # slack | admin | csv
    usergroup_id: Mapped[str] = mapped_column(String(32), server_default=_empty())
    updated_by: Mapped[str] = mapped_column(String(255), server_default=_empty())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())

    __table_args__ = (UniqueConstraint("name", name="uq_teams_name"),)


class TeamMember(Base):
    """One person (by email, as usage is attributed) in one team; a person may be in several teams."""

    __tablename__ = "team_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(255))

    __table_args__ = (
        UniqueConstraint("team_id", "email", name="uq_team_members_member"),
        Index("ix_team_members_email", "email"),
    )


class Budget(Base):
    """A spending limit per period for the company, a team or a person, with the channel its alerts go to.

    ``target`` is the team name or the person's email ("" for the company); ``tool`` is "" for all tools.
    """

    __tablename__ = "budgets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(16))  # org | team | person
    target: Mapped[str] = mapped_column(String(255), server_default=_empty())
    cadence: Mapped[str] = mapped_column(String(16))  # monthly | weekly
    tool: Mapped[str] = mapped_column(String(32), server_default=_empty())
    amount_usd: Mapped[Decimal] = mapped_column(Money)
    channel_id: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(255), server_default=_empty())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))

    __table_args__ = (UniqueConstraint("scope", "target", "cadence", "tool", name="uq_budgets_key"),)


class BudgetAlert(Base):
    """One alert of one budget period (a threshold such as ``80`` or ``projected``). Claimed with an INSERT
    before anything is posted: the unique key is what makes an alert fire once per period, across restarts."""

    __tablename__ = "budget_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    budget_id: Mapped[int] = mapped_column(ForeignKey("budgets.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(32))  # 2026-11 or 2026-W48
    kind: Mapped[str] = mapped_column(String(16))  # a threshold percent ("50", "80", "100") or "projected"
    status: Mapped[str] = mapped_column(String(16))  # claimed | posted | failed | silent
    spend_usd: Mapped[Decimal] = mapped_column(Money, server_default=_zero())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())
    message_ts: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("budget_id", "period", "kind", name="uq_budget_alerts_period"),)


class SpikeAlert(Base):
    """One spike DM: a person's day far above their usual. The unique key allows one per person per day."""

    __tablename__ = "spike_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(255))
    date: Mapped[date] = mapped_column(Date)
    cost_usd: Mapped[Decimal] = mapped_column(Money)
    usual_usd: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(16))  # claimed | sent | failed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())

    __table_args__ = (UniqueConstraint("email", "date", name="uq_spike_alerts_day"),)


class ReportedCost(Base):
    """What a provider says one organisation was charged on one UTC day, beside the cost Abacus computed.

    Some providers report tokens per person but money only per organisation (OpenAI's costs never group by
    person), so per-person cost is computed from a price table and this is the check on it: ``status`` shows
    the two sums for the same days. ``unpriced_tokens`` / ``unpriced_models``: usage of that day stored with no
    cost because the price table does not know its model, so a difference can be explained, never hidden.
    """

    __tablename__ = "reported_costs"

    provider: Mapped[str] = mapped_column(String(32), primary_key=True)  # the provider's sync-state key
    org_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    reported_cost_usd: Mapped[Decimal] = mapped_column(Money, server_default=_zero())
    unpriced_tokens: Mapped[int] = mapped_column(Tokens, server_default=_zero())
    unpriced_models: Mapped[str] = mapped_column(String(1024), server_default=_empty())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())
