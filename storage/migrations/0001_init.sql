-- Foundation: people, invitations, access requests, the audit log and conversation state.
-- Times are UTC text 'YYYY-MM-DDTHH:MM:SSZ' (sortable); the user's zone is applied at the edges.

CREATE TABLE users (
    telegram_id INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    username    TEXT,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'head', 'manager')),
    timezone    TEXT NOT NULL,
    locale      TEXT NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    reachable   INTEGER NOT NULL DEFAULT 1 CHECK (reachable IN (0, 1)),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX users_role ON users (role) WHERE active = 1;

CREATE TABLE invites (
    id          INTEGER PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'head', 'manager')),
    created_by  INTEGER NOT NULL REFERENCES users (telegram_id),
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_by     INTEGER REFERENCES users (telegram_id),
    used_at     TEXT,
    CHECK ((used_by IS NULL) = (used_at IS NULL))
);

CREATE TABLE access_requests (
    id           INTEGER PRIMARY KEY,
    telegram_id  INTEGER NOT NULL,
    name         TEXT NOT NULL,
    username     TEXT,
    state        TEXT NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'approved', 'declined')),
    role         TEXT CHECK (role IS NULL OR role IN ('admin', 'head', 'manager')),
    requested_at TEXT NOT NULL,
    decided_by   INTEGER REFERENCES users (telegram_id),
    decided_at   TEXT
);
CREATE UNIQUE INDEX access_requests_one_pending ON access_requests (telegram_id)
    WHERE state = 'pending';

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    actor_id    INTEGER,
    action      TEXT NOT NULL,
    object_type TEXT,
    object_id   TEXT,
    details     TEXT,
    at          TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor_id, at);

-- python-telegram-bot persistence: conversation states and per-user drafts (JSON).
CREATE TABLE ptb_conversations (
    name  TEXT NOT NULL,
    key   TEXT NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (name, key)
) WITHOUT ROWID;

CREATE TABLE ptb_user_data (
    user_id INTEGER PRIMARY KEY,
    data    TEXT NOT NULL
);

CREATE TABLE ptb_chat_data (
    chat_id INTEGER PRIMARY KEY,
    data    TEXT NOT NULL
);
