-- The append function measured inside PostgreSQL (docs/performance.md, section 1): 2,000 new
-- cases, 6,000 appends to them, 2,000 data keys, each loop timed by clock_timestamp(), one
-- backend, no client. Writes rows: run it on a scratch database migrated to head, e.g. the
-- one `python -m bench` creates, or: createdb scratch && DATABASE_URL=... caseledger migrate.
--   psql -d scratch -f bench/sql/append_function_loop.sql
DO $$
DECLARE t0 timestamptz; t1 timestamptz; i int; r int; n int := 2000; run text := md5(random()::text);
  clk jsonb := '{"phase":"in_follow_up","clock_start":"2020-09-22","eligible_on":"2020-12-21","explanation":{"rule": "b_authorization_not_paid_in_full", "holds": ["Authorization sample-1-a10 (assistive_technology) is not paid in full: its end date 2020-09-22 holds the clock start."], "reason": null, "event_id": "6808f46d-599e-41df-9c6e-0644f4633421", "latest_on": "2020-07-31"}}'::jsonb; led jsonb := '[{"cap": "3800.00", "paid": "2300.00", "earned": "2300.00", "pba_id": "sample-1-pba", "status": "open", "cap_left": "1500.00", "ended_on": null, "anomalies": [], "opened_on": "2020-05-13", "authorized": "2300.00", "end_reason": null, "milestones": [{"note": null, "paid": "1000.00", "rate": "1000.00", "amount": "1000.00", "event_id": "90592b4c-9173-4cb5-b436-e34af675afcd", "milestone": "placement_plan_signed", "authorized": "1000.00", "reached_on": "2020-05-14", "outstanding": "0.00", "authorization_id": "sample-1-a1"}], "adjustments": [], "outstanding": "0.00", "provider_id": "prov-038"}]'::jsonb;
BEGIN
  t0 := clock_timestamp();
  FOR i IN 1..n LOOP
    PERFORM caseledger_append(p_case_id => run || i, p_expected_version => 0, p_event_ids => ARRAY[gen_random_uuid()], p_types => ARRAY['CaseOpened'], p_schema_versions => ARRAY[1], p_data => ARRAY['{"opened_on":"2024-02-01"}'::jsonb], p_metadata => ARRAY['{"actor":"x"}'::jsonb], p_hashes => ARRAY[md5(run)], p_recorded_at => now(), p_fold_version => 1, p_state => '{"s":1}'::jsonb, p_clock => clk, p_ledger => NULL);
  END LOOP;
  t1 := clock_timestamp();
  RAISE NOTICE 'new cases (clock): % us/append', round(extract(epoch FROM t1 - t0) * 1e6 / n, 1);
  t0 := clock_timestamp();
  FOR r IN 1..3 LOOP FOR i IN 1..n LOOP
    PERFORM caseledger_append(p_case_id => run || i, p_expected_version => r, p_event_ids => ARRAY[gen_random_uuid()], p_types => ARRAY['AuthorizationPaid'], p_schema_versions => ARRAY[1], p_data => ARRAY['{"amount":"1.00"}'::jsonb], p_metadata => ARRAY['{"actor":"x"}'::jsonb], p_hashes => ARRAY[md5(run)], p_recorded_at => now(), p_fold_version => 1, p_state => NULL, p_clock => clk, p_ledger => CASE WHEN r = 1 THEN NULL ELSE led END);
  END LOOP; END LOOP;
  t1 := clock_timestamp();
  RAISE NOTICE 'existing cases (clock; ledger 2 of 3): % us/append', round(extract(epoch FROM t1 - t0) * 1e6 / (3 * n), 1);
  t0 := clock_timestamp();
  FOR i IN 1..n LOOP
    PERFORM caseledger_put_data_key(run || 'k' || i, '\x0102'::bytea, 'mk');
  END LOOP;
  t1 := clock_timestamp();
  RAISE NOTICE 'put_data_key, new case: % us/call', round(extract(epoch FROM t1 - t0) * 1e6 / n, 1);
END $$;
