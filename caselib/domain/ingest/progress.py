"""A progress bar for long loads, fed by DuckDB's own progress of the running statement."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Sequence

__all__ = ["LoadProgress"]


class LoadProgress:
    """Shows a bar on stderr once a load has run longer than ``after`` seconds.

    The load calls :meth:`phase` as it moves through ``phases``; a background thread polls
    ``poll()`` (percent of the running statement, or -1) and draws the overall percentage.
    ``enabled=None`` draws only when stderr is a terminal.
    """

    def __init__(
        self,
        label: str,
        phases: Sequence[str],
        poll: Callable[[], float],
        *,
        enabled: bool | None = None,
        after: float = 1.0,
        stream=None,
    ) -> None:
        self.label = label
        self.phases = list(phases)
        self.poll = poll
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.after = after
        self._phase = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._bar = None
        self.shown = False

    def phase(self, name: str) -> None:
        self._phase = self.phases.index(name)

    def __enter__(self) -> LoadProgress:
        if self.enabled:
            self._started = time.monotonic()
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._bar is not None:
            if exc[0] is None:
                self._bar.n = 100
                self._bar.set_description(f"{self.label}: done")
            self._bar.close()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            if time.monotonic() - self._started < self.after:
                continue
            if self._bar is None:
                from tqdm import tqdm

                self._bar = tqdm(
                    total=100,
                    file=self.stream,
                    bar_format="{desc} |{bar}| {percentage:3.0f}% [{elapsed}]",
                    leave=True,
                )
                self.shown = True
            try:
                within = max(self.poll(), 0.0) / 100.0
            except Exception:  # polling must never break a load
                within = 0.0
            overall = (self._phase + min(within, 1.0)) / len(self.phases) * 100
            self._bar.set_description(f"{self.label}: {self.phases[self._phase]}")
            self._bar.n = max(self._bar.n, round(overall, 1))
            self._bar.refresh()
