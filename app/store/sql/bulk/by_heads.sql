-- Each case's weight from its head: its version (the number of its events).
SELECT case_id, version::bigint AS n FROM case_state
