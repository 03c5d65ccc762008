-- An admin's note on a status move is private unless the admin marks it for the customer; the
-- tracking page shows the status's plain description in its place. Notes admins wrote before
-- this migration were shown to customers; they are made private now (their status still shows).
ALTER TABLE order_timeline ADD COLUMN for_customer BOOLEAN NOT NULL DEFAULT TRUE;
-- The notes the shop itself wrote for an admin's action (a verified code's "Payment received
-- (CODE)", a part or over payment) stay public, as the code writes them now.
UPDATE order_timeline SET for_customer = FALSE
WHERE actor_kind = 'admin'
  AND note NOT LIKE 'Payment received%'
  AND note NOT LIKE 'Part payment:%'
  AND note NOT LIKE 'Overpayment:%'
  AND note NOT LIKE 'Further payment of %'
  AND note NOT LIKE 'Payment of % received after cancellation';
