"""Performance-based agreement events (contract section 2, "Performance-based agreements")."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from app.events.types import CalendarDate, EventData, Flag, Identifier, Milestone

# The three parties must sign (a ledger rule says which is missing); others (an employer,
# a guardian) may sign too, so a signer is any short name, not only one of the three.
Signatory = Annotated[str, Field(min_length=1, max_length=64)]
PlacementType = Literal["individual", "enclave", "clustered", "scattered"]
JobSource = Literal["pba", "other_service", "ojt_or_try_out"]

_EVIDENCE: dict[str, tuple[str, ...]] = {
    "placement_plan_signed": ("signed_by", "face_to_face"),
    "job_hire": (
        "job_id",
        "first_paid_shift_on",
        "placement_type",
        "provider_is_employer",
        "job_source",
    ),
    "successful_placement": (),
}


class PBAOpened(EventData):
    TYPE = "PBAOpened"
    pba_id: Identifier
    provider_id: Identifier
    opened_on: CalendarDate


class PBAMilestoneReached(EventData):
    """A provider's milestone claim with its evidence.

    The schema checks that the evidence fields of the named milestone are all
    present and that no other milestone's evidence is mixed in; whether the
    evidence earns a payment (three signatures, face to face, placement type...)
    is a rule of the ledger, refused as `rule_violation` and kept as a refused claim.
    """

    TYPE = "PBAMilestoneReached"
    pba_id: Identifier
    milestone: Milestone
    reached_on: CalendarDate
    authorization_id: Identifier
    signed_by: list[Signatory] | None = None
    face_to_face: Flag | None = None
    job_id: Identifier | None = None
    first_paid_shift_on: CalendarDate | None = None
    placement_type: PlacementType | None = None
    provider_is_employer: Flag | None = None
    job_source: JobSource | None = None

    @model_validator(mode="after")
    def _evidence_of_this_milestone(self) -> PBAMilestoneReached:
        needed = _EVIDENCE[self.milestone]
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"{self.milestone} needs evidence fields: {', '.join(missing)}")
        foreign = [
            name
            for fields in _EVIDENCE.values()
            for name in fields
            if name not in needed and getattr(self, name) is not None
        ]
        if foreign:
            raise ValueError(f"fields {', '.join(foreign)} are not evidence of {self.milestone}")
        return self


class PBAEnded(EventData):
    TYPE = "PBAEnded"
    pba_id: Identifier
    ended_on: CalendarDate
    reason: Literal["significant_amendment", "completed", "withdrawn"]
