"""What a provider tells the rest of Abacus about itself: one :class:`ProviderSpec` per provider package.

Two words are kept apart everywhere. A **tool** is what people use and what answers are about (Claude Code,
Cursor); its id is what ``usage.tool`` stores. A **provider** is where numbers come from (the Anthropic
Admin API, the Claude Enterprise Analytics API, the Cursor Admin API); several providers may feed one tool.

Everything that loops over tools or providers (commands, answers, charts, the team table and exports,
status, gaps, doctor, config, the scheduler, digests) reads :mod:`providers.registry`, never a provider's
name. A provider's settings are a pydantic model whose field aliases are the environment variables; the
application reads them and hands each provider its own model, so no provider reads the environment.

Every command reads the specs (the settings are built from them), so a spec holds plain data and names its
functions with :func:`lazy`: the HTTP clients, sync code and price tables behind them are imported only by
the commands and jobs that call them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, SecretStr

from storage.analytics.freshness import FreshnessRule

if TYPE_CHECKING:
    from providers.sync_engine import BackfillOutcome


@dataclass(frozen=True, slots=True)
class Tool:
    """An AI coding tool as people know it."""

    id: str  # stored in usage.tool; also the CSV export column prefix (claude_code_tokens)
    title: str  # Claude Code
    short: str  # the word people type and the help shows: claude
    aliases: tuple[str, ...]  # every other word people type for it
    color: str  # its colour in every chart
    # Its cost is the provider's estimate (Claude Code: the Admin API's list-price estimate), not what was
    # charged; answers mark it "est." wherever cost is split by tool.
    estimated_cost: bool = False
    # Some of its usage can be on subscription seats (usage.customer_type = "subscription"), paid per seat.
    subscription_seats: bool = False
    # What its usage is counted in. "tokens" for tools billed by the token; another unit ("AI credits",
    # "requests") when it bills in that and reports tokens for some uses only. Answers that compare tools
    # by tokens leave such a tool out of the comparison and say why, rather than showing it as nearly
    # unused; its cost is still dollars and counts in every cost total.
    unit: str = "tokens"
    # What its numbers mean, in a sentence, for tools not counted in tokens: shown once as a footnote.
    measure: str = ""
    # What an identity of it that is not an email is called, where its unmapped ones are counted.
    identity: str = "API key"

    @property
    def counts_tokens(self) -> bool:
        return self.unit == "tokens"


@dataclass(frozen=True, slots=True)
class ProviderKey:
    """One configured key: one organisation (or team) of a provider.

    ``name`` is the operator's label when the entry is written ``label=key``; otherwise ``default`` for a
    single key and ``KEY_1``, ``KEY_2``... by position.
    """

    name: str
    key: SecretStr
    labelled: bool


def _split_commas(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def parse_provider_keys(plural: str | None, singular: str | None) -> list[ProviderKey]:
    """The plural comma-separated form wins over the singular one; blank entries are dropped."""
    entries = _split_commas(plural) or _split_commas(singular)
    keys = []
    for position, entry in enumerate(entries, start=1):
        # Provider keys (sk-ant-..., key_...) contain no "=", so "label=key" cannot be misread.
        label, sep, key = entry.partition("=")
        if sep and label.strip() and key.strip() and _looks_like_label(label.strip()):
            keys.append(ProviderKey(label.strip(), SecretStr(key.strip()), labelled=True))
        else:
            name = "default" if len(entries) == 1 else f"KEY_{position}"
            keys.append(ProviderKey(name, SecretStr(entry), labelled=False))
    return keys


def _looks_like_label(text: str) -> bool:
    return len(text) <= 64 and all(ch.isalnum() or ch in "-_." for ch in text)


def secret_value(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


class ProviderSettings(BaseModel):
    """A provider's settings. Field aliases are the environment variable names; ``keys`` lists its orgs."""

    model_config = ConfigDict(populate_by_name=True, frozen=True)

    @property
    def keys(self) -> list[ProviderKey]:
        raise NotImplementedError

    def secrets(self) -> list[str]:
        """Every secret value these settings hold, so logs and error reports can redact them."""
        values = [v.get_secret_value() for v in self.__dict__.values() if isinstance(v, SecretStr)]
        return [v for v in values if v] + [k.key.get_secret_value() for k in self.keys]


S = TypeVar("S", bound=ProviderSettings)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class JobContext(Generic[S]):
    """What a provider's jobs get: its own settings, the database, a clock and a progress sink."""

    settings: S
    engine: Any  # sqlalchemy Engine
    now: Callable[[], datetime] = utc_now
    # Progress lines ("org acme: 2026-11-20 stored 412 rows"); the CLI shows them, the scheduler logs them.
    report: Callable[[str], None] = lambda _line: None


@dataclass(frozen=True, slots=True)
class SyncRequest:
    start: date | None = None  # None: the provider's default window
    end: date | None = None
    org: str | None = None  # a key label or name; None: every configured org

    def days(self, today: date, lookback_days: int) -> list[date]:
        """The UTC days asked for, or by default the last ``lookback_days`` days up to today."""
        if self.start is None:
            start, end = today - timedelta(days=lookback_days - 1), today
        else:
            start, end = self.start, self.end or self.start
        return [start + timedelta(days=i) for i in range((end - start).days + 1)]


@dataclass(frozen=True, slots=True)
class BackfillRequest:
    target: date
    org: str | None = None
    max_windows: int | None = None  # None: the provider's per-run budget
    newest: date | None = None  # where a backfill with no cursor yet starts (default: below forward sync)

    def start_before(self, today: date, lookback_days: int) -> date:
        """Where a first backfill starts: just below the forward sync's window (which owns those days), or
        below ``newest`` when that is older."""
        below_sync = today - timedelta(days=lookback_days - 1)
        return below_sync if self.newest is None else min(below_sync, self.newest + timedelta(days=1))


@dataclass(frozen=True, slots=True)
class OrgResult:
    org: str  # the operator's name for it: key label or default/KEY_n
    org_id: str  # the stored organisation id
    ok: bool
    records: int = 0
    windows: int = 0
    status: str = ""
    message: str = ""
    details: dict[str, object] = field(default_factory=dict)

    @classmethod
    def unreachable(cls, org: str, org_id: str, error: Exception) -> OrgResult:
        """An organisation that could not be reached at all (a bad key, an outage): the others still run."""
        return cls(org, org_id, ok=False, status="failed", message=str(error))

    @classmethod
    def synced(
        cls, org: str, org_id: str, *, error: object, records: int, days: int, message: str, details: dict[str, object]
    ) -> OrgResult:
        """A forward sync of ``days`` days: failed when it stopped with ``error``."""
        ok = error is None
        return cls(org, org_id, ok, records, days, "ok" if ok else "failed", message, details)

    @classmethod
    def backfilled(
        cls, org: str, org_id: str, outcome: BackfillOutcome, *, records: int, done: str, details: dict[str, object]
    ) -> OrgResult:
        """One backfill run; ``done`` says what it stored ("120 usage row(s) over 3 week(s)"), and the message
        adds how far back the stored history now reaches and why it stopped."""
        oldest = outcome.cursor.date().isoformat() if outcome.cursor else "nothing yet"
        message = f"{outcome.status}: {done}; oldest stored day {oldest}"
        if outcome.error:
            message += f"; stopped: {outcome.error}"
        return cls(org, org_id, outcome.status != "failed", records, outcome.windows, outcome.status, message, details)


@dataclass(frozen=True, slots=True)
class Probe:
    """What one cheap call with a key proved: the org it belongs to, and a phrase for `abacus doctor`."""

    org_id: str
    detail: str  # "valid for organisation Acme", "valid for a team of 12"


@dataclass(frozen=True, slots=True)
class DemoRequest:
    """What `abacus demo` asks a provider for: its made-up usage of the demo's people over ``start..end``."""

    engine: Any  # sqlalchemy Engine of the demo database
    emails: list[str]  # the demo's people, the heavy user first
    start: date
    end: date
    now: datetime
    seed: int


class LazyFunction:
    """A function named by its module and attribute, imported when first called (see :func:`lazy`)."""

    __slots__ = ("_function", "module", "name")

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name
        self._function: Callable[..., Any] | None = None

    def resolve(self) -> Callable[..., Any]:
        """The function itself: its module is imported the first time, and the function kept."""
        if self._function is None:
            self._function = getattr(importlib.import_module(self.module), self.name)
        return self._function

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.resolve()(*args, **kwargs)

    def __repr__(self) -> str:
        return f"lazy({self.module!r}, {self.name!r})"


def lazy(module: str, name: str) -> LazyFunction:
    """``module.name``, imported on its first call: how a spec names its functions.

    What it takes and returns is only known once the module is imported, so the type checker accepts it for
    any spec field and cannot check it against the field's type. ``tests/test_provider_specs.py`` does instead:
    it resolves every spec's lazy functions and checks that each takes the arguments its field passes, so a
    misspelt name fails the tests rather than a scheduled job.
    """
    return LazyFunction(module, name)


@dataclass(frozen=True, slots=True)
class ExtraJob:
    """A scheduled job beyond sync and backfill (say, mapping API keys to people)."""

    id: str
    title: str
    at: Callable[[Any], str]  # settings -> the UTC time of day, "HH:MM"
    run: Callable[[JobContext[Any]], tuple[int, str | None]]  # -> (rows, error or None)


@dataclass(frozen=True)
class ProviderSpec(Generic[S]):
    """Everything the rest of Abacus needs to know about one provider."""

    id: str  # the command-line name: abacus sync <id>
    title: str  # how status and doctor name the source: "Claude Code (Admin API)"
    tool: Tool
    aliases: tuple[str, ...]  # other command-line names
    # The sync_state provider and lock prefix. The first providers stored their tool id here, and their
    # stored state keeps that name.
    state_key: str
    # Org ids this provider stores start with this prefix ("" matches any org of the tool not claimed by a
    # provider with a longer prefix), so every stored row can be traced to the provider that wrote it.
    org_prefix: str
    settings: type[S]
    key_settings: str  # what to set to configure it: "ANTHROPIC_ADMIN_KEY or ANTHROPIC_ADMIN_KEYS"
    key_hint: str  # what a valid key looks like, for fixes: "a claude.ai Admin API key (read:analytics)"
    freshness: FreshnessRule
    sync_every: Callable[[S], timedelta]
    sync: Callable[[JobContext[S], SyncRequest], list[OrgResult]]
    backfill: Callable[[JobContext[S], BackfillRequest], list[OrgResult]]
    org_ids: Callable[[JobContext[S], str | None], list[str]]  # the stored org ids of the configured keys
    probe: Callable[[S, ProviderKey, float], Probe]  # raises ProviderError; one call, short timeout, no retry
    secret_patterns: tuple[str, ...] = ()  # regexes of what its keys look like, redacted from every log line
    extra_jobs: tuple[ExtraJob, ...] = ()
    backfill_takes_newest: bool = False  # whether `backfill --to` may set where a first backfill starts
    notes: tuple[str, ...] = ()  # what an operator should know (shown by doctor and config)
    # (session, org id, now) -> lines `status` shows under that organisation: what only the provider can say
    # about its stored data, such as how its computed cost compares with what it reports.
    status_notes: Callable[[Any, str, datetime], tuple[str, ...]] | None = None
    # Writes this provider's part of the demo organisation (usage, sync state) and returns the usage rows
    # written; providers whose tool the demo draws itself have none.
    demo: Callable[[DemoRequest], int] | None = None
    # One line about what a person did in its tool beyond tokens and cost over the UTC days ``start..end``
    # (session, email, start, end), or None when there is nothing: shown in a person's profile.
    activity: Callable[[Any, str, date, date], str | None] | None = None

    @property
    def sync_job(self) -> str:
        return f"{self.state_key.replace('-', '_')}_sync"

    @property
    def backfill_job(self) -> str:
        return f"{self.state_key.replace('-', '_')}_backfill"


def select_keys(keys: list[ProviderKey], org: str | None, title: str) -> list[ProviderKey]:
    """All keys, or the one named ``org``; an unknown name is an error that lists the known ones."""
    if org is None:
        return keys
    chosen = [k for k in keys if k.name == org]
    if not chosen:
        known = ", ".join(k.name for k in keys) or "none"
        raise LookupError(f"No {title} organisation named {org!r} is configured (configured: {known}).")
    return chosen


def each_org(
    keys: list[ProviderKey],
    org: str | None,
    title: str,
    org_id: Callable[[ProviderKey], str],
    run: Callable[[ProviderKey], OrgResult],
) -> list[OrgResult]:
    """``run`` for every key :func:`select_keys` selects, in order. A key whose provider cannot be reached
    at all (a :class:`ProviderError`: a bad key, an outage) is reported as unreachable under ``org_id(key)``,
    and the other keys still run."""
    from providers.errors import ProviderError

    results = []
    for key in select_keys(keys, org, title):
        try:
            results.append(run(key))
        except ProviderError as exc:
            results.append(OrgResult.unreachable(key.name, org_id(key), exc))
    return results


def parse_clock(value: str) -> str:
    """'9:5', '09:05' -> '09:05'; anything else is a ValueError that says the expected form."""
    hours, sep, minutes = value.strip().partition(":")
    if sep and hours.isdigit() and minutes.isdigit() and 0 <= int(hours) <= 23 and 0 <= int(minutes) <= 59:
        return f"{int(hours):02d}:{int(minutes):02d}"
    raise ValueError(f"{value!r} is not a time of day; use HH:MM (24-hour), e.g. 09:00")


# Setting types that carry their own validation, so they travel with the field into the application's settings.
ClockTime = Annotated[str, AfterValidator(parse_clock)]
BaseUrl = Annotated[str, AfterValidator(lambda value: value.strip().rstrip("/"))]
