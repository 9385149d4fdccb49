-- The rows of one read model (the table in braces, from app.ops.rebuild_chunk.MODELS)
-- whose case has no events: a rebuild removes them.
DELETE FROM {table} AS m
 WHERE NOT EXISTS (SELECT 1 FROM events AS e WHERE e.case_id = m.case_id)
RETURNING m.case_id;
