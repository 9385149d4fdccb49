"""The benchmarks in order, their sizes, repeats and figures."""

from __future__ import annotations

import asyncio
import statistics
from argparse import Namespace
from datetime import UTC, datetime
from typing import Any

from bench import appends, bulk, commands, peer, reads, rebuild, replay
from bench.common import Databases, Figure, Ratio, check_stop, log
from bench.server import Server, make_key
from bench.suite_trust import TrustSteps

# checkpoints right after bulk: it verifies the imported events before rebuild drops them.
NAMES = ("appends", "sealing", "commands", "bulk", "checkpoints", "rebuild", "reads", "replay")
WITHOUT_ACCESS_RECORD = "bench.server_variants:without_access_record"
MB = 2**20


def _cores(cpu: dict[str, Any]) -> str:
    return (
        f"cores: client {cpu['client_cores']}, server {cpu['server_cores']}, postgres {cpu['postgres_cores']}"
    )


class Suite(TrustSteps):
    def __init__(self, args: Namespace, databases: Databases) -> None:
        self.args, self.dbs = args, databases
        quick = args.quick
        self.repeats = args.repeats or (1 if quick else 3)
        self.seconds = args.seconds or (1.0 if quick else 10.0)
        self.events = args.events or (50_000 if quick else 1_000_000)
        self.read_cases = args.read_cases or (2_000 if quick else 100_000)
        self.figures: list[Figure] = []
        self.ratios: list[Ratio] = []
        self.runs: dict[str, Any] = {}
        self.errors: dict[str, str] = {}
        self.loads: dict[str, Any] = {}
        self.servers: list[Server] = []
        self.rss: dict[str, list[float]] = {}
        self.import_db: str | None = None

    async def run(self, name: str) -> None:
        await getattr(self, f"_{name}")()

    def figure(self, key: str, label: str, unit: str, repeats: list[float], **kw: Any) -> Figure:
        f = Figure(key, label, unit, [round(v, 3) for v in repeats], **kw)
        self.figures.append(f)
        return f

    def ratio(
        self,
        key: str,
        label: str,
        num: str,
        den: str,
        target: float | None,
        pairs: list[tuple[float, float]],
    ) -> None:
        """The median of per-repeat ratios: each pair was measured in the same repeat."""
        values = [a / b for a, b in pairs if b]
        self.ratios.append(
            Ratio(
                key,
                label,
                num,
                den,
                target,
                round(statistics.median(values), 3) if values else None,
            )
        )

    def stop_servers(self) -> None:
        for s in self.servers:
            s.stop()

    # 1 ------------------------------------------------------------------------------------------
    async def _appends(self) -> None:
        url = await self.dbs.create("appends")
        peer_url = await self.dbs.create("peer", migrated=False)
        s, extra = self.seconds, self.seconds / 2
        per_writer = 10 if self.args.quick else appends.CASES_PER_WRITER
        runs: dict[str, list[dict[str, Any]]] = {
            k: []
            for k in (
                "raw",
                "store_existing",
                "store_new",
                "peer_one_event",
                "peer_get_modify_save",
                "peer_batched",
            )
        }
        for r in range(self.repeats):
            check_stop()
            log(f"appends repeat {r + 1}/{self.repeats}")
            runs["raw"].append(await appends.raw(url, 8, s))
            runs["store_existing"].append(
                await appends.store(url, 8, s, new_cases=False, seed=r, cases_per_writer=per_writer)
            )
            runs["store_new"].append(await appends.store(url, 8, s, new_cases=True, seed=r))
            runs["peer_one_event"].append(await asyncio.to_thread(peer.appends, peer_url, s, "one_event"))
            runs["peer_get_modify_save"].append(
                await asyncio.to_thread(peer.appends, peer_url, extra, "get_modify_save")
            )
            runs["peer_batched"].append(await asyncio.to_thread(peer.appends, peer_url, extra, "batched"))
            log("  " + ", ".join(f"{k} {v[-1]['rate']:,.0f}/s" for k, v in runs.items()))
        peer_reads = await asyncio.to_thread(peer.reads, peer_url, 100 if self.args.quick else 500)
        self.runs["appends"] = {**runs, "peer_reads": peer_reads}
        rate = {k: [x["rate"] for x in v] for k, v in runs.items()}
        self.figure(
            "appends.raw",
            "1 raw asyncpg BEGIN/INSERT/COMMIT, 8 writers (the limit)",
            "events/s",
            rate["raw"],
            reference="6.1k-8.2k",
        )
        self.figure(
            "appends.store_existing",
            "1 store append (AppendHandler), existing cases",
            "events/s",
            rate["store_existing"],
        )
        self.figure(
            "appends.store_new",
            "1 store append (AppendHandler), new cases",
            "events/s",
            rate["store_new"],
        )
        self.figure(
            "appends.peer",
            "1 peer: eventsourcing, 1 event per save, 8 threads",
            "events/s",
            rate["peer_one_event"],
            reference="1.3k",
        )
        self.figure(
            "appends.peer_gms",
            "1 peer: get-modify-save, 8 threads",
            "commands/s",
            rate["peer_get_modify_save"],
            reference="500",
        )
        self.figure(
            "appends.peer_batched",
            "1 peer: batched saves (100 events/save)",
            "events/s",
            rate["peer_batched"],
            reference="15.4k",
        )
        self.figure(
            "peer.log_read",
            "1 peer: notification-log read with decoding",
            "events/s",
            [peer_reads["read_rate"]],
            reference="109k",
        )
        for case in ("existing", "new"):
            store_rates = rate[f"store_{case}"]
            self.ratio(
                f"store_{case}/raw",
                f"store ({case} cases) / raw",
                f"appends.store_{case}",
                "appends.raw",
                0.7,
                list(zip(store_rates, rate["raw"], strict=True)),
            )
            self.ratio(
                f"store_{case}/peer",
                f"store ({case} cases) / peer",
                f"appends.store_{case}",
                "appends.peer",
                4.0,
                list(zip(store_rates, rate["peer_one_event"], strict=True)),
            )
        await self.dbs.drop(url)
        await self.dbs.drop(peer_url)

    # 2 and 7 (writes) ----------------------------------------------------------------------------
    async def _commands(self) -> None:
        url = await self.dbs.create("commands")
        key = await make_key(url)
        per_client = 4 if self.args.quick else 64
        out: dict[str, list[dict[str, Any]]] = {}
        for workers in (1, 2):
            server = Server(url, workers, f"server-commands-{workers}w")
            self.servers.append(server)
            server.start()
            try:
                for r in range(self.repeats):
                    check_stop()
                    for kind in ("raw", "httpx"):
                        res = await commands.run(
                            server,
                            key,
                            kind=kind,
                            seconds=self.seconds,
                            cases_per_client=per_client,
                            seed=r * 10 + workers,
                        )
                        out.setdefault(f"{workers}w_{kind}", []).append(res)
                        log(
                            f"commands {workers} worker(s), {kind} client: {res['rate']:,.0f}/s, "
                            f"p99 {res['p99_ms']:.1f} ms, {_cores(res['cpu'])}"
                        )
                peaks = [v / MB for v in server.peak_rss.values()]
                self.rss[f"write_{workers}w"] = peaks
            finally:
                server.stop()
        self.runs["commands"] = out
        for workers in (1, 2):
            for kind in ("raw", "httpx"):
                runs = out[f"{workers}w_{kind}"]
                self.figure(
                    f"commands.{workers}w.{kind}",
                    f"2 HTTP commands, 16 clients, {workers} worker{'s' if workers > 1 else ''}, "
                    f"{'raw keep-alive' if kind == 'raw' else 'httpx'} client",
                    "commands/s",
                    [x["rate"] for x in runs],
                    target=1500,
                    extra={
                        "p50_ms": statistics.median(x["p50_ms"] for x in runs),
                        "p99_ms": statistics.median(x["p99_ms"] for x in runs),
                        "cpu": runs[-1]["cpu"],
                    },
                )
        self.ratio(
            "commands_2w/1w",
            "commands: 2 workers / 1 worker (raw client)",
            "commands.2w.raw",
            "commands.1w.raw",
            None,
            list(
                zip(
                    [x["rate"] for x in out["2w_raw"]],
                    [x["rate"] for x in out["1w_raw"]],
                    strict=True,
                )
            ),
        )
        self.ratio(
            "commands_httpx/raw",
            "commands: httpx client / raw client (1 worker)",
            "commands.1w.httpx",
            "commands.1w.raw",
            None,
            list(
                zip(
                    [x["rate"] for x in out["1w_httpx"]],
                    [x["rate"] for x in out["1w_raw"]],
                    strict=True,
                )
            ),
        )
        self._memory("write", "7 service RSS under the write load (peak, per worker)")
        await self.dbs.drop(url)

    def _memory(self, kind: str, label: str) -> None:
        peaks = [v for k, vs in self.rss.items() if k.startswith(kind) for v in vs]
        if peaks:
            self.figure(
                f"memory.{kind}",
                label,
                "MB",
                [max(peaks)],
                target=150,
                higher_is_better=False,
                extra={k: [round(v, 1) for v in vs] for k, vs in self.rss.items() if k.startswith(kind)},
            )

    # 3 ------------------------------------------------------------------------------------------
    async def _bulk(self) -> None:
        missing = bulk.bulk_import_available()
        if missing:
            raise RuntimeError(missing)
        path, expected = bulk.export_file(42, self.events)
        runs: dict[str, list[dict[str, Any]]] = {"import": [], "copy": []}
        for r in range(self.repeats):
            check_stop()
            copy_url = await self.dbs.create("copy", migrated=False)
            runs["copy"].append(await bulk.copy_baseline(copy_url, path))
            await self.dbs.drop(copy_url)
            url = await self.dbs.create("import")
            res = await bulk.import_export(url, path, expected)
            runs["import"].append(res)
            log(
                f"bulk repeat {r + 1}: import {res['rate']:,.0f} events/s "
                f"(complete: {res['complete']}), COPY {runs['copy'][-1]['rate']:,.0f} rows/s"
            )
            if self.import_db:
                await self.dbs.drop(self.import_db)
            self.import_db = url  # the last one is rebuilt by the next benchmark
        self.runs["bulk"] = {**runs, "export": {"path": str(path), **expected}}
        complete = all(x["complete"] for x in runs["import"])
        self.figure(
            "bulk.import",
            f"3 bulk import of {expected['events']:,} events "
            f"({expected['cases']:,} cases), read models current",
            "events/s",
            [x["rate"] for x in runs["import"]],
            target=50_000,
            extra={"complete": complete, "counts": runs["import"][-1]["counts"]},
        )
        self.figure(
            "bulk.copy",
            "3 plain COPY of the same rows, 1,000-row batches, bare table",
            "rows/s",
            [x["rate"] for x in runs["copy"]],
            reference="100k",
        )
        self.ratio(
            "import/copy",
            "bulk import / plain COPY",
            "bulk.import",
            "bulk.copy",
            None,
            [(a["rate"], b["rate"]) for a, b in zip(runs["import"], runs["copy"], strict=True)],
        )
        if not complete:
            raise RuntimeError("the import did not accept every event: see results.json")

    # 4 ------------------------------------------------------------------------------------------
    async def _rebuild(self) -> None:
        missing = rebuild.rebuild_available()
        if missing:
            raise RuntimeError(missing)
        if self.import_db is None:
            missing_bulk = bulk.bulk_import_available()
            if missing_bulk:
                raise RuntimeError(f"rebuild needs the imported events: {missing_bulk}")
            path, expected = bulk.export_file(42, self.events)
            self.import_db = await self.dbs.create("import")
            await bulk.import_export(self.import_db, path, expected)
        runs = []
        baseline = await asyncio.to_thread(rebuild.run_child, "read", self.import_db)
        for r in range(self.repeats):
            check_stop()
            res = await asyncio.to_thread(rebuild.run_child, "rebuild", self.import_db)
            runs.append(res)
            log(f"rebuild repeat {r + 1}: {res['rate']:,.0f} events/s, peak RSS {res['peak_rss_mb']:.0f} MB")
        self.runs["rebuild"] = {"rebuild": runs, "read_baseline": baseline}
        n = runs[0]["events"]
        self.figure(
            "rebuild.rate",
            f"4 rebuild of both read models from {n:,} events",
            "events/s",
            [x["rate"] for x in runs],
            target=150_000,
        )
        self.figure(
            "rebuild.rss",
            "4 rebuild peak RSS (whole process, its VmHWM)",
            "MB",
            [x["peak_rss_mb"] for x in runs],
            target=300,
            higher_is_better=False,
        )
        self.figure(
            "read.cursor",
            "4 limit: cursor over every event in position order",
            "rows/s",
            [baseline["cursor_rows_per_s"]],
            reference="340k-390k",
        )
        self.figure(
            "read.streams",
            "4 limit: store.iter_all_streams (StoredEvents, case order)",
            "rows/s",
            [baseline["iter_all_streams_rows_per_s"]],
        )
        self.ratio(
            "rebuild/cursor",
            "rebuild / plain cursor read",
            "rebuild.rate",
            "read.cursor",
            None,
            [(x["rate"], baseline["cursor_rows_per_s"]) for x in runs],
        )
        await self.dbs.drop(self.import_db)
        self.import_db = None

    # 5 and 7 (reads) -----------------------------------------------------------------------------
    async def _reads(self) -> None:
        url = await self.dbs.create("reads")
        path, expected = bulk.export_file(43, self.read_cases, short=True)
        if bulk.bulk_import_available() is None:
            loaded = await bulk.import_export(url, path, expected)
            how = "bulk import"
        else:
            loaded = await bulk.load_cases_through_handler(url, path)
            how = "AppendHandler, one append per case"
        log(
            f"reads: loaded {expected['cases']:,} cases ({expected['events']:,} events) by {how} "
            f"at {loaded['rate']:,.0f} events/s"
        )
        mix = await reads.status_mix(url)
        case_ids = [f"bc-43-{i:07d}" for i in range(expected["cases"])]
        key = await make_key(url)
        out: dict[str, list[dict[str, Any]]] = {
            "clock_raw": [],
            "clock_httpx": [],
            "clock_2w": [],
            "worklist": [],
            "clock_raw_no_access_record": [],
        }
        for workers in (1, 2):
            server = Server(url, workers, f"server-reads-{workers}w")
            self.servers.append(server)
            server.start()
            # The access record's cost (issue 13): the same reads on a server without it,
            # alternating with the one above, repeat by repeat.
            bare = self._start(Server(url, 1, "server-reads-no-access", WITHOUT_ACCESS_RECORD), workers)
            try:
                for r in range(self.repeats):
                    check_stop()
                    for kind in ("raw", "httpx") if workers == 1 else ("raw",):
                        if bare is not None and kind == "raw" and r % 2 == 1:
                            await self._reads_without_access_record(bare, key, case_ids, r, out)
                        res = await reads.clock_reads(
                            server, key, case_ids, kind=kind, seconds=self.seconds, seed=r
                        )
                        out["clock_2w" if workers == 2 else f"clock_{kind}"].append(res)
                        log(
                            f"closure clock, {workers} worker(s), {kind}: "
                            f"{res['rate']:,.0f}/s p99 {res['p99_ms']:.1f} ms, {_cores(res['cpu'])}"
                        )
                        if bare is not None and kind == "raw" and r % 2 == 0:
                            await self._reads_without_access_record(bare, key, case_ids, r, out)
                    if workers == 1:
                        res = await reads.worklist(server, key, kind="raw", seconds=self.seconds)
                        out["worklist"].append(res)
                        log(f"worklist: {res['rate']:,.0f}/s p99 {res['p99_ms']:.1f} ms")
                self.rss[f"read_{workers}w"] = [v / MB for v in server.peak_rss.values()]
            finally:
                server.stop()
                if bare is not None:
                    bare.stop()
        self.runs["reads"] = {**out, "status_mix": mix, "loaded": loaded}
        if not await reads.access_records(url, since=None):
            raise RuntimeError("the service wrote no access record: the reads measured nothing of it")
        n = f"{expected['cases']:,}"
        for kind in ("raw", "httpx"):
            runs = out[f"clock_{kind}"]
            client = "raw keep-alive" if kind == "raw" else "httpx"
            self.figure(
                f"reads.clock.{kind}",
                f"5 closure-clock reads, 32 clients, {client} client, {n} cases",
                "requests/s",
                [x["rate"] for x in runs],
                target=3000,
                extra={"cpu": runs[-1]["cpu"]},
            )
            self.figure(
                f"reads.clock.{kind}.p99",
                f"5 closure-clock p99, 32 clients, {client} client",
                "ms",
                [x["p99_ms"] for x in runs],
                target=20,
                higher_is_better=False,
            )
        runs = out["clock_2w"]
        self.figure(
            "reads.clock.2w",
            f"5 closure-clock reads, 32 clients, 2 workers, raw keep-alive client, {n} cases",
            "requests/s",
            [x["rate"] for x in runs],
            target=3000,
            extra={"cpu": runs[-1]["cpu"]},
        )
        self.figure(
            "reads.clock.2w.p99",
            "5 closure-clock p99, 32 clients, 2 workers, raw client",
            "ms",
            [x["p99_ms"] for x in runs],
            target=20,
            higher_is_better=False,
        )
        self.ratio(
            "reads_2w/1w",
            "closure-clock reads: 2 workers / 1 worker (raw client)",
            "reads.clock.2w",
            "reads.clock.raw",
            None,
            list(zip([x["rate"] for x in runs], [x["rate"] for x in out["clock_raw"]], strict=True)),
        )
        self.figure(
            "reads.worklist.p99",
            f"5 worklist p99 over {n} cases, 4 clients, 100 rows/page",
            "ms",
            [x["p99_ms"] for x in out["worklist"]],
            target=50,
            higher_is_better=False,
            extra={
                "rate": [x["rate"] for x in out["worklist"]],
                "p50_ms": [x["p50_ms"] for x in out["worklist"]],
            },
        )
        self._memory("read", "7 service RSS under the read load (peak, per worker)")
        self._access_record_figures(out)
        await self.dbs.drop(url)

    def _start(self, server: Server, workers: int) -> Server | None:
        """The server without the access record: beside the one-worker server only."""
        if workers != 1:
            return None
        self.servers.append(server)
        return server.start()

    async def _reads_without_access_record(
        self, server: Server, key: str, case_ids: list[str], r: int, out: dict[str, Any]
    ) -> None:
        started = datetime.now(UTC)
        res = await reads.clock_reads(server, key, case_ids, kind="raw", seconds=self.seconds, seed=r)
        await asyncio.sleep(1.0)  # the other server's recorder writes every 0.5 s
        written = await reads.access_records(server.url, since=started)
        if written:
            raise RuntimeError(f"the server without the access record wrote {written} access records")
        out["clock_raw_no_access_record"].append(res)
        log(f"closure clock, 1 worker, raw, no access record: {res['rate']:,.0f}/s p99 {res['p99_ms']:.1f}")

    def _access_record_figures(self, out: dict[str, Any]) -> None:
        bare, kept = out["clock_raw_no_access_record"], out["clock_raw"]
        self.figure(
            "reads.clock.raw.no_access_record",
            "13.1 closure-clock reads, 32 clients, 1 worker, raw client, without the access record",
            "requests/s",
            [x["rate"] for x in bare],
            extra={"p99_ms": statistics.median(x["p99_ms"] for x in bare), "cpu": bare[-1]["cpu"]},
        )
        self.ratio(
            "access_record",
            "closure-clock reads with the access record / without",
            "reads.clock.raw",
            "reads.clock.raw.no_access_record",
            0.9,
            [(a["rate"], b["rate"]) for a, b in zip(kept, bare, strict=True)],
        )

    # 6 ------------------------------------------------------------------------------------------
    async def _replay(self) -> None:
        url = await self.dbs.create("replay")
        events = await replay.stored_case(url, 5)
        samples = 300 if self.args.quick else 3000
        runs = [replay.measure(events, samples) for _ in range(self.repeats)]
        self.runs["replay"] = runs
        self.figure(
            "replay.p50",
            "6 replay of a 50-event case as of a date, in process (p50)",
            "ms",
            [x["p50_ms"] for x in runs],
            target=1.0,
            higher_is_better=False,
            extra={k: runs[-1][k] for k in ("parse_p50_ms", "fold_p50_ms", "views_p50_ms", "p99_ms")},
        )
        peer_reads = self.runs.get("appends", {}).get("peer_reads")
        if peer_reads:
            self.figure(
                "peer.rebuild50",
                "6 peer: rebuild a 50-event aggregate, from memory (p50)",
                "ms",
                [peer_reads["rebuild50_memory_p50_ms"]],
                higher_is_better=False,
            )
            self.figure(
                "peer.rebuild50_db",
                "6 peer: repository.get of a 50-event aggregate (p50)",
                "ms",
                [peer_reads["rebuild50_db_p50_ms"]],
                higher_is_better=False,
                reference="1.6 ms",
            )
        await self.dbs.drop(url)
