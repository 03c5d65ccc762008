-- Pochi's schema for PostgreSQL 15+.
--
-- Money is NUMERIC(20,2) with the ISO currency code beside it (every amount of a row shares
-- the row's currency); times are TIMESTAMPTZ (UTC, microseconds). Identifiers that are compared
-- or ordered byte for byte (order numbers, references, receipts, phones) use the "C" collation.

CREATE TABLE products (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    currency    CHAR(3) NOT NULL,
    price       NUMERIC(20, 2) NOT NULL CHECK (price >= 0),
    -- NULL: stock is not tracked.
    stock       BIGINT CHECK (stock >= 0),
    image       TEXT,
    active      BOOLEAN NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
-- The catalogue list: (created_at, id) ascending, all or active only.
CREATE INDEX products_by_created ON products (created_at, id);
CREATE INDEX products_active_by_created ON products (created_at, id) WHERE active;

CREATE TABLE orders (
    number          TEXT COLLATE "C" PRIMARY KEY,
    status          TEXT NOT NULL CHECK (status IN ('pending_payment', 'paid', 'processing',
                        'dispatched', 'delivered', 'cancelled')),
    customer_name   TEXT NOT NULL,
    phone           TEXT COLLATE "C" NOT NULL,
    county          TEXT NOT NULL,
    area            TEXT NOT NULL,
    address         TEXT NOT NULL,
    notes           TEXT,
    currency        CHAR(3) NOT NULL,
    subtotal        NUMERIC(20, 2) NOT NULL CHECK (subtotal >= 0),
    delivery_fee    NUMERIC(20, 2) NOT NULL CHECK (delivery_fee >= 0),
    total           NUMERIC(20, 2) NOT NULL CHECK (total >= 0),
    flag_kind       TEXT CHECK (flag_kind IN ('short_payment', 'over_payment',
                        'paid_after_cancellation')),
    flag_expected   NUMERIC(20, 2),
    flag_received   NUMERIC(20, 2),
    idempotency_key TEXT COLLATE "C",
    fingerprint     TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    paid_at         TIMESTAMPTZ,
    CONSTRAINT orders_idempotency_key UNIQUE (idempotency_key),
    CONSTRAINT orders_flag_complete CHECK (
        (flag_kind IS NULL) = (flag_expected IS NULL)
        AND (flag_kind IS NULL) = (flag_received IS NULL))
);
-- Admin lists (newest first, optionally by status or phone), expiry and customers.
CREATE INDEX orders_by_created ON orders (created_at, number);
CREATE INDEX orders_by_status ON orders (status, created_at, number);
CREATE INDEX orders_by_phone ON orders (phone, created_at, number);
-- Revenue windows of the statistics.
CREATE INDEX orders_by_paid ON orders (paid_at) WHERE paid_at IS NOT NULL;

CREATE TABLE order_lines (
    order_number TEXT COLLATE "C" NOT NULL REFERENCES orders (number) ON DELETE CASCADE,
    position     INTEGER NOT NULL CHECK (position >= 0),
    product_id   UUID NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
    name         TEXT NOT NULL,
    currency     CHAR(3) NOT NULL,
    unit_price   NUMERIC(20, 2) NOT NULL CHECK (unit_price >= 0),
    quantity     BIGINT NOT NULL CHECK (quantity > 0),
    line_total   NUMERIC(20, 2) NOT NULL CHECK (line_total >= 0),
    PRIMARY KEY (order_number, position)
);
-- Archive-or-delete of a product and the best sellers.
CREATE INDEX order_lines_by_product ON order_lines (product_id);

CREATE TABLE order_timeline (
    order_number TEXT COLLATE "C" NOT NULL REFERENCES orders (number) ON DELETE CASCADE,
    position     INTEGER NOT NULL CHECK (position >= 0),
    at           TIMESTAMPTZ NOT NULL,
    status       TEXT NOT NULL,
    note         TEXT NOT NULL,
    actor_kind   TEXT NOT NULL CHECK (actor_kind IN ('customer', 'admin', 'provider', 'system')),
    actor_name   TEXT,
    PRIMARY KEY (order_number, position)
);

CREATE TABLE payments (
    id                 UUID PRIMARY KEY,
    order_number       TEXT COLLATE "C" NOT NULL REFERENCES orders (number),
    provider           TEXT COLLATE "C" NOT NULL,
    kind               TEXT NOT NULL CHECK (kind IN ('stk_push', 'c2b', 'manual')),
    currency           CHAR(3) NOT NULL,
    amount             NUMERIC(20, 2) NOT NULL CHECK (amount >= 0),
    phone              TEXT COLLATE "C",
    status             TEXT NOT NULL CHECK (status IN ('pending', 'pending_verification',
                           'succeeded', 'failed', 'cancelled', 'timed_out')),
    provider_reference TEXT COLLATE "C",
    receipt            TEXT COLLATE "C",
    payer              TEXT,
    result_code        TEXT,
    result_description TEXT,
    raw_payload        TEXT,
    idempotency_key    TEXT COLLATE "C",
    checks             BIGINT NOT NULL CHECK (checks >= 0),
    next_check_at      TIMESTAMPTZ,
    needs_review       BOOLEAN NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL,
    CONSTRAINT payments_idempotency_key UNIQUE (order_number, idempotency_key),
    CONSTRAINT payments_provider_reference UNIQUE (provider, provider_reference),
    CONSTRAINT payments_receipt UNIQUE (receipt)
);
-- An order's attempts, oldest first; the reconciliation queue.
CREATE INDEX payments_by_order ON payments (order_number, created_at, id);
CREATE INDEX payments_due ON payments (status, next_check_at, id);

-- Payment notices kept for an admin. No foreign keys: a notice may name an order or attempt
-- the shop does not know (that is often why it is here).
CREATE TABLE payment_reviews (
    id                UUID PRIMARY KEY,
    at                TIMESTAMPTZ NOT NULL,
    provider          TEXT NOT NULL,
    -- pochi_core::ReviewReason as JSON ({"kind": ...}).
    reason            JSONB NOT NULL,
    payment_id        UUID,
    order_number      TEXT COLLATE "C",
    reference         TEXT,
    receipt           TEXT,
    currency          CHAR(3),
    amount            NUMERIC(20, 2),
    account_reference TEXT,
    raw_payload       TEXT,
    CONSTRAINT payment_reviews_amount CHECK ((currency IS NULL) = (amount IS NULL))
);
CREATE INDEX payment_reviews_by_at ON payment_reviews (at, id);

-- The shop's settings: one document, one row.
CREATE TABLE settings (
    id   SMALLINT PRIMARY KEY CHECK (id = 1),
    -- pochi_core::StoreSettings as JSON.
    body TEXT NOT NULL
);
