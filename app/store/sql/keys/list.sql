-- Every key's id, role, provider, label and dates: never the key or its hash.
SELECT key_id, role, provider_id, label, created_at, revoked_at
  FROM api_keys
 ORDER BY created_at, key_id;
