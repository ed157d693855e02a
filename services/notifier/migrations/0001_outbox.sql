-- The notifier's outbox: announcements are written here first; delivery
-- workers on every replica take due rows (FOR UPDATE SKIP LOCKED, with a
-- lease) and deliver them. Times are unix milliseconds from the service clock.

-- Devices the notifier knows and how to reach them (from Announce targets;
-- devices that subscribe are added with the defaults).
CREATE TABLE notifier_devices (
  device_id text PRIMARY KEY,
  msisdn text NOT NULL DEFAULT '',
  channels text NOT NULL DEFAULT 'ip_push,sms,wap_push',
  ack_timeout_ms bigint NOT NULL DEFAULT 60000 CHECK (ack_timeout_ms > 0)
);

-- One row per announcement, with its signed binary form.
CREATE TABLE notifier_announcements (
  notification_id text PRIMARY KEY,
  server_address text NOT NULL,
  software_name text NOT NULL,
  location text NOT NULL,
  timestamp_ms bigint NOT NULL,
  expires_at_ms bigint NOT NULL,
  signed bytea NOT NULL
);

-- One row per (device, announcement).
CREATE TABLE notifier_outbox (
  device_id text NOT NULL,
  notification_id text NOT NULL REFERENCES notifier_announcements (notification_id),
  state text NOT NULL DEFAULT 'queued'
    CHECK (state IN ('queued', 'sent', 'acknowledged', 'expired', 'failed')),
  -- Position in the device's channel order being tried.
  channel_index int NOT NULL DEFAULT 0,
  channel text NOT NULL DEFAULT '',
  attempts int NOT NULL DEFAULT 0,
  next_attempt_ms bigint NOT NULL,
  created_ms bigint NOT NULL,
  sent_ms bigint,
  acked_ms bigint,
  last_error text NOT NULL DEFAULT '',
  PRIMARY KEY (device_id, notification_id)
);
CREATE INDEX notifier_outbox_due ON notifier_outbox (next_attempt_ms)
  WHERE state IN ('queued', 'sent');

-- Delivery receipts per channel: sent, acknowledged, gateway_error, fallback,
-- expired, failed.
CREATE TABLE notifier_receipts (
  id bigserial PRIMARY KEY,
  device_id text NOT NULL,
  notification_id text NOT NULL,
  channel text NOT NULL,
  event text NOT NULL,
  at_ms bigint NOT NULL,
  detail text NOT NULL DEFAULT ''
);
CREATE INDEX notifier_receipts_by_notification ON notifier_receipts (notification_id, device_id);

-- Notification signing keys (Ed25519), shared by every replica; the newest
-- signs.
CREATE TABLE notifier_signing_keys (
  key_id text PRIMARY KEY,
  private_key_hex text NOT NULL,
  public_key_hex text NOT NULL,
  created_ms bigint NOT NULL
);
