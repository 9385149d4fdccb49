-- A new API key: only the SHA-256 of the key is stored.
INSERT INTO api_keys (key_id, key_hash, role, provider_id, label)
VALUES ($1, $2, $3, $4, $5);
