"""What OpenAI usage costs at list prices, from the ``genai-prices`` table (no network: the table ships with it).

The usage API reports tokens but never money per person, so cost is computed here and labelled an estimate
wherever it is shown. A model the table does not know is not priced at $0: :func:`price` returns None, the
tokens are stored with no cost, and the sync reports the model so ``status`` can say which usage is unpriced.

The rates of a model are read from the table once per model and day (the price in force that day) and applied
to the day's sums. Base rates are used even where the table has tiers by prompt size: tiers apply per request,
and a day's sum of many requests says nothing about the size of any one of them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal

from genai_prices import Usage, calc_price
from genai_prices.types import TieredPrices

_MICRO = Decimal("0.000001")
_MILLION = Decimal(1_000_000)


@dataclass(frozen=True, slots=True)
class Rates:
    """USD per million tokens."""

    input: Decimal
    cache_read: Decimal
    cache_write: Decimal
    output: Decimal


def _rate(value: object, fallback: Decimal) -> Decimal:
    if isinstance(value, TieredPrices):
        return Decimal(value.base)
    if isinstance(value, Decimal | int | float):
        return Decimal(str(value))
    # The table leaves a rate out when the provider charges that kind of input like any other input.
    return fallback


@functools.lru_cache(maxsize=4096)
def rates(model: str, day: date) -> Rates | None:
    """The model's list rates on ``day``, or None when the table does not know the model."""
    if not model:
        return None
    when = datetime.combine(day, time(12), tzinfo=UTC)
    try:
        found = calc_price(
            Usage(input_tokens=0, output_tokens=0), model_ref=model, provider_id="openai", genai_request_timestamp=when
        )
    except LookupError:
        return None
    prices = found.model_price
    base_input = _rate(prices.input_mtok, Decimal(0))
    return Rates(
        input=base_input,
        cache_read=_rate(prices.cache_read_mtok, base_input),
        cache_write=_rate(prices.cache_write_mtok, base_input),
        output=_rate(prices.output_mtok, Decimal(0)),
    )


def price(model: str, day: date, *, uncached: int, cache_read: int, cache_write: int, output: int) -> Decimal | None:
    """USD at the list rates in force on ``day``, to the micro-dollar; None when the model has no known price.

    ``uncached`` is input neither read from nor written to the cache (OpenAI's ``input_tokens`` minus both).
    """
    r = rates(model, day)
    if r is None:
        return None
    total = uncached * r.input + cache_read * r.cache_read + cache_write * r.cache_write + output * r.output
    return (total / _MILLION).quantize(_MICRO)
