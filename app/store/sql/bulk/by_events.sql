-- Each case's weight counted from the log (a restored log has no case_state yet).
SELECT case_id, count(*) AS n FROM events GROUP BY case_id
