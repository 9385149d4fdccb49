-- A signed-in browser: the SHA-256 of its random session id, never the id itself.
CREATE TABLE ui_sessions (
    session_hash text PRIMARY KEY,
    key_id text NOT NULL REFERENCES api_keys (key_id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ui_sessions_key_id ON ui_sessions (key_id);
