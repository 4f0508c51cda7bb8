-- Updates received but not yet fully handled: replayed (or explained) after a crash.
-- python-telegram-bot confirms updates to Telegram when it fetches the next batch, so an
-- update in memory when the process dies would be gone without this row.
CREATE TABLE inbox (
    update_id INTEGER PRIMARY KEY,
    chat_id INTEGER,
    payload TEXT NOT NULL,               -- the update as Telegram sent it (JSON)
    started INTEGER NOT NULL DEFAULT 0,  -- 1 once a handler began: not replayed, explained
    received_at TEXT NOT NULL
);

-- The newest update id ever received: Telegram re-sends unconfirmed updates after a restart.
CREATE TABLE inbox_cursor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_update_id INTEGER NOT NULL
);
