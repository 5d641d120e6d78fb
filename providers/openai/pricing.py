"""What OpenAI usage costs at list prices, from the ``genai-prices`` table (no network: the table ships with it).

The usage API reports tokens but never money per person, so cost is computed here and labelled an estimate
wherever it is shown. A model the table does not know is not priced at $0: :func:`price` returns None, the
tokens are stored with no cost, and the sync reports the model so ``status`` can say which usage is unpriced.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time
from decimal import Decimal

from genai_prices import Usage, calc_price

_MICRO = Decimal("0.000001")


@functools.lru_cache(maxsize=256)
def _known(model: str) -> bool:
    try:
        calc_price(Usage(input_tokens=0, output_tokens=0), model_ref=model, provider_id="openai")
    except LookupError:
        return False
    return True


def price(model: str, day: date, *, input_total: int, cache_read: int, cache_write: int, output: int) -> Decimal | None:
    """USD at the list price in force on ``day``, to the micro-dollar; None when the model has no known price.

    ``input_total`` is every input token, cached ones included: the table, like OpenAI's own ``input_tokens``,
    counts cache reads and writes inside the input and prices each part at its own rate.
    """
    if not model or not _known(model):
        return None
    usage = Usage(
        input_tokens=input_total, cache_read_tokens=cache_read, cache_write_tokens=cache_write, output_tokens=output
    )
    when = datetime.combine(day, time(12), tzinfo=UTC)
    result = calc_price(usage, model_ref=model, provider_id="openai", genai_request_timestamp=when)
    return Decimal(result.total_price).quantize(_MICRO)
