-- The key behind a live session ($1), which is touched: unexpired, used within the last
-- $2 seconds, and its key not revoked. No row: signed out, expired, idle or revoked.
UPDATE ui_sessions AS s
SET last_seen_at = now()
FROM api_keys AS k
WHERE s.session_hash = $1
  AND k.key_id = s.key_id
  AND k.revoked_at IS NULL
  AND s.expires_at > now()
  AND s.last_seen_at > now() - make_interval(secs => $2)
RETURNING k.key_id, k.role, k.provider_id
