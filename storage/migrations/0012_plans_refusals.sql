-- Plans and refusal reasons.
--
-- A manager's monthly plan: each time a head or admin sets or changes it, a new version is
-- stored (who and when), so a change mid-month keeps the history; the latest version of a
-- month is the plan. A version's targets are whole numbers; "collected" has one target per
-- currency, in that currency's minor units (never summed across currencies). A version
-- without targets clears the month's plan.
CREATE TABLE plans (
    id         INTEGER PRIMARY KEY,
    manager_id INTEGER NOT NULL REFERENCES users (telegram_id),
    -- The calendar month, counted in the manager's own time zone.
    month      TEXT NOT NULL CHECK (month GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]'),
    set_by     INTEGER NOT NULL REFERENCES users (telegram_id),
    set_at     TEXT NOT NULL
);
-- A manager's versions of a month, the latest last; and everyone's plans of a month.
CREATE INDEX plans_manager_month ON plans (manager_id, month, id);
CREATE INDEX plans_month ON plans (month, manager_id, id);

CREATE TABLE plan_targets (
    plan_id  INTEGER NOT NULL REFERENCES plans (id),
    metric   TEXT NOT NULL
             CHECK (metric IN ('contacts', 'meetings', 'new_clients', 'won', 'collected')),
    -- An ISO 4217 code for "collected", '' for the counts.
    currency TEXT NOT NULL DEFAULT '',
    target   INTEGER NOT NULL CHECK (target > 0),
    CHECK ((metric = 'collected') = (length(currency) = 3 AND currency NOT GLOB '*[^A-Z]*')),
    PRIMARY KEY (plan_id, metric, currency)
) WITHOUT ROWID;

-- Why a client refused, as one of the preset reasons (the words typed stay in
-- outcome_reason, verbatim). Only a refusal has one. Refusals recorded before this column
-- are matched from their words when reported.
ALTER TABLE contacts ADD COLUMN refusal_reason TEXT CHECK (
    refusal_reason IS NULL
    OR (
        outcome = 'refused'
        AND refusal_reason IN
            ('price', 'timing', 'competitor', 'no_need', 'no_budget', 'quality', 'other')
    )
);
-- The month's refusals (a partial index: refusals are few).
CREATE INDEX contacts_refused ON contacts (happened_at, manager_id) WHERE outcome = 'refused';
