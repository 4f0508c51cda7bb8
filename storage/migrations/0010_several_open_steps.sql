-- A client may have several open steps (a meeting on Friday and an offer to send on
-- Tuesday): a new step no longer has to replace the one already booked.
DROP INDEX steps_one_open_per_client;
-- One client's open steps by due time: the log's "which one does this complete", the card.
CREATE INDEX steps_client_open ON steps (client_id, due_at) WHERE state = 'open';
-- The contact that retired a step without doing it: it replaced the step with a new one
-- nearby, or cancelled it when pausing the client. Undoing that contact opens it again.
ALTER TABLE steps ADD COLUMN closed_by_contact_id INTEGER REFERENCES contacts (id);
CREATE INDEX steps_closed_by ON steps (closed_by_contact_id)
    WHERE closed_by_contact_id IS NOT NULL;
