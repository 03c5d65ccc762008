-- Pre-aggregated figures for the statistics, kept in the same transactions that place and
-- move orders, so `stats` reads a few hundred rows whatever the number of orders. The rows and
-- what changes them are pochi-core's `tally` module: orders and totals per status (spread over
-- 16 slots, an order's slot being the code of its number's last character modulo 16), units
-- and line totals per product and status, and paid orders per UTC day of payment and status.
-- The counts carry no CHECK on purpose: a fault in the figures must never stop an order from
-- being placed or paid.

CREATE TABLE order_tallies (
    status   VARCHAR(20) NOT NULL,
    currency CHAR(3) NOT NULL,
    slot     TINYINT NOT NULL CHECK (slot >= 0 AND slot < 16),
    orders   BIGINT NOT NULL,
    total    DECIMAL(38, 2) NOT NULL,
    PRIMARY KEY (status, currency, slot)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE product_tallies (
    product_id BINARY(16) NOT NULL,
    status     VARCHAR(20) NOT NULL,
    currency   CHAR(3) NOT NULL,
    quantity   BIGINT NOT NULL,
    revenue    DECIMAL(38, 2) NOT NULL,
    PRIMARY KEY (product_id, status, currency)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE paid_tallies (
    day      DATE NOT NULL,
    status   VARCHAR(20) NOT NULL,
    currency CHAR(3) NOT NULL,
    slot     TINYINT NOT NULL CHECK (slot >= 0 AND slot < 16),
    orders   BIGINT NOT NULL,
    total    DECIMAL(38, 2) NOT NULL,
    PRIMARY KEY (day, status, currency, slot)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- The figures of the orders already there.
INSERT INTO order_tallies (status, currency, slot, orders, total)
SELECT status, currency, ASCII(RIGHT(number, 1)) % 16, COUNT(*), SUM(total)
FROM orders GROUP BY status, currency, ASCII(RIGHT(number, 1)) % 16;

INSERT INTO product_tallies (product_id, status, currency, quantity, revenue)
SELECT l.product_id, o.status, l.currency, SUM(l.quantity), SUM(l.line_total)
FROM order_lines l JOIN orders o ON o.number = l.order_number
GROUP BY l.product_id, o.status, l.currency;

INSERT INTO paid_tallies (day, status, currency, slot, orders, total)
SELECT DATE(paid_at), status, currency, ASCII(RIGHT(number, 1)) % 16, COUNT(*), SUM(total)
FROM orders WHERE paid_at IS NOT NULL
GROUP BY DATE(paid_at), status, currency, ASCII(RIGHT(number, 1)) % 16;
