-- An admin's note on a status move is private unless the admin marks it for the customer; the
-- tracking page shows the status's plain description in its place. Notes admins wrote before
-- this migration were shown to customers; they are made private now (their status still shows).
ALTER TABLE order_timeline ADD COLUMN for_customer BOOLEAN NOT NULL DEFAULT TRUE;
UPDATE order_timeline SET for_customer = FALSE WHERE actor_kind = 'admin';
