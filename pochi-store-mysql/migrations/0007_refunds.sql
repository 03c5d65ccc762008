-- Refunds and decided payment notices (issue 16).

-- Refunds: money owed back to a customer (pochi_core::Refund), written in the same
-- transaction as the change that owes it: a cancelled order's payments, an over payment's
-- excess, a payment after cancellation.
CREATE TABLE refunds (
    id               BINARY(16) NOT NULL PRIMARY KEY,
    order_number     VARCHAR(32) NOT NULL,
    payment_id       BINARY(16) NOT NULL,
    reason           VARCHAR(32) NOT NULL CHECK (reason IN ('order_cancelled', 'over_payment',
                         'paid_after_cancellation')),
    currency         CHAR(3) NOT NULL,
    amount           DECIMAL(20, 2) NOT NULL CHECK (amount > 0),
    status           VARCHAR(16) NOT NULL CHECK (status IN ('owed', 'sending', 'refunded', 'failed')),
    -- The M-Pesa code of the money sent back, once refunded: never on two refunds.
    reference        VARCHAR(40),
    -- The provider's id of a request sending it (a reversal's ConversationID).
    provider_request VARCHAR(191),
    note             TEXT,
    actor_kind       VARCHAR(16),
    actor_name       VARCHAR(191),
    created_at       DATETIME(6) NOT NULL,
    updated_at       DATETIME(6) NOT NULL,
    UNIQUE KEY refunds_reference (reference),
    UNIQUE KEY refunds_provider_request (provider_request),
    -- An order's refunds, oldest first (tracking, and the refunds a change owes).
    KEY refunds_by_order (order_number, created_at, id),
    -- The dashboard's list: by status, or all, newest first.
    KEY refunds_by_status (status, created_at, id),
    KEY refunds_by_time (created_at, id),
    CONSTRAINT refunds_order FOREIGN KEY (order_number) REFERENCES orders (number),
    CONSTRAINT refunds_payment FOREIGN KEY (payment_id) REFERENCES payments (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- An admin's decision on a payment notice (pochi_core::ReviewResolution as JSON): assigned to an
-- order, refunded by hand, or ignored; NULL until decided, written once.
ALTER TABLE payment_reviews ADD COLUMN resolution TEXT NULL;
