-- The stored clock of a case and its version, in one indexed read. Nothing else: a
-- subquery here, even one never run, opened `events` and its index on every read
-- (about 30 µs of PostgreSQL a read). For an as_of ($2) before the case's latest business
-- date the row cannot answer; then what re-folds it comes along (a column of the row
-- already joined, sent only then): a snapshot at the row's version sends only its clock's
-- log (the facts to re-fold, a third of the snapshot), an older one the whole snapshot (the
-- service folds the events after it onto it); else the service reads the stream.
SELECT s.version, c.phase, c.clock_start, c.eligible_on, c.explanation,
       s.state_version, s.fold_version,
       CASE WHEN $2::date < (c.explanation ->> 'latest_on')::date AND s.state_version = s.version
            THEN s.state -> 'clock' -> 'log' END AS clock_log,
       CASE WHEN $2::date < (c.explanation ->> 'latest_on')::date AND s.state_version < s.version
            THEN s.state END AS state
  FROM case_state AS s
  JOIN closure_clock AS c ON c.case_id = s.case_id
 WHERE s.case_id = $1
