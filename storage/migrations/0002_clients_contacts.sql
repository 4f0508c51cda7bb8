-- Clients, the contact log, next steps and the reminder queue.
-- Every contact ends in a scheduled step or a closure; the CHECKs below make the database refuse
-- a row that breaks that rule even if a service has a bug.

CREATE TABLE clients (
    id              INTEGER PRIMARY KEY,
    owner_id        INTEGER NOT NULL REFERENCES users (telegram_id),
    name            TEXT NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 200),
    -- Folded name (casefolded, accents stripped, punctuation collapsed): duplicate detection
    -- and the name-prefix match of `/call <client> ...`.
    name_key        TEXT NOT NULL,
    contact_person  TEXT,
    phone_e164      TEXT CHECK (phone_e164 IS NULL OR phone_e164 GLOB '+[1-9]*'),
    email           TEXT,
    -- Normalised tags joined by ',' (lower case, trimmed, no duplicates); '' when none.
    tags            TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT 'prospect'
                    CHECK (status IN ('prospect', 'active', 'inactive')),
    notes           TEXT,
    -- Folded name + contact person + tags + phone digits; indexed by clients_search below.
    search_key      TEXT NOT NULL,
    -- max(contacts.happened_at), kept by the services so the list needs no aggregate.
    last_contact_at TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
-- A manager's list, most recently contacted first (NULLs, never contacted, sort last in DESC).
CREATE INDEX clients_owner_recent ON clients (owner_id, last_contact_at DESC, id DESC);
-- A head's list of everyone's clients, same order.
CREATE INDEX clients_recent ON clients (last_contact_at DESC, id DESC);
-- Duplicate check and prefix match within one owner's clients, and across all for a head.
CREATE INDEX clients_owner_name ON clients (owner_id, name_key);
CREATE INDEX clients_name ON clients (name_key);

-- Substring search: a trigram full-text index over search_key, so a query costs what it
-- matches, not the size of the table. External content: the text lives only in `clients`.
-- Terms shorter than three characters cannot use trigrams and fall back to LIKE.
CREATE VIRTUAL TABLE clients_search USING fts5 (
    search_key, content = 'clients', content_rowid = 'id', tokenize = 'trigram'
);
CREATE TRIGGER clients_search_insert AFTER INSERT ON clients BEGIN
    INSERT INTO clients_search (rowid, search_key) VALUES (new.id, new.search_key);
END;
CREATE TRIGGER clients_search_delete AFTER DELETE ON clients BEGIN
    INSERT INTO clients_search (clients_search, rowid, search_key)
    VALUES ('delete', old.id, old.search_key);
END;
CREATE TRIGGER clients_search_update AFTER UPDATE OF search_key ON clients BEGIN
    INSERT INTO clients_search (clients_search, rowid, search_key)
    VALUES ('delete', old.id, old.search_key);
    INSERT INTO clients_search (rowid, search_key) VALUES (new.id, new.search_key);
END;

CREATE TABLE contacts (
    id             INTEGER PRIMARY KEY,
    client_id      INTEGER NOT NULL REFERENCES clients (id),
    -- Who made the contact; they must conclude it (their agenda shows it until then).
    manager_id     INTEGER NOT NULL REFERENCES users (telegram_id),
    kind           TEXT NOT NULL CHECK (kind IN ('call', 'meeting', 'email', 'message', 'visit')),
    happened_at    TEXT NOT NULL,
    summary        TEXT NOT NULL CHECK (length(trim(summary)) BETWEEN 1 AND 2000),
    state          TEXT NOT NULL DEFAULT 'needs_next_step'
                   CHECK (state IN ('needs_next_step', 'complete')),
    outcome        TEXT CHECK (
                       outcome IS NULL
                       OR outcome IN ('scheduled', 'won', 'refused', 'not_target', 'paused')
                   ),
    outcome_reason TEXT,
    logged_at      TEXT NOT NULL,
    -- When the next step or the closure was chosen; `resolved_at - logged_at` is discipline.
    resolved_at    TEXT,
    -- Complete exactly when it has an outcome and a resolution time: never complete without.
    CHECK ((state = 'complete') = (outcome IS NOT NULL)),
    CHECK ((state = 'complete') = (resolved_at IS NOT NULL)),
    -- A refusal or "not a target" needs its reason (coalesce: a NULL would pass a CHECK).
    CHECK (
        coalesce(outcome, '') NOT IN ('refused', 'not_target')
        OR coalesce(length(trim(outcome_reason)), 0) > 0
    )
);
-- The card's last contacts and last_contact_at recomputation after an undo.
CREATE INDEX contacts_client_recent ON contacts (client_id, happened_at DESC, id DESC);
-- Contacts waiting for a next step, per manager. Partial: stays small however long the log is.
CREATE INDEX contacts_pending ON contacts (manager_id, logged_at) WHERE state = 'needs_next_step';

CREATE TABLE steps (
    id                    INTEGER PRIMARY KEY,
    client_id             INTEGER NOT NULL REFERENCES clients (id),
    -- Whose agenda and reminders it is in: the client's owner (moves on reassignment).
    manager_id            INTEGER NOT NULL REFERENCES users (telegram_id),
    -- Every step is the conclusion of a contact (a follow-up or a pause's check-back).
    created_by_contact_id INTEGER NOT NULL REFERENCES contacts (id),
    kind                  TEXT NOT NULL
                          CHECK (kind IN ('call', 'meeting', 'email', 'visit', 'other')),
    due_at                TEXT NOT NULL,
    agenda                TEXT CHECK (agenda IS NULL OR length(agenda) <= 1000),
    state                 TEXT NOT NULL DEFAULT 'open'
                          CHECK (state IN ('open', 'done', 'cancelled', 'replaced')),
    done_by_contact_id    INTEGER REFERENCES contacts (id),
    snooze_count          INTEGER NOT NULL DEFAULT 0 CHECK (snooze_count >= 0),
    reschedule_count      INTEGER NOT NULL DEFAULT 0 CHECK (reschedule_count >= 0),
    cancel_reason         TEXT,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL,
    -- Done means a contact with the client completed it, and only then.
    CHECK ((state = 'done') = (done_by_contact_id IS NOT NULL)),
    CHECK (state <> 'cancelled' OR coalesce(length(trim(cancel_reason)), 0) > 0)
);
-- At most one open next step per client: a database fact, not a hope.
CREATE UNIQUE INDEX steps_one_open_per_client ON steps (client_id) WHERE state = 'open';
-- The agenda: one manager's open steps by due time.
CREATE INDEX steps_manager_due ON steps (manager_id, state, due_at);
-- Undo looks up the step a contact created and the one it completed.
CREATE INDEX steps_created_by ON steps (created_by_contact_id);
CREATE INDEX steps_done_by ON steps (done_by_contact_id) WHERE done_by_contact_id IS NOT NULL;

CREATE TABLE reminders (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (telegram_id),
    subject    TEXT NOT NULL
               CHECK (subject IN ('step', 'invoice', 'promise', 'missing_step', 'agenda', 'digest')),
    -- The step, invoice, promise or contact (missing_step) it is about; NULL for agenda/digest.
    subject_id INTEGER,
    due_at     TEXT NOT NULL,
    state      TEXT NOT NULL DEFAULT 'pending'
               CHECK (state IN ('pending', 'sending', 'sent', 'held', 'cancelled')),
    attempts   INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    sent_at    TEXT,
    message_id INTEGER,
    created_at TEXT NOT NULL,
    -- When the sweep claimed it (pending -> sending); a crash leaves it, start-up releases it.
    claimed_at TEXT,
    CHECK ((state = 'sent') = (sent_at IS NOT NULL))
);
-- The sweep: due pending rows, oldest first.
CREATE INDEX reminders_due ON reminders (state, due_at);
-- Cancel, reassign or restore a subject's reminders in the same transaction as the change.
CREATE INDEX reminders_subject ON reminders (subject, subject_id);
