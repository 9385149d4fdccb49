-- The checkpoint tree's leaves, the frontier it resumes from, and the checkpoints the
-- service signed. All three are append-only like `events`: rows are only inserted.
CREATE TABLE merkle_leaves (
    leaf_index bigint PRIMARY KEY CHECK (leaf_index >= 0),
    kind text NOT NULL CHECK (kind IN ('event', 'policy')),
    subject text NOT NULL,
    version bigint NOT NULL CHECK (version >= 0),
    digest bytea NOT NULL CHECK (octet_length(digest) = 32),
    leaf_hash bytea NOT NULL CHECK (octet_length(leaf_hash) = 32),
    -- the feed position of this event, or of the last event before this policy leaf
    position bigint NOT NULL,
    UNIQUE (kind, subject, version, digest)
);
CREATE TABLE merkle_frontier (
    tree_size bigint PRIMARY KEY CHECK (tree_size >= 0),
    last_position bigint NOT NULL,
    hashes bytea[] NOT NULL
);
CREATE TABLE checkpoints (
    tree_size bigint PRIMARY KEY CHECK (tree_size >= 0),
    root_hash bytea NOT NULL CHECK (octet_length(root_hash) = 32),
    last_position bigint NOT NULL,
    signed_at timestamptz NOT NULL,
    note text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
