"""Work whose cost grows with a case (folds, history rows, page renders), off the event loop.

It runs in one dedicated worker thread, not in the default pool: CPU-bound threads hold
the GIL, and every one of them that is runnable competes with the event loop for it (the
interpreter hands the GIL over every 5 ms, to any waiter). With one worker the loop
competes with one thread, so `/healthz` and small requests keep answering in
milliseconds while a large page is built; large pages queue behind each other instead of
multiplying, which also bounds the CPU a burst of them can take.

The cyclic garbage collector is paused while a job runs (and resumed after it, unless
it was off already): a fold of a 20,000-event case allocates millions of objects, and
each full collection it triggered walked them all holding the GIL, stalling the loop
for 0.2-0.4 s at a time. The job's objects are freed by reference counting when it
ends; the collector, resumed, finds any cycle later. One worker means one job at a
time, so pausing and resuming cannot interleave.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import gc
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")
_WORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="caseledger-heavy")


async def off_loop(work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`work(*args, **kwargs)` in the heavy-work thread, with this request's context."""
    context = contextvars.copy_context()
    call = functools.partial(context.run, _without_collector, work, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_WORKER, call)


def _without_collector(work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    was_on = gc.isenabled()
    gc.disable()
    try:
        return work(*args, **kwargs)
    finally:
        if was_on:
            gc.enable()
