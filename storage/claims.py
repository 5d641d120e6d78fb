"""Claim-once rows: the unique key that makes a digest, a budget alert or a spike DM go out once.

A caller owns a key if it inserted the row for it. A row whose earlier owner failed before anything
reached Slack may be taken over instead; everything else means another scheduler (or an earlier run)
has it, and the caller must not post.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError

from storage.db import transaction
from storage.models import Base


def claim_once(
    engine: Engine,
    model: type[Base],
    key: dict[str, Any],
    values: dict[str, Any],
    *,
    retake_if: list[Any],
    retake_values: dict[str, Any],
) -> int | None:
    """The row's id if this caller now owns ``key``, else None.

    ``values`` fill a new row; an existing row matching ``retake_if`` is taken over with ``retake_values``
    in one conditional UPDATE, so of two callers racing for it only one wins.
    """
    table: Any = model
    try:
        with transaction(engine) as session:
            row = table(**key, **values)
            session.add(row)
            session.flush()
            return int(row.id)
    except IntegrityError:
        pass
    with transaction(engine) as session:
        row_id = session.scalar(select(table.id).where(*(getattr(table, name) == v for name, v in key.items())))
        retaken = session.execute(update(table).where(table.id == row_id, *retake_if).values(**retake_values)).rowcount  # type: ignore[attr-defined]
    return row_id if retaken else None
