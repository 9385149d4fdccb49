"""The trust and confidentiality costs in the suite's one run: checkpoints (issue 12, item 6),
sealing (issue 13, item 2). The access record's cost (issue 13, item 1) is measured inside
the reads benchmark (`Suite._reads`), on the database it loads.

Each cost is a ratio of two sides measured in the same run, alternating, on the same
database: the table shows both sides and the ratio against the issue's target.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from bench import checkpoints, sealing
from bench.common import Databases, Figure


class TrustSteps:
    """Mixed into `bench.suite.Suite`: the steps `checkpoints` and `sealing`."""

    args: Any
    dbs: Databases
    repeats: int
    seconds: float
    events: int
    runs: dict[str, Any]
    import_db: str | None

    def figure(self, key: str, label: str, unit: str, repeats: list[float], **kw: Any) -> Figure:
        raise NotImplementedError

    def ratio(
        self, key: str, label: str, num: str, den: str, target: float | None, pairs: list[tuple[float, float]]
    ) -> None:
        raise NotImplementedError

    async def _checkpoints(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            appends = await checkpoints.appends_ratio(
                self.dbs,
                seconds=self.seconds,
                repeats=self.repeats,
                folder=Path(folder),
                cases_per_writer=10 if self.args.quick else 100,
            )
            verify = await checkpoints.verify_ratio(
                self.dbs, events=self.events, repeats=self.repeats, folder=Path(folder), url=self.import_db
            )
        self.runs["checkpoints"] = {"appends": appends, "verify": verify}
        self._checkpoint_appends(appends)
        self._checkpoint_verify(verify)

    def _checkpoint_appends(self, out: dict[str, Any]) -> None:
        label = "12.6 store append, 8 writers, existing cases"
        rates = {kind: [x["rate"] for x in out[kind]] for kind in ("without", "with")}
        self.figure("checkpoints.appends.without", f"{label}, no checkpoints", "events/s", rates["without"])
        self.figure(
            "checkpoints.appends.with",
            f"{label}, a checkpoint signed every second",
            "events/s",
            rates["with"],
            extra={k: out[k] for k in ("checkpoints_signed", "round_ms_median", "round_ms_max")},
        )
        self.ratio(
            "checkpoints_appends",
            "appends with a checkpoint every second / without",
            "checkpoints.appends.with",
            "checkpoints.appends.without",
            0.95,
            list(zip(rates["with"], rates["without"], strict=True)),
        )

    def _checkpoint_verify(self, out: dict[str, Any]) -> None:
        runs = out["runs"]
        n = runs[0]["verify"]["rows"]
        self.figure(
            "checkpoints.verify",
            f"12.6 verify --checkpoints (no read-model fold) over {n:,} events",
            "events/s",
            [x["verify"]["rate"] for x in runs],
            extra={"first_checkpoint_seconds": out["first_checkpoint_seconds"]},
        )
        self.figure(
            "checkpoints.cursor",
            "12.6 limit: plain cursor read of the same rows",
            "rows/s",
            [x["cursor"]["rate"] for x in runs],
        )
        self.figure(
            "checkpoints.cursor_held",
            "12.6 the same read with the garbage collector held back, as verify holds it",
            "rows/s",
            [x["cursor_held"]["rate"] for x in runs],
        )
        self.figure(
            "checkpoints.verify.rss",
            "12.6 verify --checkpoints peak RSS (verifier + hash workers, each its VmHWM)",
            "MB",
            [x["verify"]["peak_rss_mib"] for x in runs],
            target=300,
            higher_is_better=False,
            reference="cursor read: " + ", ".join(f"{x['cursor']['peak_rss_mib']:.0f}" for x in runs),
        )
        self.ratio(
            "verify/cursor",
            "verify --checkpoints / plain cursor read",
            "checkpoints.verify",
            "checkpoints.cursor",
            0.5,
            [(x["verify"]["rate"], x["cursor"]["rate"]) for x in runs],
        )
        self.ratio(
            "verify/cursor_held",
            "verify --checkpoints / the read with the collector held back",
            "checkpoints.verify",
            "checkpoints.cursor_held",
            None,
            [(x["verify"]["rate"], x["cursor_held"]["rate"]) for x in runs],
        )

    async def _sealing(self) -> None:
        out = await sealing.sealing_ratio(self.dbs, seconds=self.seconds, repeats=self.repeats)
        self.runs["sealing"] = out
        rates = {kind: [x["rate"] for x in out[kind]] for kind in ("clear", "sealed")}
        label = "13.2 store append, 8 writers, new cases, 2 of 3 events with personal values"
        self.figure("sealing.clear", f"{label}, stored clear", "events/s", rates["clear"])
        self.figure(
            "sealing.sealed",
            f"{label}, sealed per case",
            "events/s",
            rates["sealed"],
            extra={"data_keys": out["data_keys"], "cpu": out["sealed"][-1]["cpu"]},
        )
        self.ratio(
            "sealed/clear",
            "appends with personal values sealed / stored clear",
            "sealing.sealed",
            "sealing.clear",
            0.9,
            list(zip(rates["sealed"], rates["clear"], strict=True)),
        )
