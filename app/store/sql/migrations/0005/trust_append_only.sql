-- The trust tables refuse UPDATE, DELETE and TRUNCATE as `events` does.
CREATE FUNCTION trust_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the checkpoint tables are append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$
--
CREATE TRIGGER merkle_leaves_append_only BEFORE UPDATE OR DELETE ON merkle_leaves
    FOR EACH ROW EXECUTE FUNCTION trust_refuse_change()
--
CREATE TRIGGER merkle_leaves_no_truncate BEFORE TRUNCATE ON merkle_leaves
    FOR EACH STATEMENT EXECUTE FUNCTION trust_refuse_change()
--
CREATE TRIGGER merkle_frontier_append_only BEFORE UPDATE OR DELETE ON merkle_frontier
    FOR EACH ROW EXECUTE FUNCTION trust_refuse_change()
--
CREATE TRIGGER merkle_frontier_no_truncate BEFORE TRUNCATE ON merkle_frontier
    FOR EACH STATEMENT EXECUTE FUNCTION trust_refuse_change()
--
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION trust_refuse_change()
--
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION trust_refuse_change()
