-- Every adopted policy version, in adoption order.
SELECT number, effective_from, closure_wait_days, milestone_rates, pba_cap_per_consumer,
       retention_years, adopted_at, adopted_by, previous_hash, hash
FROM policy_versions
ORDER BY number
