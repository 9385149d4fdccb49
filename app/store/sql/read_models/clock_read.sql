-- The stored clock of a case and its version, in one indexed read. Nothing else: a
-- subquery here, even one never run, opened `events` and its index on every read
-- (about 30 µs of PostgreSQL a read); when the row cannot answer, the service reads
-- the stream (read_stream.sql).
SELECT s.version, c.phase, c.clock_start, c.eligible_on, c.explanation
  FROM case_state AS s
  JOIN closure_clock AS c ON c.case_id = s.case_id
 WHERE s.case_id = $1
