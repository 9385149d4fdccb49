-- Migration 0011's copy (frozen: a later change goes into a new migration's copy).
-- A case's snapshot (`case_state.state`, tens of kB of JSON once the clock keeps its log)
-- is TOASTed with lz4 where the server was built with it: storing a 63 kB snapshot cost
-- PostgreSQL 1,400-1,700 us with the default pglz and about 800 us with lz4, paid by every
-- new case and every 16th append, and reading one back decompresses faster too. Only
-- values written from now on change; readers decompress either method. A server without
-- lz4 keeps pglz (the same statement then does nothing).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings
                WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)) THEN
        ALTER TABLE case_state ALTER COLUMN state SET COMPRESSION lz4;
    END IF;
END $$
