-- The shop's limits on unpaid orders and payment requests (issue #14).
--
-- `limit_locks` holds one row per bucket of counted subjects (a hash of a phone or a client
-- network, never the value itself; at most 4,096 per scope). A transaction
-- that counts a subject's unpaid orders or pushes first upserts its row, which locks it: a
-- racing transaction for the same subject waits, then counts what the first one wrote.
CREATE TABLE limit_locks (
    scope   VARCHAR(16) NOT NULL,
    subject VARCHAR(64) NOT NULL,
    taken   BIGINT NOT NULL,
    PRIMARY KEY (scope, subject)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- The client network an unpaid order came from (an IPv4 address, an IPv6 /64); cleared when
-- the order leaves `pending_payment`.
ALTER TABLE orders ADD COLUMN placed_from VARCHAR(64) NULL,
    ADD KEY orders_by_placed_from (placed_from, status);

-- Pushes to a phone within the window.
ALTER TABLE payments ADD KEY payments_by_phone (phone, created_at);

-- At most this many units of the product in one order (NULL: the shop's default).
ALTER TABLE products ADD COLUMN max_per_order BIGINT NULL CHECK (max_per_order > 0);
