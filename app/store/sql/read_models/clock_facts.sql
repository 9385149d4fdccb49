-- The stored clock of a case and the case's version, in one indexed read.
SELECT s.version, c.phase, c.clock_start, c.eligible_on, c.explanation
  FROM case_state AS s
  JOIN closure_clock AS c ON c.case_id = s.case_id
 WHERE s.case_id = $1;
