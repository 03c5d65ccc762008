-- Pochi's SQLite schema.
--
-- Money: INTEGER minor units (cents) with the ISO currency code beside it.
-- Times: INTEGER microseconds since the Unix epoch, UTC.
-- Ids: TEXT (hyphenated lower-case UUIDs, which sort like the UUIDs' bytes).
-- Enums: their snake_case names. Actors, payment flags and review reasons: JSON text.
-- STRICT tables make SQLite refuse values of the wrong type.

CREATE TABLE products (
    id          TEXT    NOT NULL PRIMARY KEY,
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL,
    currency    TEXT    NOT NULL,
    price_minor INTEGER NOT NULL CHECK (price_minor >= 0),
    stock       INTEGER CHECK (stock IS NULL OR stock >= 0),
    image       TEXT,
    active      INTEGER NOT NULL CHECK (active IN (0, 1)),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX products_by_created ON products (created_at, id);
CREATE INDEX products_active_by_created ON products (active, created_at, id);

CREATE TABLE orders (
    number             TEXT    NOT NULL PRIMARY KEY,
    status             TEXT    NOT NULL,
    customer_name      TEXT    NOT NULL,
    phone              TEXT    NOT NULL,
    county             TEXT    NOT NULL,
    area               TEXT    NOT NULL,
    address            TEXT    NOT NULL,
    delivery_notes     TEXT,
    currency           TEXT    NOT NULL,
    subtotal_minor     INTEGER NOT NULL CHECK (subtotal_minor >= 0),
    delivery_fee_minor INTEGER NOT NULL CHECK (delivery_fee_minor >= 0),
    total_minor        INTEGER NOT NULL CHECK (total_minor >= 0),
    payment_flag       TEXT,
    idempotency_key    TEXT UNIQUE,
    fingerprint        TEXT    NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    paid_at            INTEGER
) STRICT;

-- The admin list (newest first), filtered by status or phone, and expiry (status + age).
CREATE INDEX orders_by_created ON orders (created_at, number);
CREATE INDEX orders_by_status_created ON orders (status, created_at, number);
CREATE INDEX orders_by_phone_created ON orders (phone, created_at, number);

CREATE TABLE order_lines (
    order_number     TEXT    NOT NULL REFERENCES orders (number) ON DELETE CASCADE,
    position         INTEGER NOT NULL,
    product_id       TEXT    NOT NULL REFERENCES products (id),
    name             TEXT    NOT NULL,
    currency         TEXT    NOT NULL,
    unit_price_minor INTEGER NOT NULL CHECK (unit_price_minor >= 0),
    quantity         INTEGER NOT NULL CHECK (quantity > 0),
    line_total_minor INTEGER NOT NULL CHECK (line_total_minor >= 0),
    PRIMARY KEY (order_number, position)
) STRICT;

-- Top products, and "is this product in any order?" when removing one.
CREATE INDEX order_lines_by_product ON order_lines (product_id);

CREATE TABLE order_timeline (
    order_number TEXT    NOT NULL REFERENCES orders (number) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    at           INTEGER NOT NULL,
    status       TEXT    NOT NULL,
    note         TEXT    NOT NULL,
    actor        TEXT    NOT NULL,
    PRIMARY KEY (order_number, position)
) STRICT;

CREATE TABLE payments (
    id                 TEXT    NOT NULL PRIMARY KEY,
    order_number       TEXT    NOT NULL REFERENCES orders (number),
    provider           TEXT    NOT NULL,
    kind               TEXT    NOT NULL,
    currency           TEXT    NOT NULL,
    amount_minor       INTEGER NOT NULL CHECK (amount_minor >= 0),
    phone              TEXT,
    status             TEXT    NOT NULL,
    provider_reference TEXT,
    receipt            TEXT UNIQUE,
    payer              TEXT,
    result_code        TEXT,
    result_description TEXT,
    raw_payload        TEXT,
    idempotency_key    TEXT,
    checks             INTEGER NOT NULL CHECK (checks >= 0),
    next_check_at      INTEGER,
    needs_review       INTEGER NOT NULL CHECK (needs_review IN (0, 1)),
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    UNIQUE (order_number, idempotency_key),
    UNIQUE (provider, provider_reference)
) STRICT;

CREATE INDEX payments_by_order ON payments (order_number, created_at, id);
-- Reconciliation: pending attempts due for a check, earliest first.
CREATE INDEX payments_due ON payments (status, next_check_at, id);

CREATE TABLE payment_reviews (
    id                TEXT    NOT NULL PRIMARY KEY,
    at                INTEGER NOT NULL,
    provider          TEXT    NOT NULL,
    reason            TEXT    NOT NULL,
    payment_id        TEXT,
    order_number      TEXT,
    reference         TEXT,
    receipt           TEXT,
    currency          TEXT,
    amount_minor      INTEGER CHECK (amount_minor IS NULL OR amount_minor >= 0),
    account_reference TEXT,
    raw_payload       TEXT
) STRICT;

CREATE INDEX payment_reviews_by_at ON payment_reviews (at, id);

-- One row: the settings as JSON.
CREATE TABLE settings (
    id   INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    body TEXT    NOT NULL
) STRICT;
