-- Who each UI session stands for (the pages' requests carry a session, not a key).
SELECT s.session_hash, k.key_id, k.role, k.provider_id
FROM ui_sessions s JOIN api_keys k USING (key_id)
WHERE s.session_hash = ANY($1::text[])
