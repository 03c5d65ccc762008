-- Pre-aggregated figures for the statistics, kept in the same transactions that place and
-- move orders, so `stats` reads a few hundred rows whatever the number of orders.
--
-- Order tallies are spread over 16 slots so that concurrent orders rarely wait for each
-- other's tally row; readers add the slots up. An order's slot is the code of the last
-- character of its number modulo 16 (random, as the codes are), so its moves always touch the
-- slot its placement counted it in. The counts carry no CHECK on purpose: a fault in the
-- figures must never stop an order from being placed or paid.

-- Orders and their totals per status and currency.
CREATE TABLE order_tallies (
    status   TEXT NOT NULL,
    currency CHAR(3) NOT NULL,
    slot     SMALLINT NOT NULL CHECK (slot >= 0 AND slot < 16),
    orders   BIGINT NOT NULL,
    total    NUMERIC NOT NULL,
    PRIMARY KEY (status, currency, slot)
);

-- Units and line totals sold per product, by the status of their orders.
CREATE TABLE product_tallies (
    product_id UUID NOT NULL,
    status     TEXT NOT NULL,
    currency   CHAR(3) NOT NULL,
    quantity   BIGINT NOT NULL,
    revenue    NUMERIC NOT NULL,
    PRIMARY KEY (product_id, status, currency)
);

-- Paid orders and their totals per UTC day of payment and status: the revenue windows add
-- whole days from here and read the orders of the window's first, partial day.
CREATE TABLE paid_tallies (
    day      DATE NOT NULL,
    status   TEXT NOT NULL,
    currency CHAR(3) NOT NULL,
    slot     SMALLINT NOT NULL CHECK (slot >= 0 AND slot < 16),
    orders   BIGINT NOT NULL,
    total    NUMERIC NOT NULL,
    PRIMARY KEY (day, status, currency, slot)
);

-- The figures of the orders already there.
INSERT INTO order_tallies (status, currency, slot, orders, total)
SELECT status, currency, ascii(right(number, 1)) % 16, COUNT(*), SUM(total)
FROM orders GROUP BY status, currency, ascii(right(number, 1)) % 16;

INSERT INTO product_tallies (product_id, status, currency, quantity, revenue)
SELECT l.product_id, o.status, l.currency, SUM(l.quantity), SUM(l.line_total)
FROM order_lines l JOIN orders o ON o.number = l.order_number
GROUP BY l.product_id, o.status, l.currency;

INSERT INTO paid_tallies (day, status, currency, slot, orders, total)
SELECT (paid_at AT TIME ZONE 'UTC')::date, status, currency, ascii(right(number, 1)) % 16,
       COUNT(*), SUM(total)
FROM orders WHERE paid_at IS NOT NULL
GROUP BY (paid_at AT TIME ZONE 'UTC')::date, status, currency, ascii(right(number, 1)) % 16;
