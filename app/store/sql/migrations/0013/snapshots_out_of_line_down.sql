-- Migration 0013 undone: the default TOAST target again (rows written since keep their
-- out-of-line snapshots until they are next written).
ALTER TABLE case_state RESET (toast_tuple_target)
