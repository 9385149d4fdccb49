"""The closure clock (contract section 3; policy: post-employment-services.txt, "90-Day Timeline").

Pure decider: `initial_clock_state`, `evolve_clock(state, fact)`,
`decide_clock(state, event, policy)`, `evaluate_clock(state, as_of, policy)`.
No I/O and no clock reads: the evaluation date always comes in as an argument.
The code is split by idea: `clock_state` (what is remembered), `clock_evolve`
(folding facts), `clock_view` (the clock start and status on a date) and
`clock_decide` (refusals). This module is the public surface.

Clock start rules (`ClockView.clock_start_rule`)
  a_employment_outcome              the start date of the job that put the case in EF
  b_authorization_not_paid_in_full  the end date of an authorization not paid in full
  c_authorization_paid_in_full      the payment date of the payment flagged paid in full
                                    (a cancelled authorization: its latest payment)
  m4_ended                          supported employment: the end of M4

Refusal rule ids (`Refusal.rule`)
  case_not_found                    any case event before CaseOpened (code case_not_found)
  case_already_opened               a second CaseOpened in the stream
                                    (these two are the case's: `case.decide_case` checks them
                                    before the clock and the ledger are asked)
  case_closed                       after CaseClosed: AuthorizationIssued, EmploymentStarted,
                                    EmploymentEnded, IPEAmended, EmploymentFollowUpCancelled,
                                    M4Ended, CaseClosed ("There are no exceptions")
  not_eligible_for_closure          a successful CaseClosed before the eligible date
  pes_category_not_on_ipe           a post-employment authorization whose category is not on
                                    the IPE ("requires an amendment")
  continuity_job_unknown            continuous_with_job_id names a job this case never had
  continuity_soc_mismatch           continuous_with_job_id names a job in another SOC code
  continuity_after_cancel_ef        a continuity claim after Cancel EF (no outcome date to keep)
  employment_already_current        EmploymentStarted for a job_id that is current
  employment_not_current            EmploymentEnded for a job that is not current
  employment_end_before_start       EmploymentEnded dated before the job started
  cancel_ef_not_in_employment_follow_up  Cancel EF with no outcome, or already cancelled
  authorization_already_issued      an AuthorizationIssued reusing an authorization_id
  authorization_unknown             paid, cancelled or named by M4Ended, but never issued
  authorization_cancelled           a payment of a cancelled authorization
  authorization_already_cancelled   a second cancellation
  authorization_paid_in_full        a cancellation of an authorization already paid in full
  m4_ended_not_supported_employment M4Ended on a case that is not supported employment

Choices where the contract is silent
- Payment of a cancelled authorization is refused (cancelling ends it; payments
  come first, or the cancellation is retracted); so is cancelling twice and
  cancelling one already paid in full (nothing is left to cancel). Payments
  after a payment flagged paid in full are accepted (adjustments); the latest
  paid-in-full payment counts.
- An ended job_id may start again (a rehire): it is a new outcome like any job.
- A continuity claim keeps the current outcome date; it is refused after
  Cancel EF, which ended that follow-up.
- For supported employment the outcome date is also a candidate (policy and
  3.4: a new job restarts the clock); see `clock_view.clock_start_candidates`.
- A job loss does not cancel Employment Follow-up: "regain" is a post-employment
  service, and Cancel EF stays possible while not employed.
- Only `post_employment: true` marks a post-employment authorization for 3.7.
  The policy's item 1 calls every service after the outcome post-employment;
  the contract's flag is how the case system states it, so the flag is trusted.
- A closed case keeps showing the clock it had (clock start, eligible date);
  `days_remaining` is None once closed.
- Blocking names only what holds: the fact(s) dated on the clock start, the
  time left, or why there is no clock; nothing once eligible.
"""

from app.domain.clock_decide import decide_clock
from app.domain.clock_evolve import evolve_clock
from app.domain.clock_state import ClockState, initial_clock_state, ipe_categories, is_closed
from app.domain.clock_view import (
    ClockFacts,
    ClockView,
    clock_facts,
    clock_on,
    evaluate_clock,
    status_on,
)

__all__ = [
    "ClockFacts",
    "ClockState",
    "ClockView",
    "clock_facts",
    "clock_on",
    "decide_clock",
    "evaluate_clock",
    "evolve_clock",
    "initial_clock_state",
    "ipe_categories",
    "is_closed",
    "status_on",
]
