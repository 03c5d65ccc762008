-- Notifications (issue 17): the outbox written with each change that tells a customer or the
-- owner something, the messages made from it, and the channels customers opted out of.

-- The language the customer checked out in, for their messages.
ALTER TABLE orders ADD COLUMN language VARCHAR(8) NOT NULL DEFAULT 'en'
    CHECK (language IN ('en', 'sw'));

-- One event per change that notifies (pochi_core::OutboxEvent), written in the change's own
-- transaction; expanded into deliveries once.
CREATE TABLE outbox_events (
    id           BINARY(16) NOT NULL PRIMARY KEY,
    order_number VARCHAR(32) NOT NULL,
    kind         VARCHAR(32) NOT NULL,
    -- pochi_core::notify::EventDetails as JSON.
    details      MEDIUMTEXT NOT NULL,
    created_at   DATETIME(6) NOT NULL,
    -- NULL until a dispatcher made its messages.
    expanded_at  DATETIME(6) NULL,
    -- The dispatcher's queue: pending events, oldest first.
    KEY outbox_events_pending (expanded_at, created_at, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- One message to one recipient by one channel (pochi_core::Delivery).
CREATE TABLE deliveries (
    id              BINARY(16) NOT NULL PRIMARY KEY,
    event_id        BINARY(16) NOT NULL,
    order_number    VARCHAR(32) NOT NULL,
    kind            VARCHAR(32) NOT NULL,
    channel         VARCHAR(16) NOT NULL,
    audience        VARCHAR(16) NOT NULL,
    -- pochi_core::notify::MessageContent as JSON.
    message         MEDIUMTEXT NOT NULL,
    state           VARCHAR(16) NOT NULL CHECK (state IN ('pending', 'sent', 'dead', 'skipped')),
    attempts        BIGINT NOT NULL CHECK (attempts >= 0),
    next_attempt_at DATETIME(6) NOT NULL,
    -- The dispatcher holding it, and until when.
    lease_owner     VARCHAR(200) NULL,
    lease_until     DATETIME(6) NULL,
    last_error      TEXT NULL,
    provider_ref    VARCHAR(200) NULL,
    created_at      DATETIME(6) NOT NULL,
    sent_at         DATETIME(6) NULL,
    -- The claim: pending deliveries, earliest due first.
    KEY deliveries_due (state, next_attempt_at, id),
    -- The dashboard's lists, newest first: all, by state, by order.
    KEY deliveries_by_created (created_at, id),
    KEY deliveries_by_state (state, created_at, id),
    KEY deliveries_by_order (order_number, created_at, id),
    CONSTRAINT deliveries_event FOREIGN KEY (event_id) REFERENCES outbox_events (id)
        ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- The channels a customer opted out of (or back into).
CREATE TABLE notification_opt_outs (
    phone      VARCHAR(16) NOT NULL,
    channel    VARCHAR(16) NOT NULL,
    opted_out  BOOLEAN NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    PRIMARY KEY (phone, channel)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
