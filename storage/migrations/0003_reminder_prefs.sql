-- Personal reminder settings and away mode on the user row; the snooze/reschedule/cancel log
-- the weekly digest counts. Local times are 'HH:MM' wall-clock text in the user's zone,
-- working days ISO weekdays (Mon=1) joined by ','; away_until is UTC like every other time.

ALTER TABLE users ADD COLUMN agenda_time TEXT NOT NULL DEFAULT '09:00'
    CHECK (agenda_time GLOB '[0-2][0-9]:[0-5][0-9]');
ALTER TABLE users ADD COLUMN working_days TEXT NOT NULL DEFAULT '1,2,3,4,5'
    CHECK (length(working_days) > 0 AND working_days NOT GLOB '*[^1-7,]*');
ALTER TABLE users ADD COLUMN quiet_from TEXT NOT NULL DEFAULT '21:00'
    CHECK (quiet_from GLOB '[0-2][0-9]:[0-5][0-9]');
ALTER TABLE users ADD COLUMN quiet_to TEXT NOT NULL DEFAULT '08:00'
    CHECK (quiet_to GLOB '[0-2][0-9]:[0-5][0-9]');
-- Minutes before a meeting or visit for the heads-up reminder; 0 switches it off.
ALTER TABLE users ADD COLUMN heads_up_minutes INTEGER NOT NULL DEFAULT 60
    CHECK (heads_up_minutes BETWEEN 0 AND 1440);
-- Away mode: no reminders until away_until; the deputy, if any, gets them meanwhile.
ALTER TABLE users ADD COLUMN away_until TEXT;
ALTER TABLE users ADD COLUMN deputy_id INTEGER REFERENCES users (telegram_id)
    CHECK (deputy_id IS NULL OR (deputy_id <> telegram_id AND away_until IS NOT NULL));

-- One row per snooze, reschedule or cancellation of a step: the digest counts them per person
-- and period (the counters on the step say how often, not when). Deleted with the step (undo).
CREATE TABLE step_events (
    id         INTEGER PRIMARY KEY,
    step_id    INTEGER NOT NULL REFERENCES steps (id) ON DELETE CASCADE,
    -- The step's owner at the time, and who pressed the button (the one it is counted for).
    manager_id INTEGER NOT NULL REFERENCES users (telegram_id),
    actor_id   INTEGER NOT NULL REFERENCES users (telegram_id),
    action     TEXT NOT NULL CHECK (action IN ('snooze', 'reschedule', 'cancel')),
    at         TEXT NOT NULL
);
CREATE INDEX step_events_actor ON step_events (actor_id, at);
CREATE INDEX step_events_step ON step_events (step_id);

-- A person's reminders that may still reach them (the pending morning agenda, away-mode
-- releases). Partial: sent and cancelled rows, which grow forever, are not in it.
CREATE INDEX reminders_user_live ON reminders (user_id, subject)
    WHERE state IN ('pending', 'sending', 'held');
