-- The search copy of a client (search_key) now keeps emoji and other symbols, so "🚀" finds
-- "🚀 Rocket Labs". Keys are made in Python (bot/services/clients.search_key): the clients
-- whose text has anything beyond printable ASCII are queued here and re-keyed at start-up
-- (bot.services.clients.refresh_search_keys), a batch at a time; the queue then empties.
CREATE TABLE search_reindex (
    client_id INTEGER PRIMARY KEY REFERENCES clients (id)
);
INSERT INTO search_reindex (client_id)
    SELECT id FROM clients
    WHERE (name || ' ' || coalesce(contact_person, '') || ' ' || tags) GLOB '*[^ -~]*';
