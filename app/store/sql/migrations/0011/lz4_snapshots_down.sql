-- Migration 0011's downgrade: snapshots written from now on use the server's default
-- compression again; values already stored with lz4 stay readable.
ALTER TABLE case_state ALTER COLUMN state SET COMPRESSION DEFAULT
