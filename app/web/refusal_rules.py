"""Every refusal rule id (`Refusal.rule`, the 409 problem's `rule`), for the OpenAPI document.

The domain names its rules where it refuses (`Refusal("rule_id", ...)` in `app/domain`)
and documents them in the docstrings of `app.domain.clock`, `app.domain.ledger` and
`app.domain.retention`; it
exposes no list of them, so the web layer keeps one here for clients.
`tests/architecture/test_contract_lists.py` fails when a rule in the domain is missing
here. (`server_error`, a rule that failed, is answered 500, so it is no refusal.)
"""

from __future__ import annotations

CASE_RULES = (
    "case_not_found",
    "case_already_opened",
    "case_opened_not_retractable",
    "retraction_of_retraction",
    "retraction_target_not_in_case",
    "already_retracted",
)
CLOCK_RULES = (
    "case_closed",
    "not_eligible_for_closure",
    "pes_category_not_on_ipe",
    "continuity_job_unknown",
    "continuity_soc_mismatch",
    "continuity_after_cancel_ef",
    "employment_already_current",
    "employment_not_current",
    "employment_end_before_start",
    "cancel_ef_not_in_employment_follow_up",
    "authorization_already_issued",
    "authorization_unknown",
    "authorization_cancelled",
    "authorization_already_cancelled",
    "authorization_paid_in_full",
    "payment_before_authorization_start",
    "m4_ended_not_supported_employment",
)
LEDGER_RULES = (
    "pba_id_already_used",
    "pba_not_open",
    "pba_ended_before_opened",
    "one_primary_provider",
    "authorization_id_already_issued",
    "milestone_already_earned",
    "milestone_authorization_wrong_provider",
    "milestone_before_pba_opened",
    "milestone_not_preauthorized",
    "milestone_out_of_order",
    "placement_plan_needs_face_to_face_meeting",
    "placement_plan_needs_three_signatures",
    "job_hire_from_other_service",
    "job_hire_not_individual_placement",
    "job_hire_provider_is_employer",
    "successful_placement_needs_eligible_clock",
    "successful_placement_needs_suitable_job",
)
RETENTION_RULES = (
    "case_records_destroyed",
    "legal_hold_not_in_force",
    "legal_hold_in_force",
    "retention_not_due",
    "retention_event_not_retractable",
)
RULE_IDS = (*CASE_RULES, *CLOCK_RULES, *LEDGER_RULES, *RETENTION_RULES)
