-- A case's first personal values: its fresh data key stored and the append written in
-- one statement, so the key costs no round trip of its own. The append (a scalar
-- subquery, evaluated only when the CASE needs it) runs only when the key stored is the
-- one offered: a case that already had a key (another process gave it one) or whose key
-- was destroyed writes nothing, and the caller seals again with the stored key or
-- refuses. A lost race rolls the key back with the append. The placeholders (format
-- fields: wrapped, key) are the parameter numbers after the append's own, and the
-- append field is append.sql, unchanged (app.store.data_keys.put_with_append).
WITH k AS MATERIALIZED (
    SELECT caseledger_put_data_key($1, ${wrapped}, ${key}) AS wrapped
)
SELECT k.wrapped,
       CASE WHEN k.wrapped = ${wrapped} THEN ({append}
) END AS base
FROM k
