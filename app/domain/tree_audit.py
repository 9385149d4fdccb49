"""Do the stored events still produce the signed tree? And if not, what happened to them?

Two streams in one merge, both in tree order: the leaves the tree recorded (`stored`:
leaf_index, kind, subject, version, digest, position) and the events as they are now
(`events`: every envelope column, each with its predecessor's stored hash).
Each event's hash is recomputed from its content, never taken from its hash column, and
its leaf is built from that. Two trees are walked at once: the recorded leaves (`recorded`)
and the leaves the events give now (`derived`, the recorded policy leaves in their places);
while the two sequences agree they share one walk, so an untouched log is hashed once.
Where the two disagree, the merge by feed position names the change:

- same position, same case and version, another digest: `case_rewritten` (or
  `event_edited` when the stored hash does not even match the content);
- a recorded leaf whose event is gone: `event_deleted` (the caller tells a deleted tail
  or case from the rows left; see `deletions`);
- an event below the tree's last position that the tree never had: `event_inserted`;
- another event at a recorded position: `events_reordered`.

Whether the roots match the signed checkpoints is the verdict; these names explain it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.domain.audit_rows import Row, matching_run, named_event, named_leaf, same_leaf, stored_leaf_hash
from app.domain.merkle import leaf_hash
from app.domain.merkle_leaves import event_leaf
from app.domain.merkle_walk import TreeWalk


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    case_id: str
    version: int
    detail: str

    def text(self) -> str:
        return f"{self.code}: case {self.case_id} version {self.version}: {self.detail}"


class TreeAudit:
    """Feed both streams in batches (`add_stored`, `add_events`), `drain` between fetches."""

    def __init__(self, walk: TreeWalk, tree_last_position: int) -> None:
        # The recorded leaves and the events' leaves share one walk until they differ.
        self.recorded = self.derived = walk
        self.tree_last_position = tree_last_position
        self.findings: list[Finding] = []
        self.deletions: dict[str, list[int]] = {}  # case_id -> versions whose events are gone
        self.events = 0
        # Both streams are lists consumed from an index (cheaper than a deque per row).
        self._stored: Sequence[Sequence[Any]] = ()
        self._next_stored = 0
        self._events: Sequence[Sequence[Any]] = ()
        self._hashes: Sequence[str | None] = ()  # each event's recomputed hash, None: no predecessor
        self._next_event = 0
        self._to_recorded: list[bytes] = []  # leaf hashes not fed yet (all of them while shared)
        self._to_derived: list[bytes] = []
        self.stored_done = self.events_done = False

    @property
    def shared(self) -> bool:
        return self.recorded is self.derived

    def add_stored(self, rows: Sequence[Sequence[Any]]) -> None:
        assert not self._stored_left
        self._stored, self._next_stored = rows, 0

    def add_events(self, rows: Sequence[Sequence[Any]], hashes: Sequence[str | None]) -> None:
        """`hashes`: `audit_rows.recomputed_hashes` of `rows` (or the hash workers')."""
        assert not self._events_left and len(rows) == len(hashes)
        self._events, self._hashes, self._next_event = rows, hashes, 0

    @property
    def _stored_left(self) -> int:
        return len(self._stored) - self._next_stored

    @property
    def _events_left(self) -> int:
        return len(self._events) - self._next_event

    @property
    def wants_stored(self) -> bool:
        return not self._stored_left and not self.stored_done

    @property
    def wants_events(self) -> bool:
        return not self._events_left and not self.events_done

    @property
    def finished(self) -> bool:
        return self.stored_done and self.events_done and not self._stored_left and not self._events_left

    def drain(self) -> None:
        """Merge until one stream needs its next batch (or both are over)."""
        while True:
            if self.shared:
                self._take_matching_run()
            stored_left, events_left = self._stored_left, self._events_left
            if not (stored_left or self.stored_done) or not (events_left or self.events_done):
                break
            if not stored_left and not events_left:
                break
            self._step()
        self._flush()

    def _take_matching_run(self) -> None:
        """The untouched case, in bulk (`matching_run`)."""
        taken = matching_run(
            self._stored, self._next_stored, self._events, self._next_event, self._hashes, self._to_recorded
        )
        self._next_stored += taken
        self._next_event += taken
        self.events += taken

    def _step(self) -> None:
        """One row by the general rules: whatever the matching run stopped at."""
        stored = self._stored[self._next_stored] if self._stored_left else None
        event = self._events[self._next_event] if self._events_left else None
        if stored is None or (event is not None and event[0] <= stored[5]):
            assert event is not None
            same_place = stored is not None and stored[1] == "event" and stored[5] == event[0]
            current = self._hashes[self._next_event]
            self._next_event += 1
            if same_place:
                self._next_stored += 1
            self._take_event(named_event(event), current, named_leaf(stored) if same_place else None)
        else:
            self._next_stored += 1
            self._take_stored(named_leaf(stored))

    def _flush(self) -> None:
        self.recorded.feed(self._to_recorded)
        self._to_recorded = []
        if not self.shared:
            self.derived.feed(self._to_derived)
            self._to_derived = []

    def _part(self) -> None:
        """The two leaf sequences differ from here on: give each its own walk."""
        if self.shared:
            self._flush()
            self.derived = self.recorded.fork()

    def _take_event(self, event: Row, current: str | None, recorded: Row | None) -> None:
        self.events += 1
        if current is None:
            self._add("event_missing_before", event, "the version before it is missing")
            current = event["hash"]
        elif current != event["hash"]:
            self._add("event_edited", event, "its content no longer gives its stored hash")
        hashed = leaf_hash(event_leaf(event["case_id"], event["version"], current))
        if recorded is not None and same_leaf(recorded, event, current):
            self._to_recorded.append(hashed)
            if not self.shared:
                self._to_derived.append(hashed)
            return
        self._part()
        self._to_derived.append(hashed)
        if recorded is None:
            if event["position"] <= self.tree_last_position:
                self._add("event_inserted", event, f"at position {event['position']}, never in the tree")
            return
        self._to_recorded.append(stored_leaf_hash(recorded))
        if (recorded["subject"], recorded["version"]) != (event["case_id"], event["version"]):
            where = f"case {recorded['subject']} version {recorded['version']}"
            self._add(
                "events_reordered", event, f"at position {event['position']}, where the tree has {where}"
            )
        elif current == event["hash"]:
            self._add("case_rewritten", event, "its content changed and its hashes were recomputed")

    def _take_stored(self, stored: Row) -> None:
        hashed = stored_leaf_hash(stored)
        if stored["kind"] == "policy":
            self._to_recorded.append(hashed)
            if not self.shared:
                self._to_derived.append(hashed)
            return
        self._part()
        self._to_recorded.append(hashed)
        self.deletions.setdefault(stored["subject"], []).append(stored["version"])

    def _add(self, code: str, event: Row, detail: str) -> None:
        self.findings.append(Finding(code, event["case_id"], event["version"], detail))


def deletion_findings(deletions: dict[str, list[int]], remaining: Mapping[str, int]) -> list[Finding]:
    """Name each deleted run: a whole case, a case's tail, or events in its middle."""
    findings = []
    for case_id, versions in sorted(deletions.items()):
        last = remaining.get(case_id)
        first = min(versions)
        if last is None:
            findings.append(Finding("case_deleted", case_id, first, f"all {len(versions)} events are gone"))
        elif first > last:
            findings.append(
                Finding("tail_deleted", case_id, first, f"versions {first}..{max(versions)} are gone")
            )
        else:
            findings.append(Finding("event_deleted", case_id, first, f"versions {sorted(versions)} are gone"))
    return findings
