-- One finding query under the list's filters ($1 from, $2 to, $3 provider_id; $4 today
-- and $5 days for the rules that need them; $6 one case, read by each rule's own WHERE
-- so that the case's index is used). The rows are one file of this folder.
WITH params AS (SELECT $1::date AS from_day, $2::date AS to_day, $3::text AS provider,
                       $4::date AS today, $5::int AS days, $6::text AS case_id)
SELECT f.* FROM params, LATERAL (
{rows}
) f
WHERE (params.from_day IS NULL OR f.on_day >= params.from_day)
  AND (params.to_day IS NULL OR f.on_day <= params.to_day)
  AND (params.provider IS NULL OR f.provider_id = params.provider)
