-- Adoptions (and the first start's seeding) take turns: each links to the last hash.
SELECT pg_advisory_xact_lock(hashtext('caseledger.policy_versions'))
