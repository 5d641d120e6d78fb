"""Import of the Cursor dashboard usage CSV export: streaming, atomic, and idempotent with the API sync.

The file is read twice, never held in memory. The first pass checks its structure (a problem anywhere
means nothing is imported, with the line number and what is wrong), decides per file what
``Input (w/ Cache Write)`` means by checking rows against ``Total Tokens``, and learns whether the rows
are time-sorted. The second pass writes in batches inside one transaction, so the import is all or
nothing. Every row gets the same ``event_key`` an API sync gives the same event, so importing twice,
or importing what a sync already stored, never counts anything twice.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from providers.cursor import (
    TOOL,
    CursorEvent,
    OccurrenceCounter,
    canonical_model,
    ms_to_date,
    to_ms,
    to_record,
)
from storage.db import transaction
from storage.models import Usage
from storage.writes import UsageRecord, refresh_daily_rollup, upsert_usage

# Without a configured team the rows need some org id; labelling the key `default=key_...` later makes
# API syncs land on the same rows.
DEFAULT_CSV_ORG_ID = "cursor:default"
BATCH_SIZE = 5_000
EMPTY_ROW = "no tokens and no cost"
MICRO_DOLLARS = Decimal("0.000001")
# Cost cells that mean "nothing charged": included quota, free, or not applicable.
FREE_COSTS = {"", "included", "free", "-", "n/a", "none"}

# Header name (case- and space-insensitive) -> field. Every variant seen in exports since 2025.
HEADERS = {
    "date": "date",
    "user": "user",
    "kind": "kind",
    "max mode": "max_mode",
    "model": "model",
    "input (w/ cache write)": "with_cache_write",
    "input (w/o cache write)": "without_cache_write",
    "cache read": "cache_read",
    "output tokens": "output",
    "output": "output",
    "total tokens": "total",
    "tokens": "tokens",
    "cost": "cost",
    "cost ($)": "cost",
    "requests": "requests",
    "cost to you": "cost_to_you",
    "cloud agent id": "cloud_agent_id",
    "automation id": "automation_id",
}
SPLIT_TOKENS = ("with_cache_write", "without_cache_write", "cache_read", "output")

DISJOINT = "disjoint"  # w/ = cache writes, w/o = plain input; the four add up to Total Tokens
SUPERSET = "superset"  # w/ includes w/o; cache writes = w/ - w/o; Total = w/ + cache read + output


class CsvImportError(Exception):
    """The file cannot be imported as it is; nothing was stored. ``str()`` names the line and the problem."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(f"line {line}: {problem}")
        self.line = line
        self.problem = problem


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    ts_ms: int
    email: str
    model: str
    tokens: tuple[int, int, int, int] | None  # (w/, w/o, cache read, output) as written in the file
    single_tokens: int | None  # the legacy one-column `Tokens`
    total: int | None
    cost: Decimal
    kind: str | None
    max_mode: bool | None

    def fits(self, reading: str) -> bool | None:
        """Whether the row agrees with ``Total Tokens`` under a reading; None when there is nothing to check."""
        if self.tokens is None or self.total is None:
            return None
        with_cw, without_cw, cache_read, output = self.tokens
        if reading == DISJOINT:
            return with_cw + without_cw + cache_read + output == self.total
        return with_cw >= without_cw and with_cw + cache_read + output == self.total

    def event(self, reading: str) -> CursorEvent:
        if self.tokens is None:
            # Old exports carry one total; without a split it is counted as input.
            input_tokens, cache_write, cache_read, output = self.single_tokens or 0, 0, 0, 0
        else:
            with_cw, without_cw, cache_read, output = self.tokens
            input_tokens = without_cw
            cache_write = with_cw if reading == DISJOINT else max(with_cw - without_cw, 0)
        return CursorEvent(
            ts_ms=self.ts_ms,
            email=self.email,
            raw_model=self.model,
            input_tokens=input_tokens,
            cache_write_tokens=cache_write,
            cache_read_tokens=cache_read,
            output_tokens=output,
            cost_usd=self.cost,
            kind=self.kind,
            max_mode=self.max_mode,
        )


@dataclass(slots=True)
class CsvSummary:
    """What an import did (or, with ``dry_run``, would do)."""

    file: str
    org_id: str
    dry_run: bool
    rows: int = 0  # data rows read
    imported: int = 0  # rows written (or that would be written)
    new_rows: int | None = None  # rows that did not exist before (None on a dry run)
    skipped: Counter[str] = field(default_factory=Counter)
    days: set[date] = field(default_factory=set)
    users: set[str] = field(default_factory=set)
    input_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    output_tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    reading: str = DISJOINT
    mismatched_rows: int = 0  # rows whose tokens do not add up to Total Tokens under the file's reading
    mismatched_lines: list[int] = field(default_factory=list)  # the first few, to look at
    has_cost: bool = True
    checked_totals: bool = True
    sorted_by_time: bool = True

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.cache_write_tokens + self.cache_read_tokens + self.output_tokens

    @property
    def first_day(self) -> date | None:
        return min(self.days) if self.days else None

    @property
    def last_day(self) -> date | None:
        return max(self.days) if self.days else None


@dataclass(slots=True)
class _Layout:
    index: dict[str, int]
    width: int

    def has(self, name: str) -> bool:
        return name in self.index


def import_cursor_csv(
    engine: Engine | None,
    path: Path,
    *,
    org_id: str,
    user: str | None = None,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> CsvSummary:
    """Import ``path`` into ``org_id``; raises :class:`CsvImportError` (having stored nothing) on a bad file.

    ``progress(done, total)`` is called after every batch. ``engine`` may be None for a dry run.
    """
    summary = CsvSummary(file=str(path), org_id=org_id, dry_run=dry_run)
    user = user.strip().lower() if user else None
    total_rows, first_ms, last_ms = _scan(path, user, summary)
    occurrences = OccurrenceCounter(per_timestamp=summary.sorted_by_time)

    def records() -> Iterator[UsageRecord]:
        for row in _rows(path, user):
            event = row.event(summary.reading)
            if event.is_empty:
                summary.skipped[EMPTY_ROW] += 1
                continue
            occurrence = occurrences.next(event.ts_ms, event.identity)
            _count(summary, event)
            yield to_record(event, org_id=org_id, occurrence=occurrence, source="csv")

    if dry_run or engine is None:
        for done, _record in enumerate(records(), start=1):
            if progress and done % batch_size == 0:
                progress(done, total_rows)
        if progress:
            progress(total_rows, total_rows)
        return summary

    with transaction(engine) as session:
        before = _stored_rows(session, org_id, first_ms, last_ms)
        batch: list[UsageRecord] = []
        for record in records():
            batch.append(record)
            if len(batch) >= batch_size:
                # The rollup is refreshed once, at the end, for every touched day.
                upsert_usage(session, batch, refresh_rollup=False)
                batch = []
                if progress:
                    progress(summary.imported + sum(summary.skipped.values()), total_rows)
        if batch:
            upsert_usage(session, batch, refresh_rollup=False)
        refresh_daily_rollup(session, {(TOOL, day) for day in summary.days})
        summary.new_rows = _stored_rows(session, org_id, first_ms, last_ms) - before
    if progress:
        progress(total_rows, total_rows)
    return summary


def _count(summary: CsvSummary, event: CursorEvent) -> None:
    summary.imported += 1
    summary.days.add(ms_to_date(event.ts_ms))
    summary.users.add(event.email)
    summary.input_tokens += event.input_tokens
    summary.cache_write_tokens += event.cache_write_tokens
    summary.cache_read_tokens += event.cache_read_tokens
    summary.output_tokens += event.output_tokens
    summary.cost_usd += event.cost_usd


def _stored_rows(session: Session, org_id: str, first_ms: int | None, last_ms: int | None) -> int:
    if first_ms is None or last_ms is None:
        return 0
    query = select(func.count()).where(
        Usage.tool == TOOL,
        Usage.date.between(ms_to_date(first_ms), ms_to_date(last_ms)),
        Usage.org_id == org_id,
    )
    return int(session.scalar(query) or 0)


def _scan(path: Path, user: str | None, summary: CsvSummary) -> tuple[int, int | None, int | None]:
    """The structural pass: every problem raises; decides the token reading; learns the time order."""
    rows = 0
    fits = {DISJOINT: 0, SUPERSET: 0}
    misfits: dict[str, list[int]] = {DISJOINT: [], SUPERSET: []}
    misfit_count = {DISJOINT: 0, SUPERSET: 0}
    ascending = descending = True
    previous: int | None = None
    first_ms: int | None = None
    last_ms: int | None = None
    for row in _rows(path, user, on_layout=lambda found: _remember(summary, found)):
        rows += 1
        for reading in (DISJOINT, SUPERSET):
            fit = row.fits(reading)
            if fit:
                fits[reading] += 1
            elif fit is False:
                misfit_count[reading] += 1
                if len(misfits[reading]) < 10:
                    misfits[reading].append(row.line)
        if previous is not None:
            ascending = ascending and row.ts_ms >= previous
            descending = descending and row.ts_ms <= previous
        previous = row.ts_ms
        first_ms = row.ts_ms if first_ms is None else min(first_ms, row.ts_ms)
        last_ms = row.ts_ms if last_ms is None else max(last_ms, row.ts_ms)
    summary.rows = rows
    # The reading that more rows agree with; the documented real exports are disjoint, so it wins ties.
    summary.reading = SUPERSET if fits[SUPERSET] > fits[DISJOINT] else DISJOINT
    summary.mismatched_rows = misfit_count[summary.reading]
    summary.mismatched_lines = misfits[summary.reading]
    summary.sorted_by_time = ascending or descending
    return rows, first_ms, last_ms


def _remember(summary: CsvSummary, layout: _Layout) -> None:
    summary.has_cost = layout.has("cost")
    summary.checked_totals = layout.has("total") and all(layout.has(name) for name in SPLIT_TOKENS)


def _open(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of every non-blank record; BOM, CRLF and quoted fields handled by csv."""
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle, strict=True)
            try:
                for cells in reader:
                    if not cells or all(not cell.strip() for cell in cells):
                        continue
                    yield reader.line_num, cells
            except csv.Error as exc:
                raise CsvImportError(reader.line_num, f"the CSV is malformed ({exc})") from None
    except UnicodeDecodeError as exc:
        raise CsvImportError(_line_of_byte(path, exc.start), "the file is not UTF-8 text") from None


def _line_of_byte(path: Path, offset: int) -> int:
    with path.open("rb") as handle:
        return handle.read(offset).count(b"\n") + 1


def _layout(line: int, header: list[str], user: str | None) -> _Layout:
    index: dict[str, int] = {}
    for position, name in enumerate(header):
        key = HEADERS.get(re.sub(r"\s+", " ", name.strip().lstrip("\ufeff")).lower())
        if key and key not in index:
            index[key] = position
    layout = _Layout(index=index, width=len(header))
    missing = [label for key, label in (("date", "Date"), ("model", "Model")) if key not in index]
    has_split = all(name in index for name in SPLIT_TOKENS)
    if not has_split and "tokens" not in index:
        missing.append("the token columns (Input (w/ Cache Write), Input (w/o Cache Write), Cache Read, Output Tokens)")
    if missing:
        raise CsvImportError(
            line,
            f"missing column(s) {', '.join(missing)}; is this a Cursor usage export? Found: {', '.join(header)}",
        )
    if "user" not in index and not user:
        raise CsvImportError(
            line, "this is a personal export (no User column): pass --user EMAIL to say whose usage it is"
        )
    return layout


def _rows(path: Path, user: str | None, on_layout: Callable[[_Layout], None] | None = None) -> Iterator[_Row]:
    layout: _Layout | None = None
    for line, cells in _open(path):
        if layout is None:
            layout = _layout(line, cells, user)
            if on_layout:
                on_layout(layout)
            continue
        if len(cells) != layout.width:
            raise CsvImportError(line, f"expected {layout.width} values as in the header, found {len(cells)}")
        yield _parse_row(line, cells, layout, user)
    if layout is None:
        raise CsvImportError(1, "the file is empty; expected a header row such as Date,User,Kind,Model,...")


def _parse_row(line: int, cells: list[str], layout: _Layout, user: str | None) -> _Row:
    def cell(name: str) -> str:
        position = layout.index.get(name)
        return cells[position].strip() if position is not None else ""

    email = cell("user").lower() or (user or "")
    if not email:
        raise CsvImportError(line, "the User cell is empty (pass --user EMAIL to attribute such rows)")
    has_split = all(layout.has(name) for name in SPLIT_TOKENS)
    tokens = tuple(_tokens(line, name, cell(name)) for name in SPLIT_TOKENS) if has_split else None
    total = _tokens(line, "total", cell("total")) if layout.has("total") and cell("total") else None
    max_mode = cell("max_mode").lower()
    kind = cell("kind")
    return _Row(
        line=line,
        ts_ms=_timestamp(line, cell("date")),
        email=email,
        model=canonical_model(cell("model")),
        tokens=tokens,  # type: ignore[arg-type]
        single_tokens=_tokens(line, "tokens", cell("tokens")) if layout.has("tokens") else None,
        total=total,
        cost=_cost(line, cell("cost")) if layout.has("cost") else Decimal(0),
        kind=kind[:64] or None,
        max_mode=True if max_mode in ("yes", "true") else False if max_mode in ("no", "false") else None,
    )


def _timestamp(line: int, value: str) -> int:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CsvImportError(
            line, f"unreadable Date {value!r}; expected ISO 8601 such as 2025-12-02T01:46:34.592Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the export writes UTC
    return to_ms(moment.astimezone(UTC))


_TOKEN_LABELS = {
    "with_cache_write": "Input (w/ Cache Write)",
    "without_cache_write": "Input (w/o Cache Write)",
    "cache_read": "Cache Read",
    "output": "Output Tokens",
    "total": "Total Tokens",
    "tokens": "Tokens",
}


def _tokens(line: int, name: str, value: str) -> int:
    """Integers, possibly with thousands separators; empty (errored rows) is 0."""
    digits = value.replace(",", "").replace("_", "").strip()
    if not digits:
        return 0
    if not digits.isdigit():
        raise CsvImportError(line, f"unreadable {_TOKEN_LABELS[name]} {value!r}; expected a whole number")
    return int(digits)


def _cost(line: int, value: str) -> Decimal:
    """Dollars: ``0.06``, ``$0.12``, ``1,234.50``; ``Included`` / ``Free`` / empty mean nothing charged."""
    text = value.strip()
    if text.lower() in FREE_COSTS:
        return Decimal(0)
    cleaned = text.replace("$", "").replace(",", "").strip()
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise CsvImportError(line, f"unreadable Cost {value!r}; expected dollars such as 0.06 or $0.12") from None
    if not amount.is_finite():
        raise CsvImportError(line, f"unreadable Cost {value!r}; expected dollars such as 0.06 or $0.12")
    return amount.quantize(MICRO_DOLLARS, rounding=ROUND_HALF_EVEN)
