"""`caseledger rebuild --workers N`: the cases split into N ranges, one process each.

Replaying is Python work (parse, fold, read-model rows), so one process keeps one
core busy and the database waits on it. Cases are independent, so the log is cut
into N ranges of case_id holding about as many events each (weighted by each
case's version in `case_state`, or by counting events when that is empty); the
calling process rebuilds the first range itself and N - 1 spawned processes the
others, each with its own connections and its own bounded chunks (the cutting
and range queries live in `app.store.bulk`). A process
reports its cases as they are written and its part of the report at the end.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import queue
from collections.abc import Callable
from typing import Any

from app.store.bulk import Bounds

_POLL_SECONDS = 0.2


class Shards:
    """The spawned processes of ranges 2..N, and what they report."""

    def __init__(self, target: Callable[..., None], args: tuple[Any, ...], bounds: list[Bounds]) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.messages: Any = ctx.Queue()
        self.processes = [
            ctx.Process(target=target, args=(*args, b, self.messages), daemon=True) for b in bounds
        ]

    def start(self) -> None:
        for process in self.processes:
            process.start()

    async def results(self, progress: Callable[[int], None] | None) -> list[dict[str, Any]]:
        """Each process's result; `progress` is called (in the event loop) as they report."""
        loop = asyncio.get_running_loop()

        def advance(n: int) -> None:
            if progress is not None:
                loop.call_soon_threadsafe(progress, n)

        return await asyncio.to_thread(self._collect, advance)

    def _collect(self, advance: Callable[[int], None]) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        while len(results) < len(self.processes):
            try:
                kind, body = self.messages.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                if not any(p.is_alive() for p in self.processes) and self.messages.empty():
                    raise RuntimeError("a rebuild worker exited without a result") from None
                continue
            if kind == "progress":
                advance(body)
            elif kind == "error":
                raise RuntimeError(f"a rebuild worker failed: {body}")
            else:
                results.append(body)
        for process in self.processes:
            process.join()
        return results

    def stop(self) -> None:
        """After a failure: end the processes this object started, and only those."""
        for process in self.processes:
            if process.is_alive():
                process.terminate()
        for process in self.processes:
            process.join()
