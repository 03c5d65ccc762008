-- Refunds and decided payment notices (issue 16).

-- Refunds: money owed back to a customer (pochi_core::Refund), written in the same
-- transaction as the change that owes it: a cancelled order's payments, an over payment's
-- excess, a payment after cancellation.
CREATE TABLE refunds (
    id               UUID PRIMARY KEY,
    order_number     TEXT COLLATE "C" NOT NULL REFERENCES orders (number),
    payment_id       UUID NOT NULL REFERENCES payments (id),
    reason           TEXT NOT NULL CHECK (reason IN ('order_cancelled', 'over_payment',
                         'paid_after_cancellation')),
    currency         CHAR(3) NOT NULL,
    amount           NUMERIC(20, 2) NOT NULL CHECK (amount > 0),
    status           TEXT NOT NULL CHECK (status IN ('owed', 'sending', 'refunded', 'failed')),
    -- The M-Pesa code of the money sent back, once refunded: never on two refunds.
    reference        TEXT COLLATE "C",
    -- The provider's id of a request sending it (a reversal's ConversationID).
    provider_request TEXT COLLATE "C",
    note             TEXT,
    actor_kind       TEXT,
    actor_name       TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    CONSTRAINT refunds_reference UNIQUE (reference),
    CONSTRAINT refunds_provider_request UNIQUE (provider_request)
);
-- An order's refunds, oldest first (tracking, and the refunds a change owes).
CREATE INDEX refunds_by_order ON refunds (order_number, created_at, id);
-- The dashboard's list: by status, or all, newest first.
CREATE INDEX refunds_by_status ON refunds (status, created_at, id);
CREATE INDEX refunds_by_time ON refunds (created_at, id);

-- An admin's decision on a payment notice (pochi_core::ReviewResolution as JSON): assigned to an
-- order, refunded by hand, or ignored; NULL until decided, written once.
ALTER TABLE payment_reviews ADD COLUMN resolution TEXT;
