-- A new session for key $2, ending at the latest after $3 seconds; expired ones go.
WITH gone AS (DELETE FROM ui_sessions WHERE expires_at <= now() OR last_seen_at <= now() - make_interval(secs => $4))
INSERT INTO ui_sessions (session_hash, key_id, expires_at)
VALUES ($1, $2, now() + make_interval(secs => $3))
