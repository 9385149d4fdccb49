"""Findings: what an auditor should look at, as plain rows (no I/O).

An imported event that breaks a rule is kept as the fact it is; its refusal is
written into the event's own `metadata` under `FINDING_KEY` (rule, sentence,
dates), so the finding is stored in the same row and the same transaction as the
event, and is covered by the case's hash chain: it cannot be dropped later
without `verify` noticing. Only the importer sets it (its actor is `import:...`).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from app.domain.facts import Refusal

FINDING_KEY = "import_finding"
IMPORT_ACTOR_PREFIX = "import:"
_ISO_DAY = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def finding_of(data: dict[str, Any], refusal: Refusal) -> dict[str, Any]:
    """The finding an import attaches to a rule-breaking event: rule, sentence and dates
    (the event's own date fields, and the dates the sentence names)."""
    own = {k: v for k, v in data.items() if isinstance(v, str) and k.endswith(("_on", "_date"))}
    named = sorted(set(_ISO_DAY.findall(refusal.detail)))
    return {"rule": refusal.rule, "detail": refusal.detail, "dates": {**own, "named": named}}


def with_finding(item: Any, refusal: Refusal) -> Any:
    """`item` (a validated proposal) with its finding in its metadata."""
    metadata = {**item.metadata, FINDING_KEY: finding_of(item.data, refusal)}
    return replace(item, metadata=metadata)
