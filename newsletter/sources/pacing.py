"""Spacing requests to one host, as arXiv asks (at least 3 seconds between calls).

The clock and the sleep are injected so tests can check the spacing without waiting for it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

ARXIV_INTERVAL = 3.0


class Pacer:
    """Waits before a request until ``interval`` seconds have passed since the previous one."""

    def __init__(
        self,
        interval: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._last: float | None = None

    def wait(self) -> None:
        if self._last is not None:
            delay = self._last + self.interval - self._clock()
            if delay > 0:
                self._sleep(delay)
        self._last = self._clock()
