-- The live key with this hash, if any.
SELECT key_id, role, provider_id
  FROM api_keys
 WHERE key_hash = $1 AND revoked_at IS NULL;
