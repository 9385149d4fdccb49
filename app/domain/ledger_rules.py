"""Whether a PBA event, or a milestone's pre-authorization, may be recorded (contract 4.2-4.6).

Where the contract and the policy text (performance-based-agreements.txt) disagree,
the policy text wins:
- 4.3: the contract lets a new PBA earn the initial milestones again "after PBAEnded
  with significant_amendment". The policy pays each milestone "once per provider, per
  open PBA"; its FAQ gives a significant amendment as the reason to end a PBA and start
  a new one, but the payment rule itself is per open PBA. So a new PBA opened after
  any PBAEnded (completed, withdrawn, significant_amendment) earns them again.
- 4.5: the contract records "a second job_hire on the same PBA" at 0.00. The policy:
  "If the consumer loses his or her job prior to the completion of the PBA, the consumer
  is re-placed by the provider with no additional payment." So the 0.00 re-placement
  needs the earlier hire's job to have ended (EmploymentEnded); a second job_hire while
  that job is current is a milestone already earned, and is refused.
"""

from __future__ import annotations

from app.domain.facts import Refusal
from app.domain.ledger_evidence import ClockOn, claim_words, evidence_refusal
from app.domain.ledger_state import Authorization, Claim, LedgerState, Pba, open_pba_id
from app.domain.policy import PolicyTable
from app.events import AuthorizationIssued, EventData, PBAEnded, PBAMilestoneReached, PBAOpened
from app.events.types import MILESTONE_ORDER


def decide_ledger(
    state: LedgerState, event: EventData, *, clock_on: ClockOn, policy: PolicyTable
) -> Refusal | None:
    """The ledger's refusal of `event`, or None when the ledger has nothing against it.

    `policy` is not consulted: no refusal depends on a price (a claim past the cap is
    accepted and earns only the cap left, see `ledger_view`); it is in the signature so
    that a priced rule can be added without changing every caller.
    """
    match event:
        case PBAOpened():
            return _pba_opened(state, event)
        case PBAEnded():
            return _pba_ended(state, event)
        case PBAMilestoneReached():
            return _milestone(state, event, clock_on)
        case AuthorizationIssued():
            return _milestone_authorization(state, event)
        case _:
            return None


def _not_open(pba_id: str, pba: Pba | None, what: str) -> Refusal:
    reason = (
        "no PBAOpened of this case names it"
        if pba is None
        else f"it ended on {pba.ended_on}, reason {pba.end_reason}"
    )
    return Refusal("pba_not_open", f"{what} cannot be recorded: PBA {pba_id} is not open ({reason}).")


def _pba_opened(state: LedgerState, e: PBAOpened) -> Refusal | None:
    """4.3: one primary provider, so at most one open PBA per case; a pba_id names one PBA."""
    earlier = state.pbas.get(e.pba_id)
    if earlier is not None:
        return Refusal(
            "pba_id_already_used",
            f"PBA {e.pba_id} was already opened on {earlier.opened_on} for provider "
            f"{earlier.provider_id}; a new PBA needs a pba_id of its own.",
        )
    current = open_pba_id(state)
    if current is None:
        return None
    pba = state.pbas[current]
    return Refusal(
        "one_primary_provider",
        f"PBA {e.pba_id} of provider {e.provider_id} cannot open on {e.opened_on} while PBA "
        f"{pba.pba_id} of provider {pba.provider_id}, opened on {pba.opened_on}, is open: "
        "milestones are paid to one primary provider, so end that PBA first.",
    )


def _pba_ended(state: LedgerState, e: PBAEnded) -> Refusal | None:
    pba = state.pbas.get(e.pba_id)
    if pba is None or not pba.is_open:
        return _not_open(e.pba_id, pba, f"PBAEnded on {e.ended_on}")
    if e.ended_on < pba.opened_on:
        return Refusal(
            "pba_ended_before_opened",
            f"PBA {e.pba_id} cannot end on {e.ended_on}, before it opened on {pba.opened_on}.",
        )
    return None


def _milestone(state: LedgerState, claim: PBAMilestoneReached, clock_on: ClockOn) -> Refusal | None:
    pba = state.pbas.get(claim.pba_id)
    if pba is None or not pba.is_open:
        return _not_open(claim.pba_id, pba, claim_words(claim))
    return (
        _after_opening(pba, claim)
        or _once_per_open_pba(state, pba, claim)
        or _in_order(pba, claim)
        or _preauthorized(state.authorizations.get(claim.authorization_id), pba, claim)
        or evidence_refusal(state, claim, clock_on)
    )


def _after_opening(pba: Pba, claim: PBAMilestoneReached) -> Refusal | None:
    if claim.reached_on >= pba.opened_on:
        return None
    return Refusal(
        "milestone_before_pba_opened",
        f"{claim_words(claim)} is dated before the PBA opened on {pba.opened_on}.",
    )


def _once_per_open_pba(state: LedgerState, pba: Pba, claim: PBAMilestoneReached) -> Refusal | None:
    """4.2 paid "once per provider, per open PBA"; 4.5 a job_hire after a job loss re-places."""
    earlier = pba.earned(claim.milestone)
    if earlier is None:
        return None
    earned = f"{claim_words(claim)} was already earned on {earlier.reached_on} (event {earlier.event_id})"
    if claim.milestone != "job_hire":
        return Refusal(
            "milestone_already_earned",
            f"{earned}: each milestone is paid once per provider, per open PBA.",
        )
    held = _hire_still_held(state, pba)
    if held is None:
        return None  # re-placed by the provider with no additional payment: recorded at 0.00
    return Refusal(
        "milestone_already_earned",
        f"{earned} and job {held.job_id}, hired on {held.reached_on}, has not ended: only a "
        "consumer who loses the job is re-placed by the provider, with no additional payment.",
    )


def _hire_still_held(state: LedgerState, pba: Pba) -> Claim | None:
    """The first job_hire of the PBA whose job has no EmploymentEnded."""
    for hire in pba.claims_of("job_hire"):
        job = state.jobs.get(hire.job_id or "")
        if job is None or job.ended_on is None:
            return hire
    return None


def _in_order(pba: Pba, claim: PBAMilestoneReached) -> Refusal | None:
    """4.2: plan, then job hire, then successful placement, each dated on or after the last."""
    index = MILESTONE_ORDER.index(claim.milestone)
    if index == 0:
        return None
    before = MILESTONE_ORDER[index - 1]
    previous = pba.claims_of(before)
    if not previous:
        why = f"needs the {before} milestone first"
    elif claim.reached_on < (last := previous[-1]).reached_on:
        why = f"is dated before the {before} reached on {last.reached_on} (event {last.event_id})"
    else:
        return None
    return Refusal(
        "milestone_out_of_order",
        f"{claim_words(claim)} {why}: milestones are earned in order "
        "placement_plan_signed, job_hire, successful_placement.",
    )


def _preauthorized(auth: Authorization | None, pba: Pba, claim: PBAMilestoneReached) -> Refusal | None:
    """4.2: "Each milestone will be pre-authorized by Vocational Rehabilitation Services staff"."""
    gap = _preauthorization_gap(auth, pba, claim)
    if gap is None:
        return None
    return Refusal(
        "milestone_not_preauthorized",
        f"{claim_words(claim)} is not pre-authorized: authorization {claim.authorization_id} {gap}.",
    )


def _preauthorization_gap(auth: Authorization | None, pba: Pba, claim: PBAMilestoneReached) -> str | None:
    """Which part of "an AuthorizationIssued of the same provider for that PBA and milestone"
    fails, in the order a VR staff member would check it."""
    if auth is None:
        return "names no AuthorizationIssued of this case"
    if auth.cancelled_on is not None:
        return f"was cancelled on {auth.cancelled_on}"
    if auth.provider_id != pba.provider_id:
        return (
            f"is issued to provider {auth.provider_id}, "
            f"not to {pba.provider_id}, the provider of PBA {pba.pba_id}"
        )
    if auth.pba_id is None or auth.milestone is None:
        return "pre-authorizes no PBA milestone (it has no pba_id and milestone)"
    if auth.pba_id != pba.pba_id:
        return f"is for PBA {auth.pba_id}, not PBA {pba.pba_id}"
    if auth.milestone != claim.milestone:
        return f"pre-authorizes {auth.milestone}, not {claim.milestone}"
    return None


def _milestone_authorization(state: LedgerState, e: AuthorizationIssued) -> Refusal | None:
    """A milestone's pre-authorization must be unambiguous and name a PBA of the same provider.

    One naming a PBA not yet opened is accepted: VR staff may issue it first, and the
    claim is checked against it when the provider claims the milestone.
    """
    existing = state.authorizations.get(e.authorization_id)
    if existing is not None and (existing.pba_id is not None or e.pba_id is not None):
        return Refusal(
            "authorization_id_already_issued",
            f"authorization {e.authorization_id} was already issued to provider "
            f"{existing.provider_id}; a milestone's pre-authorization needs an authorization_id "
            "of its own.",
        )
    pba = state.pbas.get(e.pba_id) if e.pba_id is not None else None
    if pba is None:
        return None
    what = f"authorization {e.authorization_id} pre-authorizing {e.milestone}"
    if not pba.is_open:
        return _not_open(pba.pba_id, pba, what)
    if e.provider_id != pba.provider_id:
        return Refusal(
            "milestone_authorization_wrong_provider",
            f"{what} is issued to provider {e.provider_id}, but PBA {pba.pba_id} is provider "
            f"{pba.provider_id}'s: milestones are paid to the PBA's one primary provider.",
        )
    return None
