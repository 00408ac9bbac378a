"""Pausing Python's cyclic garbage collector around allocation-heavy work.

A render allocates millions of objects (parsed descriptions, output manifests) that
live until it ends and form almost no reference cycles. The collector's repeated passes
over the growing heap are therefore pure cost: 40% to more than half of the time to read
10,000 node descriptions, as measured by benchmarks/validate.py and benchmarks/fleet.py.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector, and restore its previous state on the way out.

    Cycles made meanwhile are collected once it runs again.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
