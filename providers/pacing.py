"""Client-side request pacing, for providers whose documented rate limit is per organisation."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from providers.http import Sleep


class RatePacer:
    """At most ``limit`` requests in any ``period`` seconds (a sliding window), waiting only when needed.

    The clock and the sleep are injectable so tests run in milliseconds.
    """

    def __init__(
        self,
        limit: int,
        period: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        if limit < 1 or period <= 0:
            raise ValueError("a pacer needs limit >= 1 and period > 0")
        self.limit, self.period = limit, period
        self._clock, self._sleep = clock, sleep
        self._sent: deque[float] = deque()

    def wait(self) -> float:
        """Block until one more request fits in the window, record it, and return the seconds waited."""
        now = self._clock()
        self._forget_before(now - self.period)
        waited = 0.0
        if len(self._sent) >= self.limit:
            waited = self._sent[0] + self.period - now
            if waited > 0:
                self._sleep(waited)
            now = self._clock()
            self._forget_before(now - self.period)
            # A clock that did not advance (or a sleep cut short) must not let the window overfill.
            while len(self._sent) >= self.limit:
                self._sent.popleft()
        self._sent.append(now)
        return max(waited, 0.0)

    def _forget_before(self, cutoff: float) -> None:
        while self._sent and self._sent[0] <= cutoff:
            self._sent.popleft()
