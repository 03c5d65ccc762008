-- The SQLite store joins the SQL core that PostgreSQL and MySQL share (pochi-store-sql): the
-- same tables and column names, with SQLite's own representation kept (money in INTEGER minor
-- units, times in INTEGER microseconds, ids as TEXT).
--
-- 1. Columns take the core's names: `price_minor` becomes `price`, and so on.
-- 2. An order's payment flag (JSON) becomes three columns; a timeline entry's actor (JSON)
--    becomes two. The JSON came from pochi-core's serde shapes:
--    {"kind": "short_payment", "expected": {"amount": "1500.00", "currency": "KES"}, ...} and
--    {"kind": "admin", "name": "wanjiru"} / {"kind": "customer"}.
-- 3. The tallies behind the statistics, filled from the orders already there.

ALTER TABLE products RENAME COLUMN price_minor TO price;

ALTER TABLE orders RENAME COLUMN delivery_notes TO notes;
ALTER TABLE orders RENAME COLUMN subtotal_minor TO subtotal;
ALTER TABLE orders RENAME COLUMN delivery_fee_minor TO delivery_fee;
ALTER TABLE orders RENAME COLUMN total_minor TO total;
ALTER TABLE orders ADD COLUMN flag_kind TEXT
    CHECK (flag_kind IN ('short_payment', 'over_payment', 'paid_after_cancellation'));
ALTER TABLE orders ADD COLUMN flag_expected INTEGER;
ALTER TABLE orders ADD COLUMN flag_received INTEGER;

-- Amounts were written at the currency's scale (no minor unit for UGX, two places otherwise),
-- so the product by 10^places is a whole number; ROUND only removes the binary fraction.
UPDATE orders SET
    flag_kind = json_extract(payment_flag, '$.kind'),
    flag_expected = CAST(ROUND(CAST(json_extract(payment_flag, '$.expected.amount') AS REAL)
        * CASE currency WHEN 'UGX' THEN 1 ELSE 100 END) AS INTEGER),
    flag_received = CAST(ROUND(CAST(json_extract(payment_flag, '$.received.amount') AS REAL)
        * CASE currency WHEN 'UGX' THEN 1 ELSE 100 END) AS INTEGER)
WHERE payment_flag IS NOT NULL;

ALTER TABLE orders DROP COLUMN payment_flag;

-- Revenue windows of the statistics.
CREATE INDEX orders_by_paid ON orders (paid_at) WHERE paid_at IS NOT NULL;

ALTER TABLE order_lines RENAME COLUMN unit_price_minor TO unit_price;
ALTER TABLE order_lines RENAME COLUMN line_total_minor TO line_total;

-- A child table (nothing references it): rebuilt with the actor in two columns.
CREATE TABLE order_timeline_core (
    order_number TEXT    NOT NULL REFERENCES orders (number) ON DELETE CASCADE,
    position     INTEGER NOT NULL CHECK (position >= 0),
    at           INTEGER NOT NULL,
    status       TEXT    NOT NULL,
    note         TEXT    NOT NULL,
    actor_kind   TEXT    NOT NULL
        CHECK (actor_kind IN ('customer', 'admin', 'provider', 'system')),
    actor_name   TEXT,
    PRIMARY KEY (order_number, position)
) STRICT;

INSERT INTO order_timeline_core (order_number, position, at, status, note, actor_kind,
    actor_name)
SELECT order_number, position, at, status, note, json_extract(actor, '$.kind'),
    json_extract(actor, '$.name')
FROM order_timeline;

DROP TABLE order_timeline;
ALTER TABLE order_timeline_core RENAME TO order_timeline;

ALTER TABLE payments RENAME COLUMN amount_minor TO amount;
ALTER TABLE payment_reviews RENAME COLUMN amount_minor TO amount;

-- Pre-aggregated figures for the statistics (see pochi-store-sql's `tally` module), kept by
-- the transactions that place and move orders. Amounts in minor units, days as 'YYYY-MM-DD'
-- (UTC). An order's slot is the code of the last character of its number modulo 16 (order
-- numbers are ASCII). No CHECK on the counts: a fault in the figures must never stop an order.
CREATE TABLE order_tallies (
    status   TEXT    NOT NULL,
    currency TEXT    NOT NULL,
    slot     INTEGER NOT NULL CHECK (slot >= 0 AND slot < 16),
    orders   INTEGER NOT NULL,
    total    INTEGER NOT NULL,
    PRIMARY KEY (status, currency, slot)
) STRICT;

CREATE TABLE product_tallies (
    product_id TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    currency   TEXT    NOT NULL,
    quantity   INTEGER NOT NULL,
    revenue    INTEGER NOT NULL,
    PRIMARY KEY (product_id, status, currency)
) STRICT;

CREATE TABLE paid_tallies (
    day      TEXT    NOT NULL,
    status   TEXT    NOT NULL,
    currency TEXT    NOT NULL,
    slot     INTEGER NOT NULL CHECK (slot >= 0 AND slot < 16),
    orders   INTEGER NOT NULL,
    total    INTEGER NOT NULL,
    PRIMARY KEY (day, status, currency, slot)
) STRICT;

INSERT INTO order_tallies (status, currency, slot, orders, total)
SELECT status, currency, unicode(substr(number, -1)) % 16, COUNT(*), SUM(total)
FROM orders GROUP BY status, currency, unicode(substr(number, -1)) % 16;

INSERT INTO product_tallies (product_id, status, currency, quantity, revenue)
SELECT l.product_id, o.status, l.currency, SUM(l.quantity), SUM(l.line_total)
FROM order_lines l JOIN orders o ON o.number = l.order_number
GROUP BY l.product_id, o.status, l.currency;

INSERT INTO paid_tallies (day, status, currency, slot, orders, total)
SELECT date(paid_at / 1000000, 'unixepoch'), status, currency,
    unicode(substr(number, -1)) % 16, COUNT(*), SUM(total)
FROM orders WHERE paid_at IS NOT NULL
GROUP BY date(paid_at / 1000000, 'unixepoch'), status, currency,
    unicode(substr(number, -1)) % 16;
