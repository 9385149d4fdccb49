-- Closure-clock rows in a case_id range whose clock start lies in [$3, $4): the eligible
-- date of exactly those depends on the policy version an adoption puts in force there.
SELECT case_id, phase, clock_start, eligible_on
FROM closure_clock
WHERE case_id > $1 AND case_id <= $2 AND clock_start >= $3 AND clock_start < $4
ORDER BY case_id
