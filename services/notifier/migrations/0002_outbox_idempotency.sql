-- Announce idempotency: a caller repeating an announcement passes the same
-- key, and a device that already holds an outbox row with that key gets no
-- second notification. '' (every row written before this migration, and
-- calls without a key) is never a conflict. The index serves both the
-- conflict check of (device, key) and the lookup of a key's rows.
ALTER TABLE notifier_outbox ADD COLUMN idempotency_key text NOT NULL DEFAULT '';
CREATE UNIQUE INDEX notifier_outbox_idempotency ON notifier_outbox (idempotency_key, device_id)
  WHERE idempotency_key <> '';
