"""Progress bars for long renders: one bar per phase on a terminal, nothing elsewhere.

A phase's bar appears only once the phase has run for ``DELAY`` seconds, so a render of
a small repository prints exactly what it printed before. Output that is not a terminal
(a pipe, a CI log) and ``--quiet`` get no bars at all.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TextIO, TypeVar

import click

DELAY = 0.5

Item = TypeVar("Item")
Advance = Callable[[int], None]


class Progress:
    """Draws one bar per phase on ``stream``; with no stream it draws nothing."""

    def __init__(self, stream: TextIO | None, *, delay: float = DELAY) -> None:
        self.stream = stream
        self.delay = delay

    @contextlib.contextmanager
    def phase(self, label: str, length: int) -> Iterator[Advance]:
        """Yield the function that advances the phase's bar by a number of items."""
        if self.stream is None or length == 0:
            yield _ignore
            return
        bar = _LazyBar(self.stream, label, length, self.delay)
        try:
            yield bar.advance
        finally:
            bar.close()

    def track(self, label: str, items: Sequence[Item]) -> Iterator[Item]:
        """Yield ``items`` one by one, advancing the phase's bar after each."""
        with self.phase(label, len(items)) as advance:
            for item in items:
                yield item
                advance(1)


def _ignore(count: int) -> None:
    pass


class _LazyBar:
    """A click progress bar that is created only when its phase outlasts the delay."""

    def __init__(self, stream: TextIO, label: str, length: int, delay: float) -> None:
        self.stream, self.label, self.length = stream, label, length
        self.deadline = time.monotonic() + delay
        self.done = 0
        self.bar: Any = None

    def advance(self, count: int) -> None:
        self.done += count
        if self.bar is not None:
            self.bar.update(count)
        elif time.monotonic() >= self.deadline:
            self.bar = click.progressbar(length=self.length, label=f"{self.label:<8}", file=self.stream)
            self.bar.__enter__()
            self.bar.update(self.done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


QUIET = Progress(None)


def for_terminal(stream: TextIO, *, quiet: bool = False) -> Progress:
    """Return bars on ``stream`` when it is a terminal and ``quiet`` is off, else ``QUIET``."""
    if quiet or not stream.isatty():
        return QUIET
    return Progress(stream)
