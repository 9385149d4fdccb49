"""Is the requested service a post-employment service? The policy's checklist, as decision support.

Backs POST /cases/{case_id}/post-employment-services/evaluate: it answers from
the case's clock state and records nothing. The policy (post-employment-
services.txt) asks, after an employment outcome, whether a needed service meets
the criteria of a post-employment service for its purpose (maintain, regain or
advance); if not, the counselor selects "Cancel EF" and provides it outside
Employment Follow-up; if so, an IPE amendment is needed when its category is not
already on the IPE. Every reason quotes the policy's own words.

Choices: `amendment_required` is only true for a service that qualifies (the
amendment the policy asks for is the post-employment one); maintain and advance
need a current job (the job to keep or advance in), regain compares the SOC code
with the employment outcome's job.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, StrictBool, model_validator

from app.domain.clock_as_of import clock_as_of
from app.domain.clock_state import (
    ClockState,
    current_jobs,
    in_employment_follow_up,
    ipe_categories,
    is_closed,
    last_ended_job,
    outcome_job,
)
from app.events.types import Category, SocCode

Purpose = Literal["maintain", "regain", "advance"]
Advancement = Literal["pay", "hours", "promotion", "benefits"]
Action = Literal["authorize_post_employment_service", "cancel_employment_follow_up", "open_new_case", "none"]

# The policy's words, quoted (post-employment-services.txt).
DEFINITION = (
    "One or more VR service(s) provided subsequent to the achievement of an employment outcome "
    "that are necessary for an individual to maintain, regain, or advance in employment."
)
NOT_A_PES = (
    "After employment outcome, if a client requires a service(s) that is 1) complex or "
    "comprehensive (substantial, require significant staff time, longer in duration, difficult "
    "to locate, or challenging to arrange or provide); OR 2) beyond the scope of the current job "
    "(employment outcome) it is not a post-employment service. In these cases, the client must "
    "be moved out of Employment Follow-up."
)
CANCEL_EF = (
    "If the service does not meet the criteria, move the client out of Employment Follow-Up by "
    "selecting the Cancel EF button and proceed with providing the service;"
)
CRITERIA = "Post-employment services do not require a complex and comprehensive provision of services"
CLOSED = "Post-employment services cannot be provided after a case is closed. There are no exceptions."
NEW_CASE = "If the client returns for services a new case will need to be opened."
FROM_OUTCOME = (
    "All services provided from employment outcome (date a client starts a job) until the case "
    "is closed are post-employment services."
)
MAINTAIN = "for assistance in keeping the same job"
REGAIN = "for assistance to get another job"
ADVANCE = "for assistance advancing in their job"
SAME_SOC = (
    "Is the client seeking employment in the same SOC code? If no, it is not a post-employment service."
)
SAME_PATHWAY = (
    "Is the advancement in the same Career Pathway and will it result in greater pay, more work "
    "hours, a promotion, and/or benefits? If no, it is not a post-employment service."
)
AMENDMENT_NOT_REQUIRED = (
    "If the post-employment service is in a category already on the IPE, an amendment is not required."
)
AMENDMENT_REQUIRED = (
    "Adding a service in a category that was not previously on the IPE as a post-employment "
    "service requires an amendment."
)
TIMELINE_STARTS_OVER = (
    "REMINDER: The 90 day timeline for case closure starts over once all authorized "
    "post-employment services are complete"
)
MAINTAIN_QUESTIONS = (
    "Did others, such as community providers, fulfill their responsibilities (comparable "
    "services and benefits)? Can they meet the client\u2019s needs?",
    "Is this a worksite modification (reasonable accommodation) that needs to include the "
    "employer? It is the employer's primary responsibility for changes to the worksite.",
    "If the request is for a personal device (standing wheelchair) can it be accomplished with "
    "a simple worksite accommodation (desktop printer)?",
)
REGAIN_QUESTIONS = (
    "What prevents the client from seeking employment on their own or working with a community resource?",
)
ADVANCE_QUESTIONS = (
    "What assistance, if any, is available from the employer?",
    "Are there other agencies/organizations who may assist in advancing the individual?",
)
AMENDMENT_STEPS = (
    "Complete an amendment if the post-employment category is not already on the IPE;",
    "Provide the client with a copy of the IPE Amendment, including the terms and conditions;",
    "Enter the IPE Amendment in QE2;",
)
TASK_NOTE = "Complete a task note justifying the post-employment service(s) being provided;"
_QUESTIONS = {
    "maintain": MAINTAIN_QUESTIONS,
    "regain": REGAIN_QUESTIONS,
    "advance": ADVANCE_QUESTIONS,
}
_PURPOSE = {"maintain": MAINTAIN, "regain": REGAIN, "advance": ADVANCE}


class PesRequest(BaseModel):
    """The counselor's answers to the checklist for one requested service (the HTTP body)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    purpose: Purpose
    service_category: Category
    complex_or_comprehensive: StrictBool
    beyond_current_job_scope: StrictBool
    new_job_soc_code: SocCode | None = None
    same_career_pathway: StrictBool | None = None
    advancement_brings: list[Advancement] = []

    @model_validator(mode="after")
    def _facts_of_the_purpose(self) -> PesRequest:
        """Each purpose has its own question; its answer is needed, other purposes' are not."""
        if self.purpose == "regain" and self.new_job_soc_code is None:
            raise ValueError("regain needs new_job_soc_code: the SOC code of the job sought")
        if self.purpose == "advance" and self.same_career_pathway is None:
            raise ValueError("advance needs same_career_pathway: is it the same Career Pathway?")
        if self.purpose != "regain" and self.new_job_soc_code is not None:
            raise ValueError("new_job_soc_code is a question of purpose regain only")
        if self.purpose != "advance" and (self.same_career_pathway is not None or self.advancement_brings):
            raise ValueError(
                "same_career_pathway and advancement_brings are questions of purpose advance only"
            )
        return self


class PesDecision(BaseModel):
    qualifies: bool
    amendment_required: bool
    action: Action
    reasons: list[str]
    considerations: list[str]


def evaluate_post_employment_service(
    request: PesRequest, state: ClockState, as_of: date | None = None
) -> PesDecision:
    """The checklist's answer for this case as it stands on `as_of` (business time: events
    dated later have not happened yet; None: every event folded); records nothing."""
    if as_of is not None:
        state = clock_as_of(state, as_of)
    if is_closed(state):
        return _decision(False, "open_new_case", [CLOSED, NEW_CASE])
    if not in_employment_follow_up(state):
        return _decision(False, "none", [FROM_OUTCOME, _why_not_in_follow_up(state)])
    questions = list(_QUESTIONS[request.purpose])
    no_job = _no_job_to_keep(request, state)
    if no_job:
        return _decision(False, "none", [_purpose_words(request), no_job], questions)
    failures = _criteria_failures(request) + _purpose_failures(request, state)
    if failures:
        return _decision(False, "cancel_employment_follow_up", [*failures, CANCEL_EF], questions)
    return _qualifying(request, state, questions)


def _decision(
    qualifies: bool, action: Action, reasons: list[str], considerations: list[str] | None = None
) -> PesDecision:
    return PesDecision(
        qualifies=qualifies,
        amendment_required=False,
        action=action,
        reasons=reasons,
        considerations=considerations or [],
    )


def _purpose_words(request: PesRequest) -> str:
    return f"{request.purpose.capitalize()}: {_PURPOSE[request.purpose]}."


def _why_not_in_follow_up(state: ClockState) -> str:
    if state.follow_up_cancelled is not None:
        return (
            f"This case is not in Employment Follow-up: it was cancelled on "
            f"{state.follow_up_cancelled.on} (Cancel EF), so services are provided outside "
            "Employment Follow-up until a new EmploymentStarted re-enters it."
        )
    return (
        "This case has no employment outcome yet (no EmploymentStarted), so no service is a "
        "post-employment service; provide it under the IPE."
    )


def _no_job_to_keep(request: PesRequest, state: ClockState) -> str | None:
    """Maintain and advance are about the current job; with none, only regain applies."""
    if request.purpose == "regain" or current_jobs(state):
        return None
    ended = last_ended_job(state)
    when = f"job {ended.job_id} ended on {ended.ended.on}" if ended and ended.ended else "no job"
    return (
        f"The client has no current job ({when}), so there is no job to {request.purpose}; "
        "assistance to get another job is a regain request."
    )


def _criteria_failures(request: PesRequest) -> list[str]:
    """Policy item 4: complex or comprehensive, or beyond the scope of the current job."""
    if request.complex_or_comprehensive or request.beyond_current_job_scope:
        return [NOT_A_PES]
    return []


def _purpose_failures(request: PesRequest, state: ClockState) -> list[str]:
    if request.purpose == "regain":
        job = outcome_job(state)
        if job is not None and job.soc_code != request.new_job_soc_code:
            return [
                f"{SAME_SOC} The job sought is in SOC {request.new_job_soc_code}; the "
                f"employment outcome (job {job.job_id}) is in SOC {job.soc_code}."
            ]
    if request.purpose == "advance":
        if not request.same_career_pathway:
            return [f"{SAME_PATHWAY} The advancement is not in the same Career Pathway."]
        if not request.advancement_brings:
            return [f"{SAME_PATHWAY} It brings none of greater pay, hours, a promotion or benefits."]
    return []


def _qualifying(request: PesRequest, state: ClockState, questions: list[str]) -> PesDecision:
    """A post-employment service: authorize it, after an IPE amendment if its category is new."""
    on_ipe = request.service_category in ipe_categories(state)
    amendment = (
        AMENDMENT_NOT_REQUIRED
        if on_ipe
        else f"{AMENDMENT_REQUIRED} {request.service_category} is not on the IPE."
    )
    steps = [] if on_ipe else list(AMENDMENT_STEPS)
    return PesDecision(
        qualifies=True,
        amendment_required=not on_ipe,
        action="authorize_post_employment_service",
        reasons=[
            DEFINITION,
            _purpose_words(request),
            CRITERIA + ".",
            amendment,
            TIMELINE_STARTS_OVER,
        ],
        considerations=[*questions, *steps, TASK_NOTE],
    )
