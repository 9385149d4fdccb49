"""Which fields identify or describe the person, in one place, each with the reason.

34 CFR 361.38 asks for safeguards on the personal information of a VR case; the
state's retention schedule asks that it be destroyed some years after closure.
The fields listed in `PERSONAL_FIELDS` are sealed with the case's data key
(`app.domain.sealing`) and read as destroyed once that key is gone. Everything
else is a fiscal or compliance record that the clock, the ledger and audits of
expenditure (2 CFR 200.334) keep needing after destruction, so it stays clear:
`CLEAR_FIELDS` says why for each field name (or `Type.field` where a name is free
text elsewhere), and a unit test checks that every
field of every event type is named in exactly one of the two tables.

Metadata: `actor`, `source`, `correlation_id` and `causation_id` are operational
(who wrote it, from which system, in which exchange), and so is `import_finding`
(the importer's own finding on a refused line: a rule id, a sentence of dates and
ids, the dates; the findings report reads it, for the importer's actor only); any
other metadata key is the client's free text (notes, comments) and is sealed
whatever its name.

Moving a field from clear to personal later seals new events only: events already
stored keep their clear form (the hash chain covers them as written).
"""

from __future__ import annotations

from collections.abc import Mapping

_FREE_TEXT = (
    "free text a counselor or a case system writes about the person's situation; it can "
    "name the person, an employer, a health condition or a family matter"
)

PERSONAL_FIELDS: Mapping[str, Mapping[str, str]] = {
    "EmploymentStarted": {
        "employer": (
            "names where the person works: with the start date and the wage it identifies "
            "the person to anyone who knows the workplace"
        ),
        "career_pathway": (
            "the person's vocational goal as the counselor wrote it (free text); no rule reads it"
        ),
    },
    "EmploymentEnded": {"reason": f"why the person's job ended: {_FREE_TEXT}"},
    "EmploymentFollowUpCancelled": {"reason": f"why follow-up was cancelled: {_FREE_TEXT}"},
    "CaseClosed": {"reason": f"why the case closed: {_FREE_TEXT}"},
    "EventRetracted": {"reason": f"why an event was wrong: {_FREE_TEXT} (often quoting the mistaken value)"},
    "LegalHoldPlaced": {"reason": f"the hold's ground, often naming a claim or dispute: {_FREE_TEXT}"},
    "LegalHoldLifted": {"reason": f"why the hold ended: {_FREE_TEXT}"},
}

OPERATIONAL_METADATA_KEYS: frozenset[str] = frozenset(
    {"actor", "source", "correlation_id", "causation_id", "import_finding"}
)

_DATE = (
    "business date: the closure clock (contract 3.1-3.5) and the ledger's prices (4.1) are "
    "computed from it, and it dates a fiscal record that outlives the personal data"
)
_ID = (
    "identifier that links events of the case (rules 3.4, 4.2, 4.6 follow it); integrators "
    "must not build ids from names (docs/privacy.md)"
)
_FLAG = "yes/no fact a rule decides on (case type, temporary job, paid in full, evidence)"
_MONEY = "money of an authorization or payment: the fiscal record itself"
_VOCABULARY = "a value of a closed list the contract fixes; a rule or the ledger reads it"
_CATEGORY = (
    "the agency's service category: rule 3.7 compares it with the IPE and authorizations are "
    "paid by it; agencies should use neutral category codes, not diagnoses (docs/privacy.md)"
)

CLEAR_FIELDS: Mapping[str, str] = {
    **dict.fromkeys(
        (
            "opened_on",
            "amended_on",
            "issued_on",
            "start_date",
            "end_date",
            "cancelled_on",
            "closed_on",
            "payment_date",
            "reached_on",
            "first_paid_shift_on",
            "ended_on",
            "placed_on",
            "lifted_on",
            "destroyed_on",
        ),
        _DATE,
    ),
    **dict.fromkeys(
        (
            "job_id",
            "accepts_job_id",
            "continuous_with_job_id",
            "authorization_id",
            "pba_id",
            "retracted_event_id",
        ),
        _ID,
    ),
    "provider_id": "the payee of the PBA's payments: a fiscal record, and the provider role's scope",
    **dict.fromkeys(
        (
            "supported_employment",
            "temporary",
            "post_employment",
            "m4",
            "paid_in_full",
            "face_to_face",
            "provider_is_employer",
        ),
        _FLAG,
    ),
    "amount": _MONEY,
    "hourly_wage": (
        "the outcome's wage: federal performance reporting (RSA-911) and audits of the "
        "successful placement ask for it; without the employer or the person it identifies no one"
    ),
    "hours_per_week": "the outcome's hours: reported with the wage (RSA-911), same reasoning",
    "soc_code": (
        "occupation class (one of some 800 SOC codes): rule 3.4 compares two jobs' codes, and it "
        "is reported with the outcome (RSA-911)"
    ),
    **dict.fromkeys(("ipe_service_categories", "service_categories_added", "service_category"), _CATEGORY),
    **dict.fromkeys(("outcome", "milestone", "placement_type", "job_source"), _VOCABULARY),
    "signed_by": "which roles signed the placement plan (consumer, provider, vr_staff), never names",
    # A name that is free text elsewhere is cleared for one event type only.
    "PBAEnded.reason": (
        "significant_amendment, completed or withdrawn: a closed list the ledger reads (4.3), "
        "unlike every free-text reason"
    ),
    "rule": "CaseRecordsDestroyed: the retention rule applied, an audit record of the destruction",
    "period_years": "CaseRecordsDestroyed: the retention period applied (years after closure)",
}


def personal_fields(event_type: str) -> Mapping[str, str]:
    """The personal data fields of an event type (field name -> why); empty when it has none."""
    return PERSONAL_FIELDS.get(event_type, {})


def why_clear(event_type: str, name: str) -> str | None:
    """Why a data field stays clear, or None when `CLEAR_FIELDS` does not clear it."""
    return CLEAR_FIELDS.get(f"{event_type}.{name}") or CLEAR_FIELDS.get(name)


def is_personal_metadata_key(key: str) -> bool:
    """A metadata key other than the operational ones holds the client's free text."""
    return key not in OPERATIONAL_METADATA_KEYS


def field_path(section: str, name: str) -> str:
    """Where a value sits in the event ("data.employer", "metadata.note"); sealing binds it."""
    return f"{section}.{name}"
