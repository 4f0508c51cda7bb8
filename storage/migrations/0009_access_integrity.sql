-- Access requests are closed when their person joins by another route (an invitation, or
-- ADMIN_TELEGRAM_IDS): an old request can then never change a member. SQLite can't alter a
-- CHECK, so the table is rebuilt with the new state ('closed'); nothing references it.
CREATE TABLE access_requests_new (
    id           INTEGER PRIMARY KEY,
    telegram_id  INTEGER NOT NULL,
    name         TEXT NOT NULL,
    username     TEXT,
    state        TEXT NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'approved', 'declined', 'closed')),
    role         TEXT CHECK (role IS NULL OR role IN ('admin', 'head', 'manager')),
    requested_at TEXT NOT NULL,
    decided_by   INTEGER REFERENCES users (telegram_id),
    decided_at   TEXT
);
INSERT INTO access_requests_new
    (id, telegram_id, name, username, state, role, requested_at, decided_by, decided_at)
    SELECT id, telegram_id, name, username, state, role, requested_at, decided_by, decided_at
    FROM access_requests;
DROP TABLE access_requests;
ALTER TABLE access_requests_new RENAME TO access_requests;
CREATE UNIQUE INDEX access_requests_one_pending ON access_requests (telegram_id)
    WHERE state = 'pending';

-- Requests still pending for people who are already members (joined by invitation while
-- their request waited, or deactivated people who sent /start) are closed now.
UPDATE access_requests SET state = 'closed', decided_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
    WHERE state = 'pending' AND telegram_id IN (SELECT telegram_id FROM users);

-- Invitations can be revoked (by an admin or their inviter, or when the inviter is
-- deactivated or loses the right to grant the role).
ALTER TABLE invites ADD COLUMN revoked_at TEXT;
ALTER TABLE invites ADD COLUMN revoked_by INTEGER REFERENCES users (telegram_id);
CREATE INDEX invites_open ON invites (created_by) WHERE used_by IS NULL AND revoked_at IS NULL;
