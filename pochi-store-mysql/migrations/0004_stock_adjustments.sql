-- Lost updates on product edits (issue #14, defect 9): an edit never writes stock; stock
-- changes by adjustments kept in the product's history, and edits can be made against a
-- version.

-- The revision of what an admin edits; one more with each edit (never with stock moves).
ALTER TABLE products ADD COLUMN version BIGINT NOT NULL DEFAULT 1 CHECK (version > 0);

-- Each adjustment of a product's stock: the signed change, why, by whom, and the stock after.
CREATE TABLE stock_adjustments (
    id              BINARY(16) NOT NULL PRIMARY KEY,
    product_id      BINARY(16) NOT NULL,
    delta           BIGINT NOT NULL CHECK (delta <> 0),
    reason          TEXT NOT NULL,
    stock_after     BIGINT NOT NULL CHECK (stock_after >= 0),
    admin_name      TEXT NOT NULL,
    at              DATETIME(6) NOT NULL,
    -- A retry with the same key replays the adjustment instead of applying it twice.
    idempotency_key VARCHAR(100) NULL,
    UNIQUE KEY stock_adjustments_key (product_id, idempotency_key),
    -- A product's history: newest first.
    KEY stock_adjustments_by_product (product_id, at, id),
    CONSTRAINT stock_adjustments_product FOREIGN KEY (product_id) REFERENCES products (id)
        ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
