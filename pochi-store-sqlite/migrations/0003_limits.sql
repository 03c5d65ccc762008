-- The shop's limits on unpaid orders and payment requests (issue #14).
--
-- `limit_locks` holds one row per bucket of counted subjects (a hash of a phone or a client
-- network, never the value itself; at most 4,096 per scope). SQLite has one
-- writer at a time, so the upsert only keeps the statements the same as on the other
-- databases, where it locks the row.
CREATE TABLE limit_locks (
    scope   TEXT NOT NULL,
    subject TEXT NOT NULL,
    taken   INTEGER NOT NULL,
    PRIMARY KEY (scope, subject)
) STRICT;

-- The client network an unpaid order came from (an IPv4 address, an IPv6 /64); cleared when
-- the order leaves `pending_payment`.
ALTER TABLE orders ADD COLUMN placed_from TEXT;
CREATE INDEX orders_by_placed_from ON orders (placed_from, status) WHERE placed_from IS NOT NULL;

-- Pushes to a phone within the window.
CREATE INDEX payments_by_phone ON payments (phone, created_at) WHERE kind = 'stk_push';

-- At most this many units of the product in one order (NULL: the shop's default).
ALTER TABLE products ADD COLUMN max_per_order INTEGER CHECK (max_per_order > 0);
