-- The weekly digest: who receives it when, what was sent, and the index its figures read.

-- When a head's team digest and a manager's "Your week" arrive: an ISO weekday (Mon=1; 0
-- switches it off) and a local wall time 'HH:MM' in the person's own zone.
ALTER TABLE users ADD COLUMN digest_day INTEGER NOT NULL DEFAULT 1
    CHECK (digest_day BETWEEN 0 AND 7);
ALTER TABLE users ADD COLUMN digest_time TEXT NOT NULL DEFAULT '09:00'
    CHECK (digest_time GLOB '[0-2][0-9]:[0-5][0-9]');
ALTER TABLE users ADD COLUMN week_summary_day INTEGER NOT NULL DEFAULT 5
    CHECK (week_summary_day BETWEEN 0 AND 7);
ALTER TABLE users ADD COLUMN week_summary_time TEXT NOT NULL DEFAULT '16:00'
    CHECK (week_summary_time GLOB '[0-2][0-9]:[0-5][0-9]');

-- One row per person, kind and reported week: the primary key makes "once per week" a database
-- fact. The row is claimed ('sending') before the first message goes out and becomes 'sent'
-- after the last; `parts_sent` counts the messages already delivered, so a delivery cut short
-- by a crash resumes after them instead of starting again. 'failed' means the person blocked
-- the bot (or it kept failing): not retried.
CREATE TABLE digest_sent (
    user_id    INTEGER NOT NULL REFERENCES users (telegram_id),
    -- 'team': a head's digest of the team's week; 'own': a manager's "Your week".
    kind       TEXT NOT NULL CHECK (kind IN ('team', 'own')),
    iso_week   TEXT NOT NULL CHECK (iso_week GLOB '[0-9][0-9][0-9][0-9]-W[0-5][0-9]'),
    state      TEXT NOT NULL DEFAULT 'sending' CHECK (state IN ('sending', 'sent', 'failed')),
    parts_sent INTEGER NOT NULL DEFAULT 0 CHECK (parts_sent >= 0),
    attempts   INTEGER NOT NULL DEFAULT 1 CHECK (attempts >= 1),
    claimed_at TEXT NOT NULL,
    sent_at    TEXT,
    CHECK ((state = 'sent') = (sent_at IS NOT NULL)),
    PRIMARY KEY (user_id, kind, iso_week)
) WITHOUT ROWID;

-- The week's contacts (and each person's latest): one range of the log instead of a scan of
-- all of it. happened_at leads, so lookups by person keep using their own indexes.
CREATE INDEX contacts_happened ON contacts (happened_at, manager_id);
-- The week's new clients.
CREATE INDEX clients_created ON clients (created_at);
-- The week's snoozes and reschedules for everyone (step_events_actor serves one person).
CREATE INDEX step_events_at ON step_events (at);
