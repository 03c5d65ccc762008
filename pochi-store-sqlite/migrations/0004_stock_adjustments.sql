-- Lost updates on product edits (issue #14, defect 9): an edit never writes stock; stock
-- changes by adjustments kept in the product's history, and edits can be made against a
-- version.

-- The revision of what an admin edits; one more with each edit (never with stock moves).
ALTER TABLE products ADD COLUMN version INTEGER NOT NULL DEFAULT 1 CHECK (version > 0);

-- Each adjustment of a product's stock: the signed change, why, by whom, and the stock after.
CREATE TABLE stock_adjustments (
    id              TEXT    NOT NULL PRIMARY KEY,
    product_id      TEXT    NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    delta           INTEGER NOT NULL CHECK (delta <> 0),
    reason          TEXT    NOT NULL,
    stock_after     INTEGER NOT NULL CHECK (stock_after >= 0),
    admin_name      TEXT    NOT NULL,
    at              INTEGER NOT NULL,
    -- A retry with the same key replays the adjustment instead of applying it twice.
    idempotency_key TEXT,
    UNIQUE (product_id, idempotency_key)
) STRICT;
-- A product's history: newest first.
CREATE INDEX stock_adjustments_by_product ON stock_adjustments (product_id, at, id);
