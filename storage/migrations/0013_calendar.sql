-- Next steps in the phone's calendar (issue 21): personal subscription feeds, stored only as
-- the SHA-256 of their 192-bit token, and each person's event lengths and feed options.
CREATE TABLE calendar_feeds (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (telegram_id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    -- Set by "New link", by deactivating the person; a revoked feed answers 404 forever.
    revoked_at TEXT
);
-- At most one live link per person.
CREATE UNIQUE INDEX calendar_feeds_one_live ON calendar_feeds (user_id) WHERE revoked_at IS NULL;

CREATE TABLE calendar_prefs (
    user_id         INTEGER PRIMARY KEY REFERENCES users (telegram_id),
    -- How long an event lasts, by the step's kind (emails, visits and other steps share one).
    call_minutes    INTEGER NOT NULL DEFAULT 15 CHECK (call_minutes BETWEEN 5 AND 480),
    meeting_minutes INTEGER NOT NULL DEFAULT 60 CHECK (meeting_minutes BETWEEN 5 AND 480),
    other_minutes   INTEGER NOT NULL DEFAULT 30 CHECK (other_minutes BETWEEN 5 AND 480),
    -- A head's or admin's feed may list the whole team's open steps, not only their own.
    include_team    INTEGER NOT NULL DEFAULT 0 CHECK (include_team IN (0, 1)),
    updated_at      TEXT NOT NULL
);
