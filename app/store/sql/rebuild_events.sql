-- Every event as the rebuild folds it, whole streams in case order; the braces take an optional
-- WHERE on case_id (app.store.bulk.range_condition). The payload comes as text, parsed by
-- the caller (measured: a microsecond per row less than the jsonb codec), and what no fold
-- reads (position, metadata) is left out.
SELECT case_id, version, event_id, type, schema_version, data::text, recorded_at, hash
  FROM events{where}
 ORDER BY case_id, version
