-- Who each API key is (revoked keys too: a record names whoever read, revoked since or not).
SELECT key_hash, key_id, role, provider_id FROM api_keys WHERE key_hash = ANY($1::text[])
