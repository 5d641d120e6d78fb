"""Import of the Cursor dashboard usage CSV export: streaming, atomic, and idempotent with the API sync.

The file is read once, never held in memory, and written in batches inside one transaction, so a problem
anywhere (reported with its line number) stores nothing. Two things depend on the whole file:

- what ``Input (w/ Cache Write)`` means (some exports count cache writes separately, some include plain
  input in it). The reading that most rows agree with, checked against ``Total Tokens``, wins. It is
  decided from the first rows and confirmed at the end; in the rare file where the rest disagrees, the
  transaction is rolled back and the file read again with the right reading.
- whether the rows are time-sorted (exports are, newest first), which lets identical events be numbered
  per millisecond with flat memory. A file found out of order is read again, numbering across the file.

Every row gets the same ``event_key`` an API sync gives the same event, so importing twice, or importing
what a sync already stored, never counts anything twice.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from providers.cursor.client import TOOL, OccurrenceCounter, canonical_model, usage_row_of
from providers.write_behind import WriteBehind
from storage.bulk import merge_staged, stage
from storage.db import transaction
from storage.models import Usage
from storage.writes import USAGE_SPEC, refresh_daily_rollup, refresh_monthly_rollup

# Without a configured team the rows need some org id; labelling the key `default=key_...` later makes
# API syncs land on the same rows.
DEFAULT_CSV_ORG_ID = "cursor:default"
BATCH_SIZE = 20_000
EMPTY_ROW = "no tokens and no cost"
MICRO_DOLLARS = Decimal("0.000001")
# What the `usage` columns hold: BIGINT tokens, NUMERIC(18,6) money (twelve digits before the point, six
# after), VARCHAR(255) emails and models. A value outside them is refused with its line, on both databases.
MAX_TOKENS = 2**63 - 1
MAX_COST_DIGITS = 12  # 999,999,999,999.999999 dollars at most
MAX_TEXT = 255
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


# Rows read before the token reading is chosen; the rest of the file only confirms the choice.
READING_SAMPLE = 1_000
# Lines named per reading whose tokens do not add up to Total Tokens, for the summary to point at.
MISFIT_LINES = 10


@dataclass(frozen=True, slots=True)
class _Plan:
    """What one read of the file assumes. A read that finds an assumption wrong asks for another read."""

    reading: str | None = None  # None: chosen from the first rows, confirmed at the end
    per_timestamp: bool = True  # the file is time-sorted, so identical events are numbered per millisecond


class _ReadAgain(Exception):
    def __init__(self, plan: _Plan) -> None:
        super().__init__(plan)
        self.plan = plan


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

    ``progress(done, total)`` is called after every batch (``total`` is estimated from the file's line
    count until the end). ``engine`` may be None for a dry run.
    """
    user = user.strip().lower() if user else None
    expected = _count_records(path)
    plan = _Plan()
    # Each read that finds an assumption wrong fixes it for the next: whether the file is sorted, and the
    # reading (chosen from the first rows, then confirmed by the whole file). At most four reads.
    while True:
        read = _Read(path, user=user, org_id=org_id, plan=plan, summary=CsvSummary(str(path), org_id, dry_run))
        try:
            return _run(engine, read, dry_run=dry_run, batch_size=batch_size, progress=progress, expected=expected)
        except _ReadAgain as again:
            plan = again.plan


def _run(
    engine: Engine | None,
    read: _Read,
    *,
    dry_run: bool,
    batch_size: int,
    progress: Callable[[int, int], None] | None,
    expected: int,
) -> CsvSummary:
    summary = read.summary

    def report() -> None:
        if progress:
            progress(summary.rows, max(expected, summary.rows))

    if dry_run or engine is None:
        for _batch in read.batches(batch_size):
            report()
        read.finish()
        report()
        return summary
    # Parsing (Python, holds the GIL) and merging (inside the database, GIL released) overlap: each batch is
    # staged here, then merged on the writer thread while this thread parses the next one. The session is
    # never used by both at once: a batch is staged only after the previous write has finished. (Staging on
    # the writer instead was slower: two threads of Python fighting over the GIL.)
    with transaction(engine) as session, WriteBehind("abacus-csv-writer") as writer:
        stored = _StoredRows(session, summary.org_id)
        rolled_up: set[date] = set()
        months: set[tuple[str, date]] = set()  # filled by the writer thread, read after it has finished
        for batch in read.batches(batch_size):
            writer.wait()
            new_keys = stored.before_writing(batch)
            # The file gives every row its own key (identical events are numbered), so no batch repeats one.
            stage(session, USAGE_SPEC, batch, distinct=True)
            finished = read.finished_days() - rolled_up
            rolled_up |= finished
            writer.submit(_write_staged, session, new_keys, finished, months)
            report()
        writer.wait()
        read.finish()
        months |= refresh_daily_rollup(session, {(TOOL, day) for day in summary.days - rolled_up}, months=False)
        # Each month once, now that all its days are in (per batch, the same month was summed again and again).
        refresh_monthly_rollup(session, months)
        summary.new_rows = stored.added()
    report()
    return summary


def _write_staged(session: Session, new_keys: bool, finished: set[date], months: set[tuple[str, date]]) -> None:
    """Merge the staged batch, then roll up the days no later row can touch (the rest wait for the end);
    their months are added to ``months`` and summed once at the end."""
    merge_staged(session, USAGE_SPEC, new_keys=new_keys)
    months |= refresh_daily_rollup(session, {(TOOL, day) for day in finished}, months=False)


class _Read:
    """One read of the file under a plan: parses and checks every row, numbers identical events, and
    yields ``usage`` rows in batches, keeping the summary as it goes."""

    def __init__(self, path: Path, *, user: str | None, org_id: str, plan: _Plan, summary: CsvSummary) -> None:
        self.path, self.user, self.org_id, self.plan, self.summary = path, user, org_id, plan, summary
        self.reading = plan.reading
        self.occurrences = OccurrenceCounter(per_timestamp=plan.per_timestamp)
        self.fits = {DISJOINT: 0, SUPERSET: 0}
        self.misfits: dict[str, list[int]] = {DISJOINT: [], SUPERSET: []}
        self.misfit_count = {DISJOINT: 0, SUPERSET: 0}
        self.ascending = self.descending = True
        self.current_day: date | None = None  # the day of the last row turned into a usage row

    def finished_days(self) -> set[date]:
        """Days no row still to come can fall on: in a time-sorted file, every day read but the current one."""
        if not self.plan.per_timestamp or self.current_day is None:
            return set()
        return self.summary.days - {self.current_day}

    def finish(self) -> None:
        """After the last row: confirm the reading (or ask for a read with the right one) and sum up."""
        majority = self._majority()
        if majority != self.reading:
            raise _ReadAgain(_Plan(reading=majority, per_timestamp=self.plan.per_timestamp))
        summary = self.summary
        summary.reading = majority
        summary.mismatched_rows = self.misfit_count[majority]
        summary.mismatched_lines = self.misfits[majority]
        summary.sorted_by_time = self.ascending or self.descending

    def _tally(
        self,
        rows: int,
        imported: int,
        empty: int,
        tokens: tuple[int, int, int, int],
        cost: Decimal,
        ascending: bool,
        descending: bool,
        current_day: date | None,
    ) -> None:
        """The row loop's counts so far, into the summary (and what :meth:`finished_days` reads)."""
        summary = self.summary
        summary.rows, summary.imported = rows, imported
        if empty:
            summary.skipped[EMPTY_ROW] = empty
        summary.input_tokens, summary.cache_write_tokens, summary.cache_read_tokens, summary.output_tokens = tokens
        summary.cost_usd = cost
        self.ascending, self.descending, self.current_day = ascending, descending, current_day

    def _majority(self) -> str:
        # The reading more rows agree with; the documented real exports are disjoint, so it wins ties.
        return SUPERSET if self.fits[SUPERSET] > self.fits[DISJOINT] else DISJOINT

    def batches(self, size: int) -> Iterator[list[tuple[Any, ...]]]:
        """Every row of the file, checked, as its ``usage`` row (empty rows are counted and left out), in
        batches of ``size``.

        One loop with its state in local variables, tallied into the summary before each batch is handed on:
        at a million rows, every attribute update, method call and nested generator per row adds seconds.

        Without a reading in the plan, rows are read as disjoint (what the documented exports are) while the
        first ones are counted; when they turn out to say otherwise, the file is read again with the other
        reading, which costs only those rows.
        """
        summary, fits, misfits, misfit_count = self.summary, self.fits, self.misfits, self.misfit_count
        deciding = self.reading is None
        reading = self.reading = self.reading or DISJOINT
        disjoint = reading == DISJOINT
        per_timestamp = self.plan.per_timestamp
        org_id, occurrences = self.org_id, self.occurrences
        days, users = summary.days, summary.users
        ascending = descending = True
        rows = imported = empty = 0
        input_sum = write_sum = read_sum = output_sum = 0
        cost_sum = _ZERO
        current_day: date | None = None

        batch: list[tuple[Any, ...]] = []
        parse: Callable[[int, list[str]], _Parsed] | None = None
        width = 0
        previous: int | None = None
        with _csv_reader(self.path) as reader:
            for cells in reader:
                if _is_blank(cells):
                    continue
                line = reader.line_num
                if parse is None:
                    layout = _layout(line, cells, self.user)
                    summary.has_cost = layout.has("cost")
                    summary.checked_totals = layout.has("total") and all(layout.has(name) for name in SPLIT_TOKENS)
                    parse, width = _row_parser(layout, self.user), layout.width
                    continue
                if len(cells) != width:
                    raise CsvImportError(line, f"expected {width} values as in the header, found {len(cells)}")
                ts_ms, email, model, with_cw, without_cw, cache_read, output, total, cost, kind, max_mode = parse(
                    line, cells
                )
                rows += 1
                if total is not None:
                    if with_cw + without_cw + cache_read + output == total:
                        fits[DISJOINT] += 1
                    else:
                        misfit_count[DISJOINT] += 1
                        if misfit_count[DISJOINT] <= MISFIT_LINES:
                            misfits[DISJOINT].append(line)
                    if with_cw >= without_cw and with_cw + cache_read + output == total:
                        fits[SUPERSET] += 1
                    else:
                        misfit_count[SUPERSET] += 1
                        if misfit_count[SUPERSET] <= MISFIT_LINES:
                            misfits[SUPERSET].append(line)
                if deciding and rows == READING_SAMPLE:
                    deciding = False
                    if self._majority() != reading:
                        raise _ReadAgain(_Plan(reading=self._majority(), per_timestamp=per_timestamp))
                if previous is not None and ts_ms != previous:
                    ascending = ascending and ts_ms > previous
                    descending = descending and ts_ms < previous
                    if per_timestamp and not (ascending or descending):
                        # Identical events may now be far apart: number them across the whole file instead.
                        raise _ReadAgain(_Plan(reading=self.plan.reading, per_timestamp=False))
                previous = ts_ms
                # Disjoint: w/ is the cache write. Superset: w/ includes w/o, so the cache write is the difference.
                cache_write = with_cw if disjoint else max(with_cw - without_cw, 0)
                if not (without_cw or cache_write or cache_read or output or cost):
                    empty += 1
                    continue
                stored = usage_row_of(
                    ts_ms,
                    email,
                    model,
                    without_cw,
                    cache_write,
                    cache_read,
                    output,
                    cost,
                    kind,
                    max_mode,
                    org_id=org_id,
                    occurrences=occurrences,
                    source="csv",
                )
                imported += 1
                day = stored[1]
                if day is not current_day:
                    days.add(day)
                    current_day = day
                users.add(email)
                input_sum += without_cw
                write_sum += cache_write
                read_sum += cache_read
                output_sum += output
                cost_sum += cost
                # The file's sums bound what any day's rollup of it adds up to: past what the columns hold,
                # refuse here rather than fail (PostgreSQL) or overflow (SQLite) in the database.
                sums = input_sum | write_sum | read_sum | output_sum
                if sums > MAX_TOKENS or cost_sum.adjusted() >= MAX_COST_DIGITS:
                    if deciding and self._majority() != reading:
                        # Summed under the reading only assumed so far: the other one may well fit.
                        raise _ReadAgain(_Plan(reading=self._majority(), per_timestamp=per_timestamp))
                    raise CsvImportError(
                        line, "the file's tokens or cost add up to more than the database can store; split the file"
                    )
                batch.append(stored)
                if len(batch) >= size:
                    tokens = (input_sum, write_sum, read_sum, output_sum)
                    self._tally(rows, imported, empty, tokens, cost_sum, ascending, descending, current_day)
                    yield batch
                    batch = []
        tokens = (input_sum, write_sum, read_sum, output_sum)
        self._tally(rows, imported, empty, tokens, cost_sum, ascending, descending, current_day)
        if batch:
            yield batch
        if parse is None:
            raise CsvImportError(1, "the file is empty; expected a header row such as Date,User,Kind,Model,...")


class _StoredRows:
    """The team's rows on the file's days: counted per day before the import first writes to it, and after.

    A day the team had no rows on is *fresh*: every row it gets comes from this file, and the file's keys
    are unique (identical events are numbered), so its rows go in without a conflict check per row, which
    is most of what an upsert costs. A first import of months of history is all fresh days.
    """

    def __init__(self, session: Session, org_id: str) -> None:
        self.session, self.org_id = session, org_id
        self.before: dict[date, int] = {}  # every day of the file seen so far: its rows before the import
        self.upserted: set[date] = set()  # days some batch was merged into by key
        self.inserted: Counter[date] = Counter()  # rows inserted plainly, per day

    def before_writing(self, batch: list[tuple[Any, ...]]) -> bool:
        """Count the batch's days not seen yet; whether the batch goes in plainly (all its days fresh)."""
        days = {row[1] for row in batch}
        new = days - self.before.keys()
        if new:
            counts = self._count(new)
            self.before.update((day, counts.get(day, 0)) for day in new)
        if not any(self.before[day] for day in days):
            self.inserted.update(row[1] for row in batch)
            return True
        self.upserted |= days
        return False

    def added(self) -> int:
        """Rows that did not exist before: those inserted plainly, and what the upserted days grew by."""
        plain = sum(rows for day, rows in self.inserted.items() if day not in self.upserted)
        after = self._count(self.upserted)
        return plain + sum(after.get(day, 0) - self.before[day] for day in self.upserted)

    def _count(self, days: set[date]) -> dict[date, int]:
        ordered = sorted(days)
        counts: dict[date, int] = {}
        for start in range(0, len(ordered), 500):
            query = (
                select(Usage.date, func.count())
                .where(Usage.tool == TOOL, Usage.org_id == self.org_id, Usage.date.in_(ordered[start : start + 500]))
                .group_by(Usage.date)
            )
            counts.update((day, int(count)) for day, count in self.session.execute(query))
        return counts


def _count_records(path: Path) -> int:
    """Data rows, estimated from line breaks (a quoted cell may hold one): only for progress.

    The same pass refuses a NUL character, in any cell, naming its line: PostgreSQL text cannot hold one
    (SQLite would store it silently). UTF-8 has no other byte 0, so the bytes tell.
    """
    lines = 0
    last = b""
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            if (nul := chunk.find(b"\x00")) >= 0:
                line = lines + chunk.count(b"\n", 0, nul) + 1
                raise CsvImportError(line, "a cell holds a NUL character (\\x00), which the database cannot store")
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    if last and last != b"\n":
        lines += 1
    return max(lines - 1, 0)


@contextmanager
def _csv_reader(path: Path) -> Iterator[Any]:
    """A csv reader (BOM, CRLF and quoted fields handled) whose failures name their line."""
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle, strict=True)
            try:
                yield reader
            except csv.Error as exc:
                raise CsvImportError(reader.line_num, f"the CSV is malformed ({exc})") from None
    except UnicodeDecodeError as exc:
        raise CsvImportError(_line_of_byte(path, exc.start), "the file is not UTF-8 text") from None


def _is_blank(cells: list[str]) -> bool:
    # The first cell (the Date) decides for almost every row, without looking at the others.
    return not cells or (not cells[0].strip() and not any(cell.strip() for cell in cells))


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
        raise CsvImportError(line, _PERSONAL.format(why="no User column"))
    return layout


_PERSONAL = "this is a personal export ({why}): pass --user EMAIL to say whose usage it is"


def _no_user(cell: str) -> str:
    """Why a row has nobody to attribute it to, with the hint that fixes it."""
    if not cell:
        return "the User cell is empty (pass --user EMAIL to attribute such rows)"
    return _PERSONAL.format(why=f"the User cell says {cell[:40]!r}, not an email")


# (ts_ms, email, model, w/ cache write, w/o cache write, cache read, output, total or None, cost,
# kind, max mode). A plain tuple: one is built per row of files with millions of rows. The old one-column
# `Tokens` is carried as w/o cache write (plain input), which both readings store as input.
_Parsed = tuple[int, str, str, int, int, int, int, "int | None", Decimal, "str | None", "bool | None"]
_MAX_MODE = {"yes": True, "true": True, "no": False, "false": False}
_ZERO = Decimal(0)


def _row_parser(layout: _Layout, user: str | None) -> Callable[[int, list[str]], _Parsed]:
    """A parser for rows of this layout, with the column positions looked up once."""
    index = layout.index
    at_user, at_date, at_model = index.get("user"), index["date"], index["model"]
    at_kind, at_max_mode, at_cost, at_total = (
        index.get("kind"),
        index.get("max_mode"),
        index.get("cost"),
        index.get("total"),
    )
    split = all(name in index for name in SPLIT_TOKENS)
    at_with, at_without, at_read, at_output = (index.get(name, -1) for name in SPLIT_TOKENS)
    at_tokens = index.get("tokens", -1)

    def parse(line: int, cells: list[str]) -> _Parsed:
        email = cells[at_user].strip().lower() if at_user is not None else ""
        if not email or "@" not in email:
            # Personal exports write a placeholder (`You`) where team exports write the email.
            if not user:
                raise CsvImportError(line, _no_user(cells[at_user].strip() if at_user is not None else ""))
            email = user
        elif len(email) > MAX_TEXT:
            raise CsvImportError(line, f"the User cell is longer than the {MAX_TEXT} characters the database stores")
        model = canonical_model(cells[at_model])
        if len(model) > MAX_TEXT:
            raise CsvImportError(line, f"the Model cell is longer than the {MAX_TEXT} characters the database stores")
        total: int | None = None
        if split:
            # int() straight away for plain digits short enough to fit BIGINT, the common case; _tokens for
            # the rest (separators, empty cells, and the bound).
            value = cells[at_with]
            with_cw = int(value) if value.isdecimal() and len(value) < 19 else _tokens(line, "with_cache_write", value)
            value = cells[at_without]
            without_cw = (
                int(value) if value.isdecimal() and len(value) < 19 else _tokens(line, "without_cache_write", value)
            )
            value = cells[at_read]
            cache_read = int(value) if value.isdecimal() and len(value) < 19 else _tokens(line, "cache_read", value)
            value = cells[at_output]
            output = int(value) if value.isdecimal() and len(value) < 19 else _tokens(line, "output", value)
            if at_total is not None and (value := cells[at_total].strip()):
                total = int(value) if value.isdecimal() else _tokens(line, "total", value)
        else:
            with_cw, without_cw, cache_read, output = 0, _tokens(line, "tokens", cells[at_tokens]), 0, 0
        kind = cells[at_kind].strip()[:64] or None if at_kind is not None else None
        return (
            _timestamp(line, cells[at_date]),
            email,
            model,
            with_cw,
            without_cw,
            cache_read,
            output,
            total,
            _cost(line, cells[at_cost]) if at_cost is not None else _ZERO,
            kind,
            _MAX_MODE.get(cells[at_max_mode].strip().lower()) if at_max_mode is not None else None,
        )

    return parse


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


def _timestamp(line: int, value: str) -> int:
    """Epoch milliseconds of an ISO 8601 Date cell; the export writes UTC, so a zoneless time is UTC."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise CsvImportError(
            line, f"unreadable Date {value!r}; expected ISO 8601 such as 2025-12-02T01:46:34.592Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MILLISECOND


_TOKEN_LABELS = {
    "with_cache_write": "Input (w/ Cache Write)",
    "without_cache_write": "Input (w/o Cache Write)",
    "cache_read": "Cache Read",
    "output": "Output Tokens",
    "total": "Total Tokens",
    "tokens": "Tokens",
}


_THOUSANDS = re.compile(r"[1-9]\d{0,2}(?:,\d{3})+")


def _tokens(line: int, name: str, value: str) -> int:
    """Whole numbers, possibly with thousands separators (``1,000``); empty (errored rows) is 0. Refused
    when unreadable, or (stored columns) beyond what BIGINT holds."""
    digits = value.strip()
    if not digits:
        return 0
    if _THOUSANDS.fullmatch(digits):
        digits = digits.replace(",", "")
    elif not digits.isdecimal():
        raise CsvImportError(line, f"unreadable {_TOKEN_LABELS[name]} {value!r}; expected a whole number")
    number = int(digits)
    if number > MAX_TOKENS and name != "total":
        raise CsvImportError(
            line,
            f"{_TOKEN_LABELS[name]} {value.strip()} is more than the database can store (at most {MAX_TOKENS:,})",
        )
    return number


_NUMBER_START = frozenset("0123456789.")
_COST_EXAMPLES = "expected dollars such as 0.06, $0.12 or 1,234.56"
_SEPARATED = re.compile(r"\d[\d.,]*\d|\d")


def _cost(line: int, value: str) -> Decimal:
    """Dollars: ``0.06``, ``$0.12``, ``1,234.56``, ``1.234,56``, ``0,12``; ``Included`` / ``Free`` / empty mean
    nothing charged. An amount whose separators could be read two ways (``1,234``), or that NUMERIC(18,6)
    cannot hold exactly (twelve digits before the point, six after), is refused."""
    if value[:1] in _NUMBER_START and value.replace(".", "", 1).isdecimal():
        # The common case: a plain amount, which Decimal reads as it is. With at most twelve digits before
        # the point and six after it fits the column exactly, and needs none of the checks below.
        amount = Decimal(value)
        point = value.find(".")
        whole = point if point >= 0 else len(value)
        if whole <= MAX_COST_DIGITS and len(value) - whole <= 7:
            return amount
    else:
        text = value.strip()
        if text.lower() in FREE_COSTS:
            return _ZERO
        amount = _amount(line, value, text)
    if amount.adjusted() >= MAX_COST_DIGITS:
        raise CsvImportError(
            line, f"Cost {value.strip()!r} is more than the database can store (at most 999,999,999,999.999999)"
        )
    stored = amount.quantize(MICRO_DOLLARS, rounding=ROUND_HALF_EVEN)
    if stored != amount:
        raise CsvImportError(
            line,
            f"Cost {value.strip()!r} has more than six decimals; the database keeps micro-dollars and would "
            f"store {stored.normalize():f}",
        )
    return stored


def _amount(line: int, value: str, text: str) -> Decimal:
    """A cost with a sign, a dollar sign or separators: the one number it can mean, else a refusal."""
    negative = False
    body = text
    for _ in range(2):  # -$1.00 and $-1.00
        if body[:1] in ("+", "-"):
            negative, body = body[0] == "-", body[1:].strip()
        if body[:1] == "$":
            body = body[1:].strip()
    if not _SEPARATED.fullmatch(body):
        raise CsvImportError(line, f"unreadable Cost {value!r}; {_COST_EXAMPLES}")
    amount = Decimal(_without_separators(line, value, body))
    return -amount if negative else amount


def _grouped(whole: str, separator: str) -> bool:
    """``1,234,567`` (or with dots): thousands groups, the first of one to three digits and not zero."""
    groups = whole.split(separator)
    return (
        len(groups) > 1
        and 1 <= len(groups[0]) <= 3
        and groups[0][0] != "0"
        and all(len(group) == 3 for group in groups[1:])
    )


def _without_separators(line: int, value: str, body: str) -> str:
    """``body`` (digits, commas and dots) as a plain decimal, reading each separator the only way it can be."""
    commas, dots = body.count(","), body.count(".")
    if commas and dots:
        # Both: the last one is the decimal mark, the other separates thousands (1,234.56 or 1.234,56).
        point = "," if body.rfind(",") > body.rfind(".") else "."
        thousands = "." if point == "," else ","
        whole, _, fraction = body.rpartition(point)
        if point in whole or not _grouped(whole, thousands):
            raise CsvImportError(line, f"unreadable Cost {value!r}; {_COST_EXAMPLES}")
        return whole.replace(thousands, "") + "." + fraction
    if commas == 1:
        whole, _, fraction = body.partition(",")
        if len(fraction) == 3 and _grouped(body, ","):
            raise CsvImportError(
                line,
                f"ambiguous Cost {value!r}: {whole}{fraction} with a thousands separator, or {whole}.{fraction} "
                "with a decimal comma; write it without the comma, or with a decimal point",
            )
        return whole + "." + fraction  # a decimal comma: 0,12 or 12,5 (or 1234,567: no thousands there)
    if commas > 1 or dots > 1:
        # Several of one kind: they can only separate thousands (1,234,567 or 1.234.567).
        separator = "," if commas else "."
        if not _grouped(body, separator):
            raise CsvImportError(line, f"unreadable Cost {value!r}; {_COST_EXAMPLES}")
        return body.replace(separator, "")
    return body  # digits, or digits with one decimal point
