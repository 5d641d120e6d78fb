"""Each distinct chart is drawn once.

Drawing a PNG costs more CPU than the query behind it (150-270 ms for a 30-day overview), and the same
chart is asked for again and again: everyone who asks `/abacus top` or `overview` for the same period
between two syncs gets the same picture. The renderers are pure (their arguments and the series styles
decide every pixel), so a chart is kept under a digest of exactly those, and a changed figure, label or
style is a different chart. A small, bounded, per-process store: nothing goes stale, because nothing is
reused unless its inputs are identical.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec

from charts import style
from charts.data import Chart

P = ParamSpec("P")
KEPT = 64  # charts kept per process: ~50 KB each

_lock = threading.Lock()
_drawn: OrderedDict[str, Chart] = OrderedDict()


def drawn_once(render: Callable[P, Chart]) -> Callable[P, Chart]:
    """``render``, remembering its last :data:`KEPT` distinct charts."""

    @wraps(render)
    def draw(*args: P.args, **kwargs: P.kwargs) -> Chart:
        inputs = repr((render.__qualname__, args, sorted(kwargs.items()), style.described()))
        key = hashlib.sha256(inputs.encode()).hexdigest()
        with _lock:
            chart = _drawn.get(key)
            if chart is not None:
                _drawn.move_to_end(key)
                return chart
        chart = render(*args, **kwargs)
        with _lock:
            _drawn[key] = chart
            while len(_drawn) > KEPT:
                _drawn.popitem(last=False)
        return chart

    return draw


def forget() -> None:
    """Drop every remembered chart (tests that time or count the drawing itself)."""
    with _lock:
        _drawn.clear()
