-- Every stream, whole, in case_id order (a server-side cursor reads it in batches).
-- app.store.streams.iter_all_streams puts an optional WHERE clause on case_id
-- (app.store.bulk.range_condition) in place of the braces.
SELECT position, case_id, version, event_id, type, schema_version, data, metadata, recorded_at, hash
  FROM events{where}
 ORDER BY case_id, version;
