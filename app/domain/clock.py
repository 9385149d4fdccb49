"""The closure clock (contract section 3; policy: post-employment-services.txt, "90-Day Timeline").

Pure decider: `initial_clock_state`, `evolve_clock(state, fact)`,
`decide_clock(state, event, policy)`, `evaluate_clock(state, as_of, policy)`, and
`clock_as_of(state, day)`: the state as the case stood on `day` (business time, see
`app.domain.business_time`), which every rule that names a date is judged on.
No I/O and no clock reads: the evaluation date always comes in as an argument.
The code is split by idea: `clock_state` (what is remembered), `clock_evolve`
(folding facts), `clock_view` (the clock start and status on a date),
`clock_decide` (refusals), and `clock_as_of` (the case as it stood on a date).
This module is the public surface.

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
                                    the IPE ("requires an amendment"); see "Post-employment"
  continuity_job_unknown            continuous_with_job_id names a job this case never had
  continuity_soc_mismatch           continuous_with_job_id names a job in another SOC code
  continuity_after_cancel_ef        a continuity claim after Cancel EF (no outcome date to keep)
  employment_already_current        EmploymentStarted for a job_id that is current
  employment_not_current            EmploymentEnded for a job that is not current
  employment_end_before_start       EmploymentEnded dated before the job started
  cancel_ef_not_in_employment_follow_up  Cancel EF with no outcome, or already cancelled
  authorization_already_issued      an AuthorizationIssued reusing an authorization_id
  authorization_unknown             paid, cancelled or named by M4Ended, but never issued
  payment_before_authorization_start  a payment dated before the authorization's start_date
  authorization_already_cancelled   a second cancellation
  authorization_paid_in_full        a cancellation of an authorization already paid in full
  m4_ended_not_supported_employment M4Ended on a case that is not supported employment

Choices where the contract is silent
- Payment of a cancelled authorization is accepted (a late invoice: payments
  naturally come after the service they pay for) and counts under (c) at its
  latest payment date (3.3). Refused: a payment on an authorization never issued,
  and one dated before the authorization's start_date. Cancelling twice and
  cancelling one already paid in full are refused (nothing is left to cancel).
  Payments after a payment flagged paid in full are accepted (adjustments); the
  latest paid-in-full payment counts.
- An ended job_id may start again (a rehire): it is a new outcome like any job.
- A continuity claim keeps the current outcome date; it is refused after
  Cancel EF, which ended that follow-up.
- For supported employment the outcome date is also a candidate (policy and
  3.4: a new job restarts the clock); see `clock_view.clock_start_candidates`.
- A job loss does not cancel Employment Follow-up: "regain" is a post-employment
  service, and Cancel EF stays possible while not employed.
- Post-employment (3.7, policy items 1 and 5; the policy wins over the flag): an
  authorization is a post-employment service when flagged `post_employment`, or
  when its service starts on or after the employment outcome in effect on its
  start date, in Employment Follow-up, before closure. A PBA milestone
  pre-authorization (the provider's payment for a phase, not a service on the
  IPE) and the supported-employment M4 authorization (the service whose end
  starts the SE clock) are never post-employment services.
  (`clock_decide.post_employment_reason`.)
- Business time: a successful closure is judged on the case as it stood on
  `closed_on`, a successful placement (4.6) on `reached_on`: events dated later
  had not happened yet (`clock_as_of`).
- A closed case keeps showing the clock it had (clock start, eligible date);
  `days_remaining` is None once closed.
- `blocking` names only what still blocks eligibility: the time left, or why
  there is no clock; nothing once eligible or closed. `explanation` names the
  fact(s) dated on the clock start that hold it (3.8), and why there is no clock.
"""

from app.domain.clock_as_of import clock_as_of, evaluate_clock, fold_log_as_of
from app.domain.clock_decide import decide_clock
from app.domain.clock_evolve import evolve_clock
from app.domain.clock_state import ClockState, initial_clock_state, ipe_categories, is_closed
from app.domain.clock_view import (
    ClockFacts,
    ClockView,
    clock_facts,
    clock_on,
    status_on,
)

__all__ = [
    "ClockFacts",
    "ClockState",
    "ClockView",
    "clock_as_of",
    "clock_facts",
    "clock_on",
    "decide_clock",
    "evaluate_clock",
    "evolve_clock",
    "fold_log_as_of",
    "initial_clock_state",
    "ipe_categories",
    "is_closed",
    "status_on",
]
