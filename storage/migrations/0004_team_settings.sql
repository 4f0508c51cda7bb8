-- Team-wide settings a head or admin changes in /settings (company name for reply templates,
-- the overdue threshold that alerts heads, the default currency). One row per key; a missing
-- key means the built-in default in bot/services/team_settings.py.
CREATE TABLE team_settings (
    key        TEXT PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 64),
    value      TEXT NOT NULL CHECK (length(value) <= 1000),
    updated_by INTEGER REFERENCES users (telegram_id),
    updated_at TEXT NOT NULL
);
