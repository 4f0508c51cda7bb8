-- The language a client is written to in (reply templates); NULL: their manager's.
ALTER TABLE clients ADD COLUMN language TEXT;
