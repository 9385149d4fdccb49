-- The cheap check a service process makes every few seconds: has anyone adopted since?
SELECT number, hash FROM policy_versions ORDER BY number DESC LIMIT 1
