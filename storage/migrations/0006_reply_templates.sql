-- Company reply templates: written by heads and admins in /templates, listed beside the
-- built-in ones from templates/replies/. Retiring sets active = 0 (the row stays for the audit
-- trail and so that old buttons answer "no longer available").
CREATE TABLE reply_templates (
    id         INTEGER PRIMARY KEY,
    -- The id shown in buttons and inline results: 'co<digits>', unique, never reused.
    key        TEXT NOT NULL UNIQUE CHECK (length(key) BETWEEN 2 AND 40),
    locale     TEXT NOT NULL DEFAULT 'en' CHECK (length(locale) BETWEEN 2 AND 16),
    title      TEXT NOT NULL CHECK (length(trim(title)) BETWEEN 1 AND 80),
    situation  TEXT NOT NULL CHECK (length(situation) BETWEEN 1 AND 40),
    tone       TEXT NOT NULL DEFAULT 'neutral' CHECK (length(tone) BETWEEN 1 AND 20),
    body       TEXT NOT NULL CHECK (length(trim(body)) BETWEEN 1 AND 3000),
    source     TEXT NOT NULL DEFAULT 'company' CHECK (source IN ('company')),
    active     INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_by INTEGER NOT NULL REFERENCES users (telegram_id),
    updated_by INTEGER REFERENCES users (telegram_id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
-- /templates lists a situation's active templates per language.
CREATE INDEX reply_templates_listing ON reply_templates (locale, situation, active, id);
