"""Whether a milestone claim's evidence earns a payment (contract 4.4 and 4.6).

Each rule id and sentence uses the policy's own words (performance-based-agreements.txt)
so a reader who searches the policy phrase finds the rule, and a provider reading a
refusal learns the reason the agency gives, not only that it said no.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from app.domain.facts import Refusal
from app.domain.ledger_state import Job, LedgerState
from app.events import PBAMilestoneReached

ClockOn = Callable[[date], tuple[str, date | None]]

SIGNATORIES = ("consumer", "provider", "vr_staff")
SINGLE_SITE = "individual"


def claim_words(claim: PBAMilestoneReached) -> str:
    """How every ledger refusal names the claim: PBA, milestone and date."""
    return f"PBA {claim.pba_id}'s {claim.milestone} reached on {claim.reached_on}"


def evidence_refusal(state: LedgerState, claim: PBAMilestoneReached, clock_on: ClockOn) -> Refusal | None:
    """The evidence rules of the claimed milestone, in the order the policy states them."""
    if claim.milestone == "placement_plan_signed":
        return _placement_plan(claim)
    if claim.milestone == "job_hire":
        return _job_hire(claim)
    return _eligible_clock(claim, clock_on) or _suitable_job(state, claim)


def _placement_plan(claim: PBAMilestoneReached) -> Refusal | None:
    """4.4: "The plan must be signed by all three parties" at "a face-to-face meeting"."""
    missing = [s for s in SIGNATORIES if s not in (claim.signed_by or ())]
    if missing:
        return Refusal(
            "placement_plan_needs_three_signatures",
            f"{claim_words(claim)} lacks the signature of {' and '.join(missing)}: the Placement "
            "and Retention Plan must be signed by all three parties: consumer, provider, vr_staff.",
        )
    if not claim.face_to_face:
        return Refusal(
            "placement_plan_needs_face_to_face_meeting",
            f"{claim_words(claim)} was not signed at a face-to-face meeting: the plan is developed "
            "at a face-to-face meeting of the consumer, the provider and the VR staff member.",
        )
    return None


def _job_hire(claim: PBAMilestoneReached) -> Refusal | None:
    """4.4: the three FAQ answers that say no job hire milestone is paid."""
    job = f"{claim_words(claim)} for job {claim.job_id}"
    if claim.provider_is_employer:
        return Refusal(
            "job_hire_provider_is_employer",
            f"{job} cannot be paid because the provider is the employer: that is a conflict of "
            "interest between the service provider role and the employer role.",
        )
    if claim.placement_type != SINGLE_SITE:
        return Refusal(
            "job_hire_not_individual_placement",
            f"{job} has placement_type {claim.placement_type}: a PBA is to be used for single site "
            "jobs, so an enclave, clustered or scattered placement does not meet the job hire "
            "milestone.",
        )
    if claim.job_source == "other_service":
        return Refusal(
            "job_hire_from_other_service",
            f"{job} came from another service: if a job offer results from another service, no "
            "job hire milestone should be paid (on-the-job training or a job try-out qualifies).",
        )
    return None


def _eligible_clock(claim: PBAMilestoneReached, clock_on: ClockOn) -> Refusal | None:
    """4.6: the successful placement follows the closure clock's 90 days by definition."""
    status, eligible_on = clock_on(claim.reached_on)
    if status == "eligible":
        return None
    when = f"it becomes eligible on {eligible_on}" if eligible_on else "no eligible date is known yet"
    return Refusal(
        "successful_placement_needs_eligible_clock",
        f"{claim_words(claim)} needs the closure clock to be eligible on {claim.reached_on}, "
        f"but it is {status} then and {when}.",
    )


def _suitable_job(state: LedgerState, claim: PBAMilestoneReached) -> Refusal | None:
    """4.6: a current job that is not temporary, or one a later IPE amendment accepts."""
    # By start date, not dict order: the refusal reads the same from a snapshot as from a fold.
    jobs = sorted(state.jobs.values(), key=lambda j: (j.start_date, j.job_id))
    current = [j for j in jobs if j.current_on(claim.reached_on)]
    if any(_suitable(j) for j in current):
        return None
    if not current:
        why = f"there is no current job on {claim.reached_on}"
    else:
        jobs = ", ".join(f"{j.job_id} (started {j.start_date})" for j in current)
        one = len(current) == 1
        why = (
            f"{'job' if one else 'jobs'} {jobs} {'is' if one else 'are'} temporary and no IPE "
            "amendment recorded after the job started accepts it as suitable (accepts_job_id)"
        )
    return Refusal(
        "successful_placement_needs_suitable_job",
        f"{claim_words(claim)} needs a current job that is not temporary: {why}.",
    )


def _suitable(job: Job) -> bool:
    return not job.temporary or job.accepted_on is not None
