-- Refunds and decided payment notices (issue 16).

-- Refunds: money owed back to a customer (pochi_core::Refund), written in the same
-- transaction as the change that owes it: a cancelled order's payments, an over payment's
-- excess, a payment after cancellation.
CREATE TABLE refunds (
    id               TEXT    NOT NULL PRIMARY KEY,
    order_number     TEXT    NOT NULL REFERENCES orders (number),
    payment_id       TEXT    NOT NULL REFERENCES payments (id),
    reason           TEXT    NOT NULL CHECK (reason IN ('order_cancelled', 'over_payment',
                         'paid_after_cancellation')),
    currency         TEXT    NOT NULL,
    -- Minor units, like every amount of this store.
    amount           INTEGER NOT NULL CHECK (amount > 0),
    status           TEXT    NOT NULL CHECK (status IN ('owed', 'sending', 'refunded', 'failed')),
    -- The M-Pesa code of the money sent back, once refunded: never on two refunds.
    reference        TEXT UNIQUE,
    -- The provider's id of a request sending it (a reversal's ConversationID).
    provider_request TEXT UNIQUE,
    note             TEXT,
    actor_kind       TEXT,
    actor_name       TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
) STRICT;
-- An order's refunds, oldest first (tracking, and the refunds a change owes).
CREATE INDEX refunds_by_order ON refunds (order_number, created_at, id);
-- The dashboard's list: by status, or all, newest first.
CREATE INDEX refunds_by_status ON refunds (status, created_at, id);
CREATE INDEX refunds_by_time ON refunds (created_at, id);

-- An admin's decision on a payment notice (pochi_core::ReviewResolution as JSON): assigned to an
-- order, refunded by hand, or ignored; NULL until decided, written once.
ALTER TABLE payment_reviews ADD COLUMN resolution TEXT;
