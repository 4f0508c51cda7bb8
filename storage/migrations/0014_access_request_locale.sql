-- The language a stranger's Telegram is in (when it is one the bot speaks), kept with their
-- access request so the member a lead approves starts in it.
ALTER TABLE access_requests ADD COLUMN locale TEXT;
