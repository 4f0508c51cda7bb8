-- Receivables: invoices, the payments against them, the client's promises to pay, and each
-- client's payment discipline. Amounts are integers in the currency's minor units (ISO 4217
-- exponent: JPY 0, EUR 2, KWD 3); dates are local calendar dates 'YYYY-MM-DD' (an invoice is
-- due on a day, not at a moment); other times are UTC text like everywhere else.

-- good / normal / poor: set by the manager or suggested from the history; it picks the tone
-- of the payment reminder the bot suggests.
ALTER TABLE clients ADD COLUMN trust_level TEXT NOT NULL DEFAULT 'normal'
    CHECK (trust_level IN ('good', 'normal', 'poor'));

CREATE TABLE invoices (
    id           INTEGER PRIMARY KEY,
    client_id    INTEGER NOT NULL REFERENCES clients (id),
    number       TEXT NOT NULL CHECK (length(trim(number)) BETWEEN 1 AND 50),
    -- Casefolded number without spaces: "inv 1042" and "INV1042" are the same invoice.
    number_key   TEXT NOT NULL CHECK (length(number_key) > 0),
    currency     TEXT NOT NULL CHECK (length(currency) = 3 AND currency NOT GLOB '*[^A-Z]*'),
    amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
    -- Sum of the payments, kept by the trigger below: the balance can never go negative.
    paid_minor   INTEGER NOT NULL DEFAULT 0 CHECK (paid_minor BETWEEN 0 AND amount_minor),
    issued_on    TEXT NOT NULL CHECK (issued_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    due_on       TEXT NOT NULL CHECK (due_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    state        TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'paid', 'cancelled')),
    notes        TEXT CHECK (notes IS NULL OR length(notes) <= 1000),
    created_by   INTEGER NOT NULL REFERENCES users (telegram_id),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    -- The day the balance reached zero (the last payment's date).
    paid_on      TEXT,
    -- When the heads were alerted about this invoice (final stage or the client's overdue
    -- total over the team threshold); once per invoice.
    escalated_at TEXT,
    CHECK (due_on >= issued_on),
    -- Paid exactly when nothing is left to pay; an open invoice always has a balance.
    CHECK ((state = 'paid') = (paid_minor = amount_minor AND paid_on IS NOT NULL)
           OR state = 'cancelled'),
    CHECK (state <> 'open' OR paid_minor < amount_minor)
);
-- One number per client (the duplicate check and a database fact).
CREATE UNIQUE INDEX invoices_client_number ON invoices (client_id, number_key);
-- A client's invoices by state and due date: the card, the per-manager lists (via the
-- owner's clients) and the client's overdue total.
CREATE INDEX invoices_client_state ON invoices (client_id, state, due_on);
-- Everyone's open invoices by due date (a head's list and totals, aging). Partial: paid ones
-- pile up. Covering the columns those read, so a whole-team pass never visits the table.
CREATE INDEX invoices_open_due ON invoices (due_on, client_id, currency, amount_minor, paid_minor)
    WHERE state = 'open';
-- Recently paid (the Paid filter).
CREATE INDEX invoices_paid_on ON invoices (paid_on) WHERE state = 'paid';

CREATE TABLE payments (
    id           INTEGER PRIMARY KEY,
    invoice_id   INTEGER NOT NULL REFERENCES invoices (id),
    amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
    paid_on      TEXT NOT NULL CHECK (paid_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    recorded_by  INTEGER NOT NULL REFERENCES users (telegram_id),
    recorded_at  TEXT NOT NULL
);
CREATE INDEX payments_invoice ON payments (invoice_id, paid_on);

-- The invoice's paid total follows its payments, and an open invoice whose balance reaches zero
-- becomes paid (on its latest payment's date) in the same statement. The CHECKs on invoices
-- refuse an overpayment even if a service forgot to.
CREATE TRIGGER payments_add AFTER INSERT ON payments BEGIN
    UPDATE invoices SET
        paid_minor = paid_minor + new.amount_minor,
        state = CASE WHEN state = 'open' AND paid_minor + new.amount_minor = amount_minor
                     THEN 'paid' ELSE state END,
        paid_on = CASE WHEN state = 'open' AND paid_minor + new.amount_minor = amount_minor
                       THEN (SELECT max(p.paid_on) FROM payments p WHERE p.invoice_id = new.invoice_id)
                       ELSE paid_on END
    WHERE id = new.invoice_id;
END;

CREATE TABLE promises (
    id          INTEGER PRIMARY KEY,
    invoice_id  INTEGER NOT NULL REFERENCES invoices (id),
    promised_on TEXT NOT NULL CHECK (promised_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    -- pending -> kept (paid in full by the day) | broken (unpaid the day after) |
    -- replaced (a new date agreed before this one passed) | cancelled (invoice cancelled).
    state       TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'kept', 'broken', 'replaced', 'cancelled')),
    recorded_by INTEGER NOT NULL REFERENCES users (telegram_id),
    created_at  TEXT NOT NULL,
    settled_at  TEXT,
    CHECK ((state = 'pending') = (settled_at IS NULL))
);
-- At most one pending promise per invoice.
CREATE UNIQUE INDEX promises_one_pending ON promises (invoice_id) WHERE state = 'pending';
CREATE INDEX promises_invoice ON promises (invoice_id, state);
-- Promises falling due on a day (the agenda's "promises due today").
CREATE INDEX promises_pending_day ON promises (promised_on) WHERE state = 'pending';
