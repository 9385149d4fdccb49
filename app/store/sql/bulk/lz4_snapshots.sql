-- Bulk writes TOAST what they store (snapshots above all: tens of kB of JSON each) with lz4
-- where the server has it, for this transaction only; readers decompress either method.
-- Measured: a 63 kB snapshot costs PostgreSQL about 800 us to store with lz4, 1,400-1,700 us
-- with the default pglz.
SELECT set_config('default_toast_compression', 'lz4', true)
  FROM pg_settings
 WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)
