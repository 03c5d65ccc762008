-- Notifications (issue 17): the outbox written with each change that tells a customer or the
-- owner something, the messages made from it, and the channels customers opted out of.

-- The language the customer checked out in, for their messages.
ALTER TABLE orders ADD COLUMN language TEXT NOT NULL DEFAULT 'en'
    CHECK (language IN ('en', 'sw'));

-- One event per change that notifies (pochi_core::OutboxEvent), written in the change's own
-- transaction; expanded into deliveries once.
CREATE TABLE outbox_events (
    id           UUID PRIMARY KEY,
    order_number TEXT COLLATE "C" NOT NULL,
    kind         TEXT NOT NULL,
    -- pochi_core::notify::EventDetails as JSON.
    details      TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    -- NULL until a dispatcher made its messages.
    expanded_at  TIMESTAMPTZ
);
-- The dispatcher's queue: pending events, oldest first.
CREATE INDEX outbox_events_pending ON outbox_events (created_at, id) WHERE expanded_at IS NULL;

-- One message to one recipient by one channel (pochi_core::Delivery).
CREATE TABLE deliveries (
    id              UUID PRIMARY KEY,
    event_id        UUID NOT NULL REFERENCES outbox_events (id) ON DELETE CASCADE,
    order_number    TEXT COLLATE "C" NOT NULL,
    kind            TEXT NOT NULL,
    channel         TEXT NOT NULL,
    audience        TEXT NOT NULL,
    -- pochi_core::notify::MessageContent as JSON.
    message         TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'dead', 'skipped')),
    attempts        BIGINT NOT NULL CHECK (attempts >= 0),
    next_attempt_at TIMESTAMPTZ NOT NULL,
    -- The dispatcher holding it, and until when.
    lease_owner     TEXT,
    lease_until     TIMESTAMPTZ,
    last_error      TEXT,
    provider_ref    TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ
);
CREATE INDEX deliveries_event ON deliveries (event_id);
-- The claim: pending deliveries, earliest due first.
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at, id);
-- The dashboard's lists, newest first: all, by state, by order.
CREATE INDEX deliveries_by_created ON deliveries (created_at, id);
CREATE INDEX deliveries_by_state ON deliveries (state, created_at, id);
CREATE INDEX deliveries_by_order ON deliveries (order_number, created_at, id);

-- The channels a customer opted out of (or back into).
CREATE TABLE notification_opt_outs (
    phone      TEXT COLLATE "C" NOT NULL,
    channel    TEXT NOT NULL,
    opted_out  BOOLEAN NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (phone, channel)
);
