-- Device key types (Ed25519, ECDSA P-256) and admission timestamps,
-- operator API keys, and rotating token signing keys.
ALTER TABLE devices DROP CONSTRAINT devices_public_key_check;
ALTER TABLE devices
  ADD COLUMN key_type text NOT NULL DEFAULT 'ed25519'
    CHECK (key_type IN ('ed25519', 'ecdsa-p256')),
  ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
  ADD CONSTRAINT devices_public_key_length CHECK (
    (key_type = 'ed25519' AND length(public_key) = 32) OR
    (key_type = 'ecdsa-p256' AND length(public_key) = 65));
CREATE INDEX devices_status ON devices (status, device_id);

-- Only the SHA-256 of a key is kept; the key is shown once at creation.
CREATE TABLE api_keys (
  key_id text PRIMARY KEY,
  name text NOT NULL,
  role text NOT NULL CHECK (role IN ('admin', 'publisher', 'viewer')),
  key_hash bytea NOT NULL UNIQUE CHECK (length(key_hash) = 32),
  created_at timestamptz NOT NULL,
  created_by text NOT NULL,
  revoked_at timestamptz
);
CREATE UNIQUE INDEX api_keys_valid_name ON api_keys (name) WHERE revoked_at IS NULL;

-- Auth signs with the newest key whose active_from has passed, and
-- publishes every key retired less than the longest token lifetime ago.
CREATE TABLE signing_keys (
  key_id text PRIMARY KEY,
  private_key bytea NOT NULL CHECK (length(private_key) = 32),
  created_at timestamptz NOT NULL,
  active_from timestamptz NOT NULL,
  retired_at timestamptz
);
