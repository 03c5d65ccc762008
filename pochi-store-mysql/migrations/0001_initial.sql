-- Pochi's schema for MySQL 8 and MariaDB 10.11+ (InnoDB).
--
-- Money is DECIMAL(20,2) with the ISO currency code beside it (every amount of a row shares the
-- row's currency); times are DATETIME(6) holding UTC (the store sets time_zone '+00:00').
-- Text is utf8mb4 (any Unicode, emoji included) with the binary collation, so identifiers
-- (order numbers, references, receipts, phones) compare and sort byte for byte. Ids are UUIDs as
-- BINARY(16).

CREATE TABLE products (
    id          BINARY(16) NOT NULL PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    currency    CHAR(3) NOT NULL,
    price       DECIMAL(20, 2) NOT NULL CHECK (price >= 0),
    -- NULL: stock is not tracked.
    stock       BIGINT CHECK (stock >= 0),
    image       VARCHAR(300),
    active      BOOLEAN NOT NULL,
    created_at  DATETIME(6) NOT NULL,
    updated_at  DATETIME(6) NOT NULL,
    -- The catalogue list: (created_at, id) ascending.
    KEY products_by_created (created_at, id),
    KEY products_active_by_created (active, created_at, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE orders (
    number          VARCHAR(32) NOT NULL PRIMARY KEY,
    status          VARCHAR(20) NOT NULL CHECK (status IN ('pending_payment', 'paid',
                        'processing', 'dispatched', 'delivered', 'cancelled')),
    customer_name   TEXT NOT NULL,
    phone           VARCHAR(16) NOT NULL,
    county          VARCHAR(40) NOT NULL,
    area            TEXT NOT NULL,
    address         TEXT NOT NULL,
    notes           TEXT,
    currency        CHAR(3) NOT NULL,
    subtotal        DECIMAL(20, 2) NOT NULL CHECK (subtotal >= 0),
    delivery_fee    DECIMAL(20, 2) NOT NULL CHECK (delivery_fee >= 0),
    total           DECIMAL(20, 2) NOT NULL CHECK (total >= 0),
    flag_kind       VARCHAR(32) CHECK (flag_kind IN ('short_payment', 'over_payment',
                        'paid_after_cancellation')),
    flag_expected   DECIMAL(20, 2),
    flag_received   DECIMAL(20, 2),
    idempotency_key VARCHAR(100),
    fingerprint     TEXT NOT NULL,
    created_at      DATETIME(6) NOT NULL,
    updated_at      DATETIME(6) NOT NULL,
    paid_at         DATETIME(6),
    CONSTRAINT orders_flag_complete CHECK (
        (flag_kind IS NULL) = (flag_expected IS NULL)
        AND (flag_kind IS NULL) = (flag_received IS NULL)),
    UNIQUE KEY orders_idempotency_key (idempotency_key),
    -- Admin lists (newest first, optionally by status or phone), expiry and customers.
    KEY orders_by_created (created_at, number),
    KEY orders_by_status (status, created_at, number),
    KEY orders_by_phone (phone, created_at, number),
    -- Revenue windows of the statistics.
    KEY orders_by_paid (paid_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE order_lines (
    order_number VARCHAR(32) NOT NULL,
    position     INT NOT NULL CHECK (position >= 0),
    product_id   BINARY(16) NOT NULL,
    name         TEXT NOT NULL,
    currency     CHAR(3) NOT NULL,
    unit_price   DECIMAL(20, 2) NOT NULL CHECK (unit_price >= 0),
    quantity     BIGINT NOT NULL CHECK (quantity > 0),
    line_total   DECIMAL(20, 2) NOT NULL CHECK (line_total >= 0),
    PRIMARY KEY (order_number, position),
    -- Archive-or-delete of a product and the best sellers.
    KEY order_lines_by_product (product_id),
    CONSTRAINT order_lines_order FOREIGN KEY (order_number) REFERENCES orders (number)
        ON DELETE CASCADE,
    CONSTRAINT order_lines_product FOREIGN KEY (product_id) REFERENCES products (id)
        ON DELETE RESTRICT
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE order_timeline (
    order_number VARCHAR(32) NOT NULL,
    position     INT NOT NULL CHECK (position >= 0),
    at           DATETIME(6) NOT NULL,
    status       VARCHAR(20) NOT NULL,
    note         TEXT NOT NULL,
    actor_kind   VARCHAR(10) NOT NULL CHECK (actor_kind IN ('customer', 'admin', 'provider',
                     'system')),
    actor_name   TEXT,
    PRIMARY KEY (order_number, position),
    CONSTRAINT order_timeline_order FOREIGN KEY (order_number) REFERENCES orders (number)
        ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE payments (
    id                 BINARY(16) NOT NULL PRIMARY KEY,
    order_number       VARCHAR(32) NOT NULL,
    provider           VARCHAR(64) NOT NULL,
    kind               VARCHAR(10) NOT NULL CHECK (kind IN ('stk_push', 'c2b', 'manual')),
    currency           CHAR(3) NOT NULL,
    amount             DECIMAL(20, 2) NOT NULL CHECK (amount >= 0),
    phone              VARCHAR(16),
    status             VARCHAR(24) NOT NULL CHECK (status IN ('pending', 'pending_verification',
                           'succeeded', 'failed', 'cancelled', 'timed_out')),
    provider_reference VARCHAR(191),
    receipt            VARCHAR(40),
    payer              TEXT,
    result_code        TEXT,
    result_description TEXT,
    -- Up to 64 KiB of provider payload: more than TEXT holds.
    raw_payload        MEDIUMTEXT,
    idempotency_key    VARCHAR(100),
    checks             BIGINT NOT NULL CHECK (checks >= 0),
    next_check_at      DATETIME(6),
    needs_review       BOOLEAN NOT NULL,
    created_at         DATETIME(6) NOT NULL,
    updated_at         DATETIME(6) NOT NULL,
    UNIQUE KEY payments_idempotency_key (order_number, idempotency_key),
    UNIQUE KEY payments_provider_reference (provider, provider_reference),
    UNIQUE KEY payments_receipt (receipt),
    -- An order's attempts, oldest first; the reconciliation queue.
    KEY payments_by_order (order_number, created_at, id),
    KEY payments_due (status, next_check_at, id),
    CONSTRAINT payments_order FOREIGN KEY (order_number) REFERENCES orders (number)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Payment notices kept for an admin. No foreign keys: a notice may name an order or attempt
-- the shop does not know (that is often why it is here).
CREATE TABLE payment_reviews (
    id                BINARY(16) NOT NULL PRIMARY KEY,
    at                DATETIME(6) NOT NULL,
    provider          VARCHAR(64) NOT NULL,
    -- pochi_core::ReviewReason as JSON ({"kind": ...}).
    reason            TEXT NOT NULL,
    payment_id        BINARY(16),
    order_number      VARCHAR(32),
    reference         TEXT,
    receipt           TEXT,
    currency          CHAR(3),
    amount            DECIMAL(20, 2),
    account_reference TEXT,
    raw_payload       MEDIUMTEXT,
    CONSTRAINT payment_reviews_amount CHECK ((currency IS NULL) = (amount IS NULL)),
    KEY payment_reviews_by_at (at, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- The shop's settings: one document, one row.
CREATE TABLE settings (
    id   SMALLINT NOT NULL PRIMARY KEY CHECK (id = 1),
    -- pochi_core::StoreSettings as JSON.
    body MEDIUMTEXT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
