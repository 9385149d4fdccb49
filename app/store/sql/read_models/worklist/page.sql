-- One keyset page of the closure worklist; the WHERE condition and the LIMIT placeholder
-- are filled in by app.store.read_models.worklist from the fragments beside this file.
-- worklist_day is COALESCE(eligible_on, 9999-12-31), a stored column with indexes.
SELECT case_id, phase, clock_start, eligible_on
  FROM closure_clock
 WHERE {where}
 ORDER BY worklist_day, case_id
 LIMIT {limit};
