-- Updates received and not yet handled: replayed (or explained) after a crash.
-- python-telegram-bot confirms updates to Telegram when it fetches the next batch, so an
-- update in memory when the process dies would be gone without this row. Handled rows stay a
-- day (Telegram re-sends unconfirmed updates for up to 24 h) so a re-sent one is recognised.
CREATE TABLE inbox (
    update_id INTEGER PRIMARY KEY,
    chat_id INTEGER,
    payload TEXT NOT NULL,               -- the update as Telegram sent it (JSON)
    started INTEGER NOT NULL DEFAULT 0,  -- 1 once a handler began: not replayed, explained
    done INTEGER NOT NULL DEFAULT 0,     -- 1 once handled
    received_at TEXT NOT NULL
);
CREATE INDEX inbox_open ON inbox (done, update_id);
CREATE INDEX inbox_received ON inbox (received_at) WHERE done = 1;
